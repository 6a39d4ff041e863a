"""The Ollama backend against a PROTOCOL STAND-IN: no Ollama binary can be installed on these machines,
so a small HTTP server on loopback speaks Ollama's /api/chat streaming protocol (NDJSON, as documented
in Ollama's API reference). It checks the requests our client sends and streams a scripted reply."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.conftest import free_port
from voiceagent.engines.llm import EngineError
from voiceagent.engines.ollama_chat import OllamaEngine

REPLY = ["We are", " open", " on Saturday", " from nine", " to one."]


class StandIn(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandIn.requests.append({"path": self.path, **body})
        if self.path != "/api/chat" or body.get("model") != "phi3:mini":
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"error": f"model '{body.get('model')}' not found"}).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for piece in REPLY:
            line = {"model": "phi3:mini", "created_at": "2026-11-23T00:00:00Z",
                    "message": {"role": "assistant", "content": piece}, "done": False}
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
        self.wfile.write((json.dumps({"model": "phi3:mini", "message": {"role": "assistant", "content": ""},
                                      "done": True, "done_reason": "stop"}) + "\n").encode())


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_streams_a_reply_with_the_options_a_phone_turn_needs(stand_in: str) -> None:
    engine = OllamaEngine("phi3:mini", host=stand_in, timeout_s=5, keep_alive="45m", seed=11, top_k=20)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "open saturday?"}]
    pieces = [p async for p in engine.stream(messages, max_tokens=40, temperature=0.0)]  # type: ignore[arg-type]
    await engine.close()
    assert pieces == REPLY
    sent = StandIn.requests[-1]
    assert sent["stream"] is True and sent["messages"] == messages
    assert sent["options"]["num_predict"] == 40 and sent["options"]["temperature"] == 0.0
    assert sent["options"]["seed"] == 11 and sent["options"]["top_k"] == 20
    assert sent["keep_alive"] == "45m"


async def test_unknown_model_and_dead_server_raise_engine_errors(stand_in: str) -> None:
    missing = OllamaEngine("nope:1b", host=stand_in, timeout_s=5)
    with pytest.raises(EngineError, match="not found"):
        [p async for p in missing.stream([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0.0)]
    dead = OllamaEngine("phi3:mini", host=f"http://127.0.0.1:{free_port()}", timeout_s=5)
    with pytest.raises(EngineError):
        [p async for p in dead.stream([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0.0)]
