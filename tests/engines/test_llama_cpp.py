"""The embedded llama.cpp backend on the bundled tiny SmolLM2 model (real weights, real inference)."""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import threading
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from voiceagent.engines import bundled
from voiceagent.engines.llama_cpp import LlamaCppEngine
from voiceagent.engines.llm import Message

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> LlamaCppEngine:
    return LlamaCppEngine(bundled.smollm2_gguf(), threads=2, context=512, label="smollm2")


async def test_streams_several_pieces(engine: LlamaCppEngine) -> None:
    messages = [{"role": "user", "content": "Count from one to ten."}]
    pieces = [p async for p in engine.stream(messages, max_tokens=24, temperature=0.0)]  # type: ignore[arg-type]
    assert len(pieces) > 3 and "".join(pieces).strip()


async def test_closing_the_stream_stops_generation(engine: LlamaCppEngine) -> None:
    messages = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    stream = engine.stream(messages, max_tokens=400, temperature=0.0)  # type: ignore[arg-type]
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    await engine.worker.run(lambda: None)  # wait until the generation thread has let go
    assert 1 <= engine.last_generated < 100


async def test_a_stream_given_up_while_it_waits_for_the_model_never_evaluates_its_prompt(engine: LlamaCppEngine) -> None:
    """Another call holds the model; a turn that is cancelled meanwhile (barge-in) must not pay for its
    prompt once the model is free."""
    messages = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    busy = threading.Event()
    holder = engine.worker.submit(lambda: busy.wait(10))
    skipped = _sample("voiceagent_engine_jobs_skipped_total", engine="llm")
    waiting = asyncio.create_task(anext(aiter(engine.stream(messages, max_tokens=400, temperature=0.0))))  # type: ignore[arg-type]
    await asyncio.sleep(0.1)  # queued behind the holder
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    engine.last_generated = -1
    busy.set()
    await asyncio.wrap_future(holder)
    await engine.worker.run(lambda: None)  # anything still queued has run by now
    assert engine.last_generated == -1  # the generation never started
    assert _sample("voiceagent_engine_jobs_skipped_total", engine="llm") == skipped + 1


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_bundled_qwen_is_joined_once_from_its_parts() -> None:
    path = bundled.qwen_gguf()
    assert path.read_bytes()[:4] == b"GGUF"
    assert bundled.qwen_gguf() == path and path.stat().st_size > 400_000_000



async def test_sampling_follows_the_configured_seed_and_top_k() -> None:
    """Fresh engines, so each evaluates the prompt the same way (a reused prefix changes the numerics)."""
    messages = [{"role": "user", "content": "Invent a name for a boat."}]

    async def reply(temperature: float = 1.5, **sampling: int) -> str:
        model = LlamaCppEngine(bundled.smollm2_gguf(), threads=2, context=512, label="smollm2", **sampling)
        try:
            pieces = [p async for p in model.stream(messages, max_tokens=16, temperature=temperature)]  # type: ignore[arg-type]
        finally:
            await model.close()
        return "".join(pieces)

    first = await reply(seed=7)
    assert await reply(seed=7, batch_threads=1) == first  # the same seed samples the same reply
    assert await reply(seed=8) != first
    assert await reply(top_k=1) == await reply(temperature=0.0)  # one candidate left: greedy


async def _tokens_evaluated_for_first_persona_after_the_second(engine: LlamaCppEngine) -> int:
    """Warm two personas, then ask with the first one: how many tokens did the model evaluate?"""
    first = "You answer the phone for a dental practice. Be brief and friendly, and never invent facts."
    second = "You answer the phone for a garage that fixes cars. Be brief and friendly."
    await engine.warm([first, second])
    evaluated = _count_evaluated(engine)
    messages = [{"role": "system", "content": first}, {"role": "user", "content": "Open on Sunday?"}]
    async for _ in engine.stream(messages, max_tokens=1, temperature=0.0):  # type: ignore[arg-type]
        pass
    return sum(evaluated)


async def test_the_state_cache_keeps_each_persona_prefix() -> None:
    """Without a state cache, warming a second persona evicts the first one's prompt from the model;
    with it, a call of the first persona starts from its saved state and evaluates only the new words."""
    path = bundled.smollm2_gguf()
    cached = LlamaCppEngine(path, threads=2, context=512, label="smollm2", state_cache_mb=64)
    plain = LlamaCppEngine(path, threads=2, context=512, label="smollm2")
    with_cache = await _tokens_evaluated_for_first_persona_after_the_second(cached)
    without = await _tokens_evaluated_for_first_persona_after_the_second(plain)
    assert with_cache < without / 2, (with_cache, without)


async def test_a_persona_prompt_stays_cached_however_many_turns_other_calls_take() -> None:
    """The personas' warmed states are pinned: a cache that holds about one call's state, filled with
    another persona's turns, still starts the first persona's call from its prompt, and the reply is the
    one a model that evaluated everything gives."""
    path = bundled.smollm2_gguf()
    first = ("You answer the phone for a dental practice. Be brief and friendly, and never invent facts. We are "
             "open Monday to Friday 8 am to 6 pm and Saturday 9 am to 1 pm; closed on Sundays. A check-up is 60 "
             "dollars, teeth whitening 250 dollars. The practice is at 12 Harbour Street.")
    second = "You answer the phone for a garage that fixes cars. Be brief and friendly."
    engine = LlamaCppEngine(path, threads=2, context=512, label="smollm2", state_cache_mb=1)
    await engine.warm([first, second])
    for question in ("Open on Sunday?", "How much is an oil change?", "Do you fix brakes?", "Where are you?"):
        messages = [{"role": "system", "content": second}, {"role": "user", "content": question}]
        async for _ in engine.stream(messages, max_tokens=8, temperature=0.0):  # type: ignore[arg-type]
            pass
    evaluated = _count_evaluated(engine)
    asked: list[Message] = [{"role": "system", "content": first}, {"role": "user", "content": "Name three colours."}]
    replied = "".join([p async for p in engine.stream(asked, max_tokens=8, temperature=0.0)])
    assert evaluated[0] < len(engine._llm.tokenize(first.encode())) / 2  # the new words, not the prompt
    fresh = LlamaCppEngine(path, threads=2, context=512, label="smollm2")
    assert replied == "".join([p async for p in fresh.stream(asked, max_tokens=8, temperature=0.0)])


async def test_saved_states_leave_out_the_logits_buffer_and_replies_do_not_change() -> None:
    """A saved state holds the KV cache and tokens, not llama-cpp-python's n_batch x n_vocab logits (311 MB
    per state for Qwen2.5); a reply that starts from a saved state is the reply a fresh model gives."""
    path = bundled.smollm2_gguf()
    messages: list[Message] = [{"role": "system", "content": "You are a helpful assistant."},
                               {"role": "user", "content": "Name three colours."}]
    fresh = LlamaCppEngine(path, threads=2, context=512, label="smollm2")
    cached = LlamaCppEngine(path, threads=2, context=512, label="smollm2", state_cache_mb=64)
    expected = "".join([p async for p in fresh.stream(messages, max_tokens=12, temperature=0.0)])
    await cached.warm(["You are a helpful assistant."])
    await cached.warm(["Something else entirely, to move the live context away."])
    replied = "".join([p async for p in cached.stream(messages, max_tokens=12, temperature=0.0)])
    state = cached._llm.save_state()
    assert state.scores.nbytes <= cached._llm.n_vocab() * 4  # one row of logits at most
    assert replied == expected
    # the KV cache sits in a mapping of its own (returned to the system when dropped), exactly its size
    assert isinstance(state.llama_state, mmap.mmap) and len(state.llama_state) == state.llama_state_size > 0
    await cached.warm(["Something else entirely, to move the live context away."])
    cached._llm.load_state(state)  # read in place from the mapping
    assert "".join([p async for p in cached.stream(messages, max_tokens=12, temperature=0.0)]) == expected


async def test_a_restart_loads_the_warmed_prompts_instead_of_evaluating_them(tmp_path: Path) -> None:
    """The second engine (a restarted server) evaluates nothing to warm the same persona, starts later
    requests from the loaded state, and replies exactly as a model that evaluated everything."""
    path = bundled.smollm2_gguf()
    prompt = "You answer the phone for a dental practice. Be brief and friendly, and never invent facts."
    messages: list[Message] = [{"role": "system", "content": prompt}, {"role": "user", "content": "Name three colours."}]
    first = LlamaCppEngine(path, threads=2, context=512, label="smollm2", saved_prompts=tmp_path)
    await first.warm([prompt])
    expected = "".join([p async for p in first.stream(messages, max_tokens=12, temperature=0.0)])
    [saved] = tmp_path.glob("*.npz")

    restarted = LlamaCppEngine(path, threads=2, context=512, label="smollm2", state_cache_mb=64, saved_prompts=tmp_path)
    evaluated = _count_evaluated(restarted)
    await restarted.warm([prompt])
    assert evaluated == []  # loaded, not evaluated
    replied = "".join([p async for p in restarted.stream(messages, max_tokens=12, temperature=0.0)])
    assert replied == expected
    assert evaluated[0] < len(restarted._llm.tokenize(prompt.encode()))  # the new words, not the persona's prompt

    # another model (or a changed prompt, context size, llama-cpp version) never loads it: a new name
    other = LlamaCppEngine(path, threads=2, context=1024, label="smollm2", saved_prompts=tmp_path)
    await other.warm([prompt])
    assert len(list(tmp_path.glob("*.npz"))) == 2

    # a damaged file is set aside with a warning, and the prompt evaluated again
    saved.write_bytes(saved.read_bytes()[:1000])
    damaged = LlamaCppEngine(path, threads=2, context=512, label="smollm2", saved_prompts=tmp_path)
    evaluated = _count_evaluated(damaged)
    await damaged.warm([prompt])
    assert sum(evaluated) > 20 and saved.stat().st_size > 1000  # evaluated, and saved whole again


def _count_evaluated(engine: LlamaCppEngine) -> list[int]:
    evaluated: list[int] = []
    original = engine._llm.eval

    def counting(tokens: list[int]) -> None:
        evaluated.append(len(tokens))
        original(tokens)

    engine._llm.eval = counting  # type: ignore[method-assign]
    return evaluated


async def test_a_request_with_slow_first_words_is_logged_with_what_its_prompt_cost(
    engine: LlamaCppEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import voiceagent.engines.llama_cpp as module

    messages: list[Message] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
    monkeypatch.setattr(module, "SLOW_FIRST_PIECE_S", 0.0)
    with caplog.at_level("WARNING", logger="voiceagent.engines.llama_cpp"):
        async for _ in engine.stream(messages, max_tokens=2, temperature=0.0):
            pass
    [logged] = [r.getMessage() for r in caplog.records if "first words after" in r.getMessage()]
    evaluated = int(logged.split(";")[1].split()[0])
    assert 0 < evaluated <= len(engine._llm.tokenize(b"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n")) + 2
