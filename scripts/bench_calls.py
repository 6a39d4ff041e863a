#!/usr/bin/env python3
"""Spoken end-to-end call benchmark (same as ``voiceagent bench calls``; see README "Spoken call benchmark")."""

import argparse
import sys

from voiceagent.bench.calls.cli import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
