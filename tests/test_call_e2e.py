"""End to end: real recordings streamed at real-time pace over a real socket into the real server
(Silero VAD, faster-whisper tiny.en, Qwen2.5 0.5B in llama.cpp, piper)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from tests.conftest import RunningServer, recording
from tests.speech import espeak, words
from voiceagent.client import Caller, load_audio
from voiceagent.config import Settings
from voiceagent.records import read_record

pytestmark = pytest.mark.slow

STAGES = {"endpoint_ms", "stt_ms", "llm_first_token_ms", "tts_first_audio_ms"}
MARKS = ["speech_end", "endpoint", "stt_done", "llm_first_token", "first_clause", "tts_first_audio", "audio_out"]


async def greeted(caller: Caller, **start: object) -> None:
    await caller.start(**start)
    greeting = await caller.wait_for("agent_text")
    assert greeting["kind"] == "greeting"
    await caller.wait_until_agent_quiet()


async def line_open_until(caller: Caller, done: Callable[[], object], timeout: float = 30.0) -> None:
    """Send silence, as a phone line does, until ``done()`` (the server needs the frames to end a turn)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        assert asyncio.get_running_loop().time() < deadline, caller.received.events[-20:]
        await caller.silence(0.04)


async def answered(caller: Caller) -> dict[str, Any]:
    """The ``turn_metrics`` of the caller's last turn, once that turn has been answered to the end."""

    def last() -> dict[str, Any] | None:
        turns = caller.received.of_type("turn_metrics")
        return turns[-1] if turns and turns[-1]["outcome"] == "answered" and not turns[-1]["interrupted"] else None

    await line_open_until(caller, last)
    return caller.received.of_type("turn_metrics")[-1]


async def reply_playing(caller: Caller, turn: int) -> None:
    """Wait until the reply (not a filler) of ``turn`` has been playing a little longer than
    ``continue_window_ms`` (sooner, talking over it would take it back as unheard): talking over it from
    here is detected (~0.3 s) while its first clause plays, so the caller hears part of it."""

    def sent(kind: str) -> bool:
        return any(e["turn"] == turn and e["kind"] == kind for e in caller.received.of_type("agent_text"))

    await line_open_until(caller, lambda: sent("reply"))
    window_s = Settings().continue_window_ms / 1000
    await caller.silence((1.2 if sent("filler") else 0.2) + window_s)  # a filler (about a second) plays out first


def call_record(server: RunningServer, call_id: str) -> list[dict[str, object]]:
    return read_record(Path(server.settings.records_dir) / f"{call_id}.jsonl")


async def test_a_real_caller_is_answered_with_speech_and_metrics(server: RunningServer) -> None:
    speech = load_audio(recording("jfk.flac"), 16000)
    async with Caller(server.url, 16000) as caller:
        await greeted(caller)
        spoke_end, first_audio = await caller.say(speech)
        metrics = await answered(caller)
        await caller.wait_until_agent_quiet()
        await caller.send_json({"type": "stop"})
        await caller.wait_for("ended")

    # The speaker pauses mid-sentence: the agent may start answering, be interrupted, and hear the rest
    # as the next turn (or take the first part as unfinished: "continued"). What matters is that every
    # word reached the transcript and the whole was answered.
    said = words(" ".join(caller.received.final_transcripts().values()))
    assert "fellow americans" in said and "ask not what your country can do for you" in said
    assert first_audio is not None, "no agent audio after the caller spoke"
    assert caller.received.audio_bytes_between(spoke_end, first_audio + 10) > 16000  # > 0.5 s of speech
    reply = [e for e in caller.received.of_type("agent_text") if e["turn"] == metrics["turn"]]
    assert reply and all(e["text"].strip() for e in reply)
    assert metrics["outcome"] == "answered" and not metrics["interrupted"]
    # the bundled end-of-turn model is on by default: it was asked, and its answer (or the wait) ended the turn
    assert metrics["end_of_turn"]["reason"] in ("model", "max_silence") and metrics["end_of_turn"]["turn_prob"] is not None
    assert STAGES <= set(metrics["stages"])
    for stage in ("stt", "llm_first_token", "tts_first_audio"):  # the part spent waiting for the engine
        assert 0.0 <= metrics["stages"][f"{stage}_queue_ms"] <= metrics["stages"][f"{stage}_ms"]
    assert [m for m in MARKS if m in metrics["timeline"]] == MARKS
    # a filler at the turn deadline may go out before the model's first token; the real reply cannot
    reply_marks = ["speech_end", "endpoint", "llm_first_token", "audio_out" if not metrics["filler"] else "tts_first_audio"]
    offsets = [metrics["timeline"][m] for m in reply_marks]
    assert offsets == sorted(offsets)
    assert metrics["reply_ms"] is not None and metrics["reply_ms"] >= metrics["timeline"]["llm_first_token"]
    assert metrics["turn_ms"] == metrics["timeline"]["audio_out"] > 0
    # a budget event for exactly the stages (and the whole turn) that ran past their budgets
    budgets = server.settings.budgets
    measured = {**{k.removesuffix("_ms"): v for k, v in metrics["stages"].items() if k in STAGES},
                "turn": metrics["turn_ms"]}
    over = {stage for stage, ms in measured.items() if ms > getattr(budgets, f"{stage}_ms")}
    assert {e["stage"] for e in metrics["budget_events"]} == over, (measured, metrics["budget_events"])
    for event in metrics["budget_events"]:
        assert event["budget_ms"] == getattr(budgets, f"{event['stage']}_ms")
        assert event["actual_ms"] == measured[event["stage"]]
    # the server measures from the last voiced frame; the client's view adds network and pacing
    assert metrics["turn_ms"] <= (first_audio - spoke_end) * 1000 + 400

    record = call_record(server, caller.ready["call_id"])  # type: ignore[index]
    kinds = [entry["kind"] for entry in record]
    assert kinds[0] == "start" and kinds[-1] == "end" and "transcript" in kinds and "turn_metrics" in kinds


@pytest.mark.parametrize(("name", "rate", "expected"), [
    ("fsdd_3_jackson_0.wav", 8000, {"three", "3"}),
    ("one_two_three.wav", 48000, {"one", "two", "three", "1", "2", "3"}),
])
async def test_telephone_and_studio_sample_rates(
    server: RunningServer, name: str, rate: int, expected: set[str]
) -> None:
    speech = load_audio(recording(name), rate)
    async with Caller(server.url, rate) as caller:
        await greeted(caller)
        assert caller.ready is not None and caller.ready["sample_rate"] == rate
        _, first_audio = await caller.say(speech)
        await caller.wait_for("turn_metrics")
        await caller.wait_until_agent_quiet()
    heard = set(words(" ".join(caller.received.final_transcripts().values())).split())
    assert heard & expected, caller.received.of_type("transcript")
    assert first_audio is not None
    # agent audio comes back at the caller's rate: whole 16-bit frames of out_frame_ms
    sizes = {n for _, n in caller.received.audio}
    assert max(sizes) == 2 * rate * server.settings.out_frame_ms // 1000


async def test_second_turn_remembers_the_first(server: RunningServer) -> None:
    async with Caller(server.url, 16000) as caller:
        await greeted(caller, persona="assistant")
        await caller.say(espeak("My name is Alice", 16000))
        await caller.wait_for("turn_metrics")
        await caller.wait_until_agent_quiet()
        turns_before = len(caller.received.of_type("turn_metrics"))
        await caller.say(espeak("What is my name?", 16000))
        await caller.wait_for("turn_metrics", after=turns_before)
        await caller.wait_until_agent_quiet()
        await caller.send_json({"type": "stop"})
        await caller.wait_for("ended")
    transcripts = list(caller.received.final_transcripts().values())
    assert "alice" in words(transcripts[0]) and "my name" in words(transcripts[-1])
    last_turn = caller.received.of_type("turn_metrics")[-1]["turn"]
    reply = " ".join(e["text"] for e in caller.received.of_type("agent_text") if e["turn"] == last_turn)
    assert "alice" in reply.lower(), reply
    history = call_record(server, caller.ready["call_id"])[-1]["history"]  # type: ignore[index]
    assert [m["role"] for m in history][:2] == ["assistant", "user"]  # type: ignore[index]
    assert "alice" in history[1]["content"].lower()  # type: ignore[index]


async def test_barge_in_clears_playback_and_history_keeps_what_was_heard(server: RunningServer) -> None:
    question = espeak("Can you tell me about your prices and your opening hours", 16000)
    interruption = load_audio(recording("one_two_three.wav"), 16000)
    async with Caller(server.url, 16000) as caller:
        await greeted(caller)
        _, first_audio = await caller.say(question)
        assert first_audio is not None
        answered_turn = caller.received.of_type("transcript")[-1]["turn"]
        transcripts_before = len(caller.received.of_type("transcript"))
        await reply_playing(caller, answered_turn)
        await caller.speak(interruption)  # talk over the agent's reply
        clear = await caller.wait_for("clear")
        await line_open_until(caller, lambda: len(caller.received.of_type("transcript")) > transcripts_before)
        await caller.wait_until_agent_quiet()
        await caller.send_json({"type": "stop"})
        await caller.wait_for("ended")
    assert clear["turn"] == answered_turn
    full = " ".join(e["text"] for e in caller.received.of_type("agent_text")
                    if e["turn"] == answered_turn and e["kind"] == "reply")  # a filler is not the reply
    heard = clear["heard"]
    assert len(heard) < len(full) and full.startswith(heard.rstrip(".,!?"))
    # after `clear`, agent audio stops at once (at most the frames already in flight)
    clear_at = next(at for at, e in caller.received.events if e["type"] == "clear")
    next_turn = next(at for at, e in caller.received.events if e["type"] == "transcript" and e["turn"] > answered_turn)
    assert caller.received.audio_bytes_between(clear_at + 0.05, next_turn) == 0
    # the model's history keeps only what the caller heard of the interrupted reply
    history = cast("list[dict[str, str]]", call_record(server, caller.ready["call_id"])[-1]["history"])
    asked = caller.received.of_type("transcript")[transcripts_before - 1]["text"]
    after_question = next(i for i, m in enumerate(history) if m == {"role": "user", "content": asked})
    assert heard, "the caller talked over the reply's audio: some of its words were heard"
    # (the next turn may be answered with the same words, e.g. the persona's "don't know" sentence)
    assert history[after_question + 1] == {"role": "assistant", "content": heard}


async def test_bad_input_gets_error_events_and_the_call_goes_on(server: RunningServer) -> None:
    async with Caller(server.url, 16000) as caller:
        await caller.ws.send(b"\x00\x00" * 160)
        assert (await caller.wait_for("error"))["code"] == "not_started"
        await caller.ws.send("{not json")
        assert (await caller.wait_for("error", after=1))["code"] == "bad_json"
        await caller.send_json({"type": "dance"})
        assert (await caller.wait_for("error", after=2))["code"] == "unknown_type"
        await caller.send_json({"type": "start", "sample_rate": 11025})
        assert (await caller.wait_for("error", after=3))["code"] == "unsupported_sample_rate"
        await caller.start()
        await caller.ws.send(b"\x00" * 321)
        assert (await caller.wait_for("error", after=4))["code"] == "odd_length"
        await caller.ws.send(b"\x00" * (server.settings.max_frame_bytes + 2))
        assert (await caller.wait_for("error", after=5))["code"] == "frame_too_large"
        await caller.send_json({"type": "start"})
        assert (await caller.wait_for("error", after=6))["code"] == "already_started"
        # the call still works: a real turn is answered
        await caller.wait_until_agent_quiet()
        await caller.say(load_audio(recording("fsdd_7_nicolas_0.wav"), 16000))
        metrics = await caller.wait_for("turn_metrics")
        assert metrics["outcome"] in ("answered", "empty")
        await caller.send_json({"type": "stop"})
        ended = await caller.wait_for("ended")
    assert ended["reason"] == "caller_stop"
    errors = [e for e in call_record(server, caller.ready["call_id"]) if e["kind"] == "error"]  # type: ignore[index]
    assert {e["code"] for e in errors} >= {"odd_length", "frame_too_large", "already_started"}


async def test_oversized_message_closes_only_that_connection(server: RunningServer) -> None:
    async with Caller(server.url, 16000) as other:
        await other.start()
        async with Caller(server.url, 16000) as rude:
            await rude.start()
            await rude.ws.send(b"\x00" * (server.settings.max_message_bytes + 2))
            await rude.closed.wait()
            assert rude.ws.close_code == 1009
        await other.wait_until_agent_quiet()
        await other.send_json({"type": "stop"})
        assert (await other.wait_for("ended"))["reason"] == "caller_stop"


def test_health_and_metrics_endpoints(server: RunningServer) -> None:
    health = json.loads(urllib.request.urlopen(f"{server.http}/healthz", timeout=5).read())
    assert health["status"] == "ok" and health["models"]["stt"] == "tiny.en"
    text = urllib.request.urlopen(f"{server.http}/metrics", timeout=5).read().decode()
    assert "voiceagent_turn_seconds_bucket" in text and "voiceagent_stage_seconds" in text
    assert "process_resident_memory_bytes" in text


async def test_calls_are_isolated_from_a_caller_that_misbehaves_and_vanishes(server: RunningServer) -> None:
    good_speech = load_audio(recording("fsdd_6_jackson_0.wav"), 8000)
    rude_speech = load_audio(recording("jfk.flac"), 16000)

    async def good() -> Caller:
        async with Caller(server.url, 8000) as caller:
            await greeted(caller)
            _, first = await caller.say(good_speech)
            assert first is not None
            await caller.wait_for("turn_metrics")
            await caller.send_json({"type": "stop"})
            await caller.wait_for("ended")
        return caller

    async def rude() -> str:
        caller = Caller(server.url, 16000)
        await caller.__aenter__()
        ready = await caller.start()
        await caller.ws.send(b"\x00")
        await caller.ws.send("}{")
        await caller.speak(rude_speech[: 16000 * 3])  # mid-sentence ...
        caller.ws.transport.abort()  # ... the line drops, no stop, no close handshake
        await caller.__aexit__(None, None, None)
        return str(ready["call_id"])

    good_caller, rude_id = await asyncio.gather(good(), rude())
    said = words(" ".join(good_caller.received.final_transcripts().values()))
    heard = [e for _, e in good_caller.received.events if e.get("type") in ("transcript", "agent_text", "error")]
    outcomes = [(e["turn"], e["outcome"], e.get("end_of_turn")) for e in good_caller.received.of_type("turn_metrics")]
    assert "six" in said or "6" in said, (heard, outcomes)
    for _ in range(50):
        record = call_record(server, rude_id)
        if record and record[-1]["kind"] == "end":
            break
        await asyncio.sleep(0.1)
    assert record[-1]["kind"] == "end" and record[-1]["reason"] == "disconnected"
    assert {e["code"] for e in record if e["kind"] == "error"} == {"odd_length", "bad_json"}
