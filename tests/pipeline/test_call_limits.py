"""Limits on fake engines: caller audio faster than real time, the inbound queue's drop-oldest policy,
idle timeout, maximum call length, and hanging up (or the transport dying) in the middle of a reply."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.fakes import audio
from tests.fakes.call import CallHarness, running_call
from tests.fakes.engines import FakeTts, ScriptedStt
from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.events import Error, SpeechStarted

WATCH_S = 0.2  # the call wakes at its next time limit: it ends well within this of it


def push_at_once(call: CallHarness, pcm: bytes) -> None:
    """Hand over all of ``pcm`` in 20 ms frames without letting the call run in between."""
    for frame in audio.frames(pcm, call.rate):
        call.call.push_audio(frame)


async def test_audio_past_the_burst_allowance_is_dropped_with_one_error(tmp_path: Path) -> None:
    async with running_call(tmp_path, input_burst_s=0.2) as call:
        push_at_once(call, audio.speech(1.0, call.rate))
        await call.pause(0.5)
        await asyncio.sleep(0.05)
        assert [(e.code, e.fatal) for e in call.output.of_type(Error)] == [("input_too_fast", False)]
        assert not call.task.done()
        record = await call.end()
    assert record[-1]["reason"] == "hangup"
    assert [e["code"] for e in record if e["kind"] == "error"] == ["input_too_fast"]


async def test_a_caller_far_ahead_of_real_time_is_cut_off(tmp_path: Path) -> None:
    async with running_call(tmp_path, input_burst_s=0.2, input_abuse_s=0.5) as call:
        push_at_once(call, audio.silence(1.0, call.rate))
        await asyncio.wait_for(asyncio.shield(call.task), 0.5)
        assert call.call.end_reason == "input_too_fast"
        end = call.record()[-1]
        assert (end["kind"], end["reason"]) == ("end", "input_too_fast")


async def test_a_full_inbound_queue_drops_the_oldest_audio(tmp_path: Path) -> None:
    async with running_call(tmp_path, inbound_queue_frames=5) as call:
        push_at_once(call, audio.speech(0.6, call.rate) + audio.silence(0.1, call.rate))
        await asyncio.sleep(0.05)
        assert call.output.of_type(SpeechStarted) == []  # the speech was the oldest: dropped
        push_at_once(call, audio.silence(0.6, call.rate) + audio.speech(0.1, call.rate))
        await call.output.wait_for(SpeechStarted, timeout=0.5)  # the newest 100 ms were kept


async def test_a_call_with_no_caller_audio_ends_after_the_idle_timeout(tmp_path: Path) -> None:
    async with running_call(tmp_path, idle_timeout_s=0.1) as call:
        await asyncio.wait_for(asyncio.shield(call.task), WATCH_S + 0.5)
        assert call.call.end_reason == "idle_timeout"
        entries = call.record()
        assert entries[-1]["at"] - entries[0]["at"] >= 0.09  # not before the timeout (stamps are rounded to ms)
        assert call.record()[-1]["reason"] == "idle_timeout"


async def test_a_call_ends_at_its_maximum_length_even_while_the_caller_talks(tmp_path: Path) -> None:
    async with running_call(tmp_path, max_call_s=0.3, idle_timeout_s=0.2) as call:
        deadline = time.monotonic() + WATCH_S + 0.5
        while not call.task.done() and time.monotonic() < deadline:
            await call.pause(0.02)
            await asyncio.sleep(0.02)
        assert call.task.done() and call.call.end_reason == "max_call_length"


async def test_hanging_up_mid_reply_stops_every_task_and_closes_the_record(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply("Well, let me tell you a long story.", hang_after=2)])  # still writing at hang-up
    async with running_call(tmp_path, stt=ScriptedStt(["weather"]), llm=llm, tts=FakeTts(seconds_per_char=0.01),
                            engine_timeout_s=2.0) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.05, since=started)
        record = await call.end("caller_hangup", timeout=0.3)
        call.call.hang_up("second_reason")  # idempotent
        sent = (len(call.output.events), call.output.audio_bytes)
        await asyncio.sleep(0.2)
        assert (len(call.output.events), call.output.audio_bytes) == sent  # nothing runs any more
        assert llm.open_streams == 0 and llm.cancelled == 1
        assert call.call.end_reason == "caller_hangup"
        assert call.record() == record and record[-1]["kind"] == "end" and record[-1]["reason"] == "caller_hangup"
        assert [e["outcome"] for e in record if e["kind"] == "turn_metrics"] == ["interrupted"]


async def test_hanging_up_before_the_reply_is_heard_reports_the_turn_as_call_ended(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Let me see."], first_token_s=1.0)  # still thinking at hang-up
    async with running_call(tmp_path, stt=ScriptedStt(["weather"]), llm=llm, engine_timeout_s=2.0) as call:
        await call.say()
        await call.output.wait_for(SpeechStarted)
        await asyncio.sleep(0.2)
        record = await call.end("caller_hangup", timeout=0.5)
    assert [e["outcome"] for e in record if e["kind"] == "turn_metrics"] == ["call_ended"]


async def test_cancelling_the_call_still_closes_its_record(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Hmm."], first_token_s=0.2)
    async with running_call(tmp_path, stt=ScriptedStt(["x"]), llm=llm) as call:
        await call.say()
        await asyncio.sleep(0.05)
        call.task.cancel()
        await asyncio.wait_for(asyncio.gather(call.task, return_exceptions=True), 0.3)
        assert call.record()[-1]["kind"] == "end" and llm.open_streams == 0
