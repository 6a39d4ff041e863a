#!/usr/bin/env bash
# Runs the whole test suite (lint and type checks first). pytest's exit code 5 (nothing selected) is
# not a failure when a selection is passed in that happens to be empty.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check voiceagent tests scripts || exit 1
.venv/bin/mypy voiceagent || exit 1
.venv/bin/lint-imports || exit 1  # the layering contract in pyproject.toml
.venv/bin/python -m pytest -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "no tests were selected"
  exit 0
fi
exit $rc
