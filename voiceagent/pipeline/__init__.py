"""One call: the stages linked together, with budgets, a turn timeline, playback and barge-in."""
