"""The fallback engine hands the tools offered to whichever model answers, and passes a call on as it came."""

from __future__ import annotations

from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.engines.fallback import FallbackEngine
from voiceagent.engines.llm import Tool
from voiceagent.personas.actions import parse_call

END = Tool("end_call", "Hang up.", {"type": "object", "properties": {}, "required": []})
CALL = '<tool_call>{"name": "end_call", "arguments": {}}</tool_call>'


async def reply(engine: FallbackEngine) -> str:
    """One turn's text, with ``end_call`` offered."""
    pieces = [p async for p in engine.stream([{"role": "user", "content": "Bye."}], max_tokens=40, temperature=0.0,
                                             tools=[END])]
    return "".join(pieces)


async def test_the_primary_gets_the_tools_and_its_call_comes_through() -> None:
    primary, fallback = ScriptedLlm([CALL]), ScriptedLlm()
    text = await reply(FallbackEngine(primary, fallback, after_s=1.0))
    assert primary.tools_offered == [("end_call",)] and fallback.tools_offered == []
    assert parse_call(text) == ("end_call", {})


async def test_the_fallback_gets_the_same_tools_when_the_primary_fails() -> None:
    primary, fallback = ScriptedLlm([Reply(CALL, fail_after=0)]), ScriptedLlm([CALL])
    text = await reply(FallbackEngine(primary, fallback, after_s=1.0))
    assert primary.tools_offered == fallback.tools_offered == [("end_call",)]
    assert parse_call(text) == ("end_call", {})
