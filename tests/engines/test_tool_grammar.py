"""Tool calls on llama.cpp: words stream without a grammar; a reply that starts as a call is generated
again under the grammar of the tools' schemas, which a real llama.cpp parses."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from llama_cpp.llama_grammar import LlamaGrammar

from voiceagent.engines.llama_cpp import LlamaCppEngine
from voiceagent.engines.llm import Message, Tool
from voiceagent.engines.tool_grammar import tool_grammar

TOOLS = (Tool("end_call", "Hang up.", {"type": "object", "properties": {}}),
         Tool("take_message", "Take a message.", {"type": "object", "properties": {"name": {"type": "string"}},
                                                   "required": ["name"]}))
MESSAGES: list[Message] = [{"role": "user", "content": "Hi"}]


class Scripted(LlamaCppEngine):
    """The engine's tool logic over scripted generations (no model): each request takes the next script
    and is recorded with the grammar it was given."""

    def __init__(self, *scripts: list[str]) -> None:  # no model is loaded
        self.scripts = list(scripts)
        self.grammars: list[Any] = []
        self._grammars = {}

    async def _stream(self, messages: list[Message], max_tokens: int, temperature: float,
                      grammar: LlamaGrammar | None = None) -> AsyncGenerator[str, None]:
        self.grammars.append(grammar)
        for piece in self.scripts.pop(0):
            yield piece


async def reply(engine: LlamaCppEngine) -> str:
    return "".join([p async for p in engine.stream(MESSAGES, max_tokens=16, temperature=0.0, tools=TOOLS)])


async def test_words_need_no_grammar() -> None:
    engine = Scripted([" ", "Hello", " there."])
    assert await reply(engine) == " Hello there."
    assert engine.grammars == [None]


async def test_a_reply_that_starts_as_a_call_is_made_again_under_the_call_grammar() -> None:
    engine = Scripted(["<tool", "_call>"], ['{"name": "end_call", "arguments": {}}'])
    assert await reply(engine) == '{"name": "end_call", "arguments": {}}'
    assert engine.grammars[0] is None and isinstance(engine.grammars[1], LlamaGrammar)


def test_the_call_grammar_names_only_the_tools_and_parses_in_llama_cpp() -> None:
    text = tool_grammar(TOOLS, words=False)
    assert 'name ::= "end_call" | "take_message"' in text
    assert "words" not in text.split("\n")[0]  # a reply under it can only be a call
    LlamaGrammar.from_string(text, verbose=False)
    assert "| words" in tool_grammar(TOOLS).split("\n")[0]
