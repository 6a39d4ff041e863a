"""The logic of each step of a turn, independent of which engine runs it."""
