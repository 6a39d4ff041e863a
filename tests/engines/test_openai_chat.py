"""The OpenAI-compatible backend against a real OpenAI-compatible server: llama-cpp-python's own server
(``python -m llama_cpp.server``) serving the bundled SmolLM2 GGUF on loopback. Tool calls coming back are
tested against a protocol stand-in (test_openai_tool_calls.py): this server cannot stream one chosen by the
model; here the real server takes the native ``tools`` request and answers in words."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import free_port
from voiceagent.engines import bundled
from voiceagent.engines.llm import EngineError, Message, Tool
from voiceagent.engines.openai_chat import OpenAIEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    pytest.importorskip("llama_cpp.server")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled.smollm2_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "512", "--n_threads", "2", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/models", timeout=1)
            break
        except OSError:
            assert proc.poll() is None, "llama_cpp.server exited"
            time.sleep(0.5)
    yield base
    proc.terminate()
    proc.wait(20)


async def test_streams_from_a_real_openai_compatible_server(server: str) -> None:
    engine = OpenAIEngine("smollm2", base_url=server, api_key="", timeout_s=30)
    await engine.warm(["You answer briefly."])
    messages = [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Say hello."}]
    pieces = [p async for p in engine.stream(messages, max_tokens=16, temperature=0.0)]  # type: ignore[arg-type]
    await engine.close()
    assert len(pieces) >= 2 and "".join(pieces).strip()


async def test_a_real_server_takes_native_tools_and_answers_in_words(server: str) -> None:
    engine = OpenAIEngine("smollm2", base_url=server, api_key="", timeout_s=30)
    end = Tool("end_call", "Hang up, when the caller says goodbye.", {"type": "object", "properties": {}})
    messages: list[Message] = [{"role": "system", "content": "You answer briefly."},
                               {"role": "user", "content": "Say hello."}]
    pieces = [p async for p in engine.stream(messages, max_tokens=16, temperature=0.0, tools=[end])]
    await engine.close()
    assert "".join(pieces).strip() and "<tool_call>" not in "".join(pieces)


async def test_refused_connection_is_an_engine_error() -> None:
    engine = OpenAIEngine("x", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="", timeout_s=5)
    with pytest.raises(EngineError):
        [p async for p in engine.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0.0)]
    await engine.close()
