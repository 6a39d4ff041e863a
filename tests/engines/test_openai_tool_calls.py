"""Tool calls through the OpenAI-compatible backend against a PROTOCOL STAND-IN for an OpenAI-compatible
server: llama-cpp-python's server (the real one in test_openai_chat.py) cannot stream a tool call chosen
by the model (its ``chatml-function-calling`` format refuses ``stream`` with ``tool_choice="auto"``, the
others need a function-calling model), so a small HTTP server on loopback speaks ``/v1/chat/completions``
streaming as OpenAI documents it: server-sent ``chat.completion.chunk`` events whose ``delta.tool_calls``
carry a call in fragments (index; id, type and name in the first; the arguments' JSON text in pieces),
a last chunk with ``finish_reason: "tool_calls"``, then ``data: [DONE]``. It keeps the request bodies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.conftest import free_port
from voiceagent.engines.llm import Message, Tool
from voiceagent.engines.openai_chat import OpenAIEngine
from voiceagent.personas.actions import parse_call

BOOK = Tool("book_appointment", "Book an appointment.", {
    "type": "object",
    "properties": {"name": {"type": "string", "description": "the caller's name"},
                   "day": {"type": "string", "description": "the day"}},
    "required": ["name", "day"],
    "additionalProperties": False,
})
END = Tool("end_call", "Hang up.", {"type": "object", "properties": {}, "required": []})
BOOKED = ('<tool_call>{"name": "book_appointment", "arguments": {"name": "Ann Lee", "day": "Friday"}}'
          "</tool_call>")  # the reply text of a call of BOOK
WORDS = ["We are", " open", " on Saturday."]


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk`` event."""
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764000000, "model": "stand-in",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def words(*pieces: str) -> list[dict[str, Any]]:
    """A reply in words, ending with ``finish_reason: "stop"``."""
    first = [chunk({"role": "assistant", "content": ""})]
    return first + [chunk({"content": piece}) for piece in pieces] + [chunk({}, "stop")]


def call(name: str, *arguments: str, index: int = 0) -> list[dict[str, Any]]:
    """One tool call's fragments: the id, type and name first, then the arguments' text in ``arguments``."""
    head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": ""}}
    return [chunk({"role": "assistant", "content": None, "tool_calls": [head]})] + [
        chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}) for piece in arguments]


class StandIn(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    script: ClassVar[list[dict[str, Any]]] = []  # the events of the reply

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandIn.requests.append({"path": self.path, **body})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for event in [*map(json.dumps, StandIn.script), "[DONE]"]:
                self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (after a tool call)


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.requests = []
    StandIn.script = words(*WORDS)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


async def ask(base_url: str, tools: list[Tool]) -> list[str]:
    """One turn's pieces from the stand-in, with ``tools`` offered."""
    engine = OpenAIEngine("stand-in", base_url=base_url, api_key="", timeout_s=5)
    messages: list[Message] = [{"role": "user", "content": "Book me in on Friday, Ann Lee."}]
    pieces = [p async for p in engine.stream(messages, max_tokens=40, temperature=0.0, tools=tools)]
    await engine.close()
    return pieces


async def test_tools_are_offered_natively_with_auto_choice(stand_in: str) -> None:
    await ask(stand_in, [BOOK, END])
    sent = StandIn.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["stream"] is True
    assert sent["tool_choice"] == "auto"
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "book_appointment", "description": "Book an appointment.",
                                          "parameters": BOOK.parameters}},
        {"type": "function",
         "function": {"name": "end_call", "description": "Hang up.", "parameters": END.parameters}},
    ]


async def test_no_tools_sends_neither_tools_nor_tool_choice(stand_in: str) -> None:
    assert await ask(stand_in, []) == WORDS
    assert "tools" not in StandIn.requests[-1] and "tool_choice" not in StandIn.requests[-1]


async def test_words_with_tools_offered_stream_unchanged(stand_in: str) -> None:
    assert await ask(stand_in, [BOOK, END]) == WORDS


async def test_a_call_in_fragments_comes_back_as_one_tagged_piece(stand_in: str) -> None:
    StandIn.script = [*call("book_appointment", '{"na', 'me": "Ann', ' Lee", "day"', ': "Friday"}'),
                      chunk({}, "tool_calls")]
    pieces = await ask(stand_in, [BOOK, END])
    assert pieces == [BOOKED]
    assert parse_call(pieces[0]) == ("book_appointment", {"name": "Ann Lee", "day": "Friday"})


async def test_nothing_is_read_after_the_tool_calls_finish(stand_in: str) -> None:
    StandIn.script = [*call("end_call", "{}"), chunk({}, "tool_calls"), *words("Goodbye.")]
    assert [parse_call(p) for p in await ask(stand_in, [BOOK, END])] == [("end_call", {})]


async def test_a_call_without_its_finish_reason_ends_with_the_stream(stand_in: str) -> None:
    StandIn.script = [*call("end_call", "{}"), chunk({}, "stop")]  # some servers say stop
    assert [parse_call(p) for p in await ask(stand_in, [BOOK, END])] == [("end_call", {})]


async def test_empty_arguments_are_no_arguments(stand_in: str) -> None:
    StandIn.script = [*call("end_call"), chunk({}, "tool_calls")]
    assert await ask(stand_in, [BOOK, END]) == ['<tool_call>{"name": "end_call", "arguments": {}}</tool_call>']


async def test_only_the_first_of_several_calls_is_the_reply(stand_in: str) -> None:
    StandIn.script = [*call("end_call", "{}"), *call("book_appointment", '{"name": "Ann"}', index=1),
                      chunk({}, "tool_calls")]
    assert [parse_call(p) for p in await ask(stand_in, [BOOK, END])] == [("end_call", {})]


async def test_malformed_arguments_come_back_as_received_and_unreadable(stand_in: str) -> None:
    StandIn.script = [*call("book_appointment", '{"name": "Ann', ' Lee", "day":'), chunk({}, "tool_calls")]
    pieces = await ask(stand_in, [BOOK, END])
    assert pieces == ['<tool_call>{"name": "book_appointment", "arguments": {"name": "Ann Lee", "day":}</tool_call>']
    assert parse_call(pieces[0]) is None  # the call side asks the model again, without tools
