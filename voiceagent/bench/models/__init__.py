"""``voiceagent bench models``: speed against relevance for every reachable language model."""
