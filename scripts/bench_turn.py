#!/usr/bin/env python3
"""Turn-time benchmark (overlapped vs sequential) with real recordings: thin wrapper around
``voiceagent bench turn``; see voiceagent/bench/turn.py."""

import sys

from voiceagent.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["bench", "turn", *sys.argv[1:]]))
