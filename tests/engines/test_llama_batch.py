"""The batched llama.cpp engine (``llm_parallel``) on the bundled tiny SmolLM2 model: real weights, real
decoding of several requests in one step."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from voiceagent.engines import bundled
from voiceagent.engines.llama_batch import BatchedLlamaEngine
from voiceagent.engines.llama_decoder import Sampling
from voiceagent.engines.llm import EngineError, Message, Tool
from voiceagent.engines.tool_grammar import tool_grammar
from voiceagent.engines.worker import JobSkipped

pytestmark = pytest.mark.slow

PERSONA = ("You answer the phone for a dental practice. Be brief and friendly, and never invent facts. We are "
           "open Monday to Friday 8 am to 6 pm; closed at weekends. A check-up is 60 dollars.")
ANIMALS = {"dog", "dogs", "cat", "cats", "lion", "lions", "tiger", "tigers", "elephant", "elephants", "horse",
           "horses", "cow", "cows", "bird", "birds", "giraffe", "giraffes", "monkey", "monkeys", "bear", "bears"}
COLOURS = {"red", "blue", "green", "yellow", "orange", "purple", "black", "white", "pink"}
LONG: list[Message] = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


def make(slots: int = 3, saved: Path | None = None, context: int = 512) -> BatchedLlamaEngine:
    return BatchedLlamaEngine(bundled.smollm2_gguf(), threads=2, context=context, label="smollm2", slots=slots,
                              saved_prompts=saved)


def ask(question: str) -> list[Message]:
    return [{"role": "system", "content": PERSONA}, {"role": "user", "content": question}]


async def reply(engine: BatchedLlamaEngine, messages: list[Message], max_tokens: int = 16) -> str:
    return "".join([p async for p in engine.stream(messages, max_tokens=max_tokens, temperature=0.0)])


async def test_concurrent_replies_are_decoded_in_one_step_and_each_answers_its_own_question() -> None:
    """Three callers at once share each decode step, and no reply takes another's words. (Not compared
    token for token with replies made alone: a batch of three rows is multiplied by other kernels than a
    row alone, and greedy decoding of a 135M model follows the last digit.)"""
    questions = ("Name three animals.", "Count from one to five.", "Name three colours.")
    engine = make()
    try:
        together = await asyncio.gather(*(reply(engine, [{"role": "user", "content": q}], max_tokens=24)
                                          for q in questions))
        assert engine.decoder.widest == 3
        assert engine.decoder.steps < 2 * 24  # about one step per token for all three, not three
    finally:
        await engine.close()
    # Which animals and colours depends on when each request joined the batch (under load, a step later
    # gives other kernels: "Lions, Tigers, Elephants" once instead of "Dog, Cat ..."), so any of them counts.
    words = [set(re.findall(r"[a-z]+|\d", text.lower())) for text in together]
    kinds = [ANIMALS, {"4", "four"}, COLOURS]  # a list of three is numbered 1 to 3 only
    for i, kind in enumerate(kinds):
        assert words[i] & kind, together  # each answers its own question ...
        assert not any(words[j] & kind for j in range(3) if j != i), together  # ... and no other


async def test_closing_the_stream_takes_the_request_out_of_the_batch() -> None:
    engine = make(slots=1)
    try:
        stream = engine.stream(LONG, max_tokens=400, temperature=0.0)
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        steps = engine.decoder.steps
        await asyncio.sleep(0.5)
        assert engine.decoder.steps - steps <= 1  # it stopped at the next step
        assert await reply(engine, ask("How much is a check-up?"))  # and its slot serves the next request
    finally:
        await engine.close()


async def test_a_request_given_up_while_every_slot_is_busy_never_starts() -> None:
    engine = make(slots=1)
    skipped = REGISTRY.get_sample_value("voiceagent_engine_jobs_skipped_total", {"engine": "llm"}) or 0.0
    try:
        holder = engine.stream(LONG, max_tokens=400, temperature=0.0)
        await anext(aiter(holder))
        waiting = asyncio.create_task(anext(aiter(engine.stream(ask("Open on Sunday?"), max_tokens=8, temperature=0.0))))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        evaluated = engine.decoder.evaluated
        await holder.aclose()  # type: ignore[attr-defined]
        await reply(engine, LONG, max_tokens=1)  # everything queued before has been dealt with
        assert engine.decoder.evaluated - evaluated < 20  # the cancelled prompt was never evaluated
    finally:
        await engine.close()
    assert REGISTRY.get_sample_value("voiceagent_engine_jobs_skipped_total", {"engine": "llm"}) == skipped + 1


async def test_a_call_starts_from_its_persona_prompt_and_its_next_turn_from_its_own_slot() -> None:
    engine = make()
    try:
        await engine.warm(["You answer the phone for a garage. Be brief.", PERSONA])
        evaluated = engine.decoder.evaluated
        first = await reply(engine, ask("Open on Sunday?"))
        persona_tokens = len(engine.tokens([{"role": "system", "content": PERSONA}]))
        assert engine.decoder.evaluated - evaluated < persona_tokens / 2  # the persona's prompt was shared
        cold = make()
        try:
            assert await reply(cold, ask("Open on Sunday?")) == first  # as if it had evaluated everything
        finally:
            await cold.close()
        turn = [*ask("Open on Sunday?"), {"role": "assistant", "content": first}, {"role": "user", "content": "And Monday?"}]
        await reply(engine, ask("How much is a check-up?"))  # another call takes another slot meanwhile
        evaluated = engine.decoder.evaluated
        await reply(engine, turn, max_tokens=1)
        new_words = len(engine.tokens(turn)) - len(engine.tokens(ask("Open on Sunday?")))
        assert engine.decoder.evaluated - evaluated < new_words  # not even its reply again
    finally:
        await engine.close()


async def test_a_prefill_keeps_the_conversation_evaluated_for_the_next_turn() -> None:
    engine = make()
    try:
        await engine.prefill(ask("Open on Sunday?"))
        evaluated = engine.decoder.evaluated
        await reply(engine, ask("Open on Sunday?"), max_tokens=1)
        assert engine.decoder.evaluated - evaluated == 1  # the last prompt token again, for its logits
    finally:
        await engine.close()


async def test_a_caller_turn_evicts_a_prefill_when_every_slot_is_busy() -> None:
    engine = make(slots=1, context=2048)
    try:
        long_history = [{"role": "system", "content": PERSONA + " " + "We also fix crowns and bridges. " * 200},
                        {"role": "user", "content": "Hi"}]
        prefill = asyncio.create_task(engine.prefill(long_history))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert await reply(engine, ask("How much is a check-up?"), max_tokens=4)
        with pytest.raises(JobSkipped):
            await prefill
    finally:
        await engine.close()


async def test_warmed_prompts_are_saved_and_a_restarted_engine_loads_them(tmp_path: Path) -> None:
    first = make(saved=tmp_path)
    try:
        await first.warm([PERSONA])
        expected = await reply(first, ask("How much is a check-up?"))
    finally:
        await first.close()
    assert len(list(tmp_path.glob("*.npz"))) == 1
    second = make(saved=tmp_path)
    try:
        await second.warm([PERSONA])
        assert second.decoder.evaluated == 0  # loaded, not evaluated
        assert await reply(second, ask("How much is a check-up?")) == expected
    finally:
        await second.close()


async def test_a_prompt_longer_than_the_context_is_an_engine_error() -> None:
    engine = make(context=256)
    try:
        with pytest.raises(EngineError, match="does not fit"):
            await reply(engine, [{"role": "user", "content": "word " * 400}])
    finally:
        await engine.close()


async def test_a_tool_call_under_the_grammar_names_a_tool() -> None:
    tools = (Tool("end_call", "Hang up."), Tool("take_message", "Take a message."))
    engine = make()
    try:
        grammar = Sampling(0.0, 40, 7, tool_grammar(tools, words=False))
        call = "".join([p async for p in engine._run(LONG, 40, grammar)])
    finally:
        await engine.close()
    assert call.startswith(('{"name": "end_call", "arguments": {', '{"name": "take_message", "arguments": {'))


async def test_a_prefill_waits_while_a_caller_is_answered_and_is_skipped_if_that_takes_too_long() -> None:
    engine = make()
    try:
        holder = engine.stream(LONG, max_tokens=400, temperature=0.0)
        await anext(aiter(holder))
        with pytest.raises(JobSkipped):
            await engine.prefill(ask("Open on Sunday?"))
        assert engine.decoder.slots[1].tokens == engine.decoder.slots[2].tokens == []  # it never started
        await holder.aclose()  # type: ignore[attr-defined]
    finally:
        await engine.close()


async def test_a_request_the_engine_cannot_run_gets_an_engine_error_and_the_engine_serves_on() -> None:
    engine = make()
    try:
        async def bad() -> list[str]:
            return [p async for p in engine._run(LONG, 8, Sampling(0.0, 40, 7, "root ::= ((("))]

        with pytest.raises(EngineError, match="grammar"):
            await asyncio.wait_for(bad(), 30)  # an error, not a request left hanging
        assert await reply(engine, ask("How much is a check-up?"))
    finally:
        await engine.close()
