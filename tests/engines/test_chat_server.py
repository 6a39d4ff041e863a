"""The core every model-server backend shares: a tool call becomes reply text and ends the reply."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import pytest

from voiceagent.engines.chat_server import ServerChatEngine, ServerToolCall
from voiceagent.engines.llm import EngineError, Message, Tool
from voiceagent.personas.actions import parse_call

END = ServerToolCall("end_call", "{}")


class Scripted(ServerChatEngine):
    """A backend whose server 'sends' ``script``; an exception in it is the client library failing."""

    label = where = "scripted server"
    client_errors = (ConnectionError,)

    def __init__(self, *script: str | ServerToolCall | Exception) -> None:
        self.script = script

    async def request(
        self, messages: list[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool],
    ) -> AsyncGenerator[str | ServerToolCall, None]:
        for item in self.script:
            if isinstance(item, Exception):
                raise item
            yield item

    async def close(self) -> None:
        pass


async def pieces(engine: ServerChatEngine) -> list[str]:
    return [p async for p in engine.stream([{"role": "user", "content": "Bye."}], max_tokens=9, temperature=0.0)]


async def test_a_call_is_one_piece_and_ends_the_reply() -> None:
    engine = Scripted("", " ", END, ServerToolCall("book_appointment", "{}"), "Goodbye.")
    assert await pieces(engine) == [" ", '<tool_call>{"name": "end_call", "arguments": {}}</tool_call>']


async def test_a_call_after_words_is_dropped() -> None:
    assert await pieces(Scripted("Sure.", END, "Later words are not read.")) == ["Sure."]


async def test_client_failures_are_engine_errors() -> None:
    with pytest.raises(EngineError, match="scripted server: refused"):
        await pieces(Scripted("Hi", ConnectionError("refused")))


@pytest.mark.parametrize(("arguments", "parsed"), [
    ('{"day": "Friday"}', ("book", {"day": "Friday"})),
    ("  ", ("book", {})),  # no arguments at all
    ('"Friday"', ("book", {})),  # valid JSON, not an object: the desk asks for what is missing
    ('{"day": "Fri', None),  # not JSON: kept as received, unreadable
])
def test_call_text(arguments: str, parsed: tuple[str, dict[str, object]] | None) -> None:
    text = ServerToolCall("book", arguments).text()
    assert text.startswith("<tool_call>{") and text.endswith("}</tool_call>")
    assert parse_call(text) == parsed
