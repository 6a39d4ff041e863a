"""The Ollama backend against a PROTOCOL STAND-IN: no Ollama binary can be installed on these machines,
so a small HTTP server on loopback speaks Ollama's /api/chat streaming protocol (NDJSON, as documented
in Ollama's API reference). It checks the requests our client sends and streams a scripted reply: words,
or a tool call the way Ollama streams one (one chunk with empty content and ``message.tool_calls``, each
call whole with its arguments as an object, then the ``done`` chunk; see "Streaming responses with tool
calling", ollama.com/blog/streaming-tool)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.conftest import free_port
from voiceagent.engines.chat_server import ServerToolCall
from voiceagent.engines.llm import EngineError, Message, Tool
from voiceagent.engines.ollama_chat import OllamaEngine
from voiceagent.personas.actions import parse_call

REPLY = ["We are", " open", " on Saturday", " from nine", " to one."]
BOOK = Tool("book_appointment", "Book an appointment.", {
    "type": "object",
    "properties": {"name": {"type": "string", "description": "the caller's name"},
                   "day": {"type": "string", "description": "the day"}},
    "required": ["name", "day"],
})
END = Tool("end_call", "Hang up.", {"type": "object", "properties": {}, "required": []})
BOOKED = ('<tool_call>{"name": "book_appointment", "arguments": {"name": "Ann Lee", "day": "Friday"}}'
          "</tool_call>")  # the reply text of a call of BOOK
ARGUMENTS = {"name": "Ann Lee", "day": "Friday"}


def words(*pieces: str) -> list[dict[str, Any]]:
    """Stand-in chunks' messages: the reply in words."""
    return [{"role": "assistant", "content": piece} for piece in pieces]


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A stand-in chunk's message: one tool call, as Ollama streams it."""
    calls = [{"function": {"name": name, "arguments": arguments}}]
    return {"role": "assistant", "content": "", "tool_calls": calls}


class StandIn(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    script: ClassVar[list[dict[str, Any]]] = []  # the messages of the reply's chunks

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
        lines = [{"model": "phi3:mini", "created_at": "2026-11-23T00:00:00Z", "message": message, "done": False}
                 for message in StandIn.script]
        lines.append({"model": "phi3:mini", "message": {"role": "assistant", "content": ""}, "done": True,
                      "done_reason": "stop"})
        try:
            for line in lines:
                self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (after a tool call)


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.requests = []
    StandIn.script = words(*REPLY)
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


async def ask(host: str, tools: list[Tool]) -> list[str]:
    """One turn's pieces from the stand-in, with ``tools`` offered."""
    engine = OllamaEngine("phi3:mini", host=host, timeout_s=5)
    messages: list[Message] = [{"role": "user", "content": "Book me in on Friday, Ann Lee."}]
    pieces = [p async for p in engine.stream(messages, max_tokens=40, temperature=0.0, tools=tools)]
    await engine.close()
    return pieces


async def test_tools_are_offered_in_the_native_tools_parameter(stand_in: str) -> None:
    await ask(stand_in, [BOOK, END])
    offered = StandIn.requests[-1]["tools"]
    assert [t["type"] for t in offered] == ["function", "function"]
    assert [t["function"]["name"] for t in offered] == ["book_appointment", "end_call"]
    assert offered[0]["function"]["description"] == "Book an appointment."
    assert offered[0]["function"]["parameters"] == BOOK.parameters


async def test_no_tools_offers_none(stand_in: str) -> None:
    await ask(stand_in, [])
    assert not StandIn.requests[-1].get("tools")  # the client library always sends the key: [] is none


async def test_a_tool_call_comes_back_as_one_tagged_piece(stand_in: str) -> None:
    StandIn.script = [tool_call("book_appointment", ARGUMENTS)]
    pieces = await ask(stand_in, [BOOK, END])
    assert pieces == [BOOKED]
    assert parse_call(pieces[0]) == ("book_appointment", ARGUMENTS)


async def test_only_the_first_call_is_the_reply_and_nothing_is_read_after_it(stand_in: str) -> None:
    StandIn.script = [tool_call("end_call", {}), tool_call("book_appointment", ARGUMENTS), *words("Bye.")]
    pieces = await ask(stand_in, [BOOK, END])
    assert [parse_call(p) for p in pieces] == [("end_call", {})]
    engine = OllamaEngine("phi3:mini", host=stand_in, timeout_s=5)
    sent = [p async for p in engine.request([{"role": "user", "content": "Bye."}], max_tokens=9, temperature=0.0,
                                            tools=[END])]
    await engine.close()
    assert sent == [ServerToolCall("end_call", "{}")]


@pytest.mark.parametrize("reply", [
    REPLY,
    ['<tool_call>{"name": "end_call", "arguments": {}}', "</tool_call>"],  # the tag written as words, passed on
])
async def test_words_with_tools_offered_stream_unchanged(stand_in: str, reply: list[str]) -> None:
    StandIn.script = words(*reply)
    assert await ask(stand_in, [BOOK, END]) == reply


async def test_a_call_after_words_is_dropped(stand_in: str) -> None:
    StandIn.script = [*words(" ", "Sure,", " one moment."), tool_call("book_appointment", ARGUMENTS)]
    assert await ask(stand_in, [BOOK, END]) == [" ", "Sure,", " one moment."]


async def test_a_call_after_blanks_is_the_reply(stand_in: str) -> None:
    StandIn.script = [*words("\n", " "), tool_call("end_call", {})]
    pieces = await ask(stand_in, [BOOK, END])
    assert pieces[:2] == ["\n", " "] and parse_call("".join(pieces)) == ("end_call", {})
