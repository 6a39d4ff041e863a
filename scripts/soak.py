#!/usr/bin/env python3
"""Latency soak test against a running server (same as ``voiceagent soak``; see README "Soak test")."""

import argparse
import logging
import sys

from voiceagent.soak.cli import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.WARNING)
    sys.exit(run(parser.parse_args()))
