"""The listener with an end-of-turn model, on fake engines: a turn the model calls finished ends early, one
it calls unfinished waits for the longest silence, a failing model falls back to the silence wait (logged
once), an answer that comes after the caller went on is dropped, and the model hears the carried fragment."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from tests.fakes import audio
from tests.fakes.engines import HANG, FakeVad, ScriptedStt, ScriptedTurnModel, seconds_of
from voiceagent.config import Settings
from voiceagent.pipeline.recognizer import CallerDone, Recognizer, RecognizerEvent

RATE = 16000
SETTINGS = Settings(min_speech_ms=64, speculate_after_ms=64, endpoint_silence_ms=256, turn_min_silence_ms=96,
                    turn_max_silence_ms=800, turn_unsure_ends=False)  # the wait itself (unsure ends: test_call_reply_not_before)


class Listener:
    """A recognizer fed 20 ms pieces on a virtual clock, letting the loop run between pieces."""

    def __init__(self, turn: ScriptedTurnModel | None) -> None:
        self.stt = ScriptedStt(default="words")
        self.recognizer = Recognizer(sample_rate=RATE, vad=FakeVad(), stt=self.stt, settings=SETTINGS,
                                     agent_busy=lambda: False, turn=turn)
        self.now = 0.0
        self.events: list[tuple[float, RecognizerEvent]] = []

    async def push(self, pcm: bytes) -> None:
        for piece in audio.frames(pcm, RATE):
            self.now += len(piece) / 2 / RATE
            self.events += [(self.now, e) for e in self.recognizer.feed(piece, self.now)]
            for _ in range(5):
                await asyncio.sleep(0)

    async def turn(self, speech_s: float = 0.5, silence_s: float = 1.2) -> list[CallerDone]:
        await self.push(audio.speech(speech_s, RATE))
        await self.push(audio.silence(silence_s, RATE))
        return self.done()

    def done(self) -> list[CallerDone]:
        return [e for _, e in self.events if isinstance(e, CallerDone)]


async def test_a_turn_the_model_calls_finished_ends_before_the_silence_wait() -> None:
    model = ScriptedTurnModel([0.9])
    listener = Listener(model)
    [done] = await listener.turn()
    assert done.reason == "model" and done.turn_prob == 0.9
    assert done.silence_ms < SETTINGS.endpoint_silence_ms  # 96 ms asked, answered a frame or so later
    assert len(model.calls) == 1 and seconds_of(model.calls[0]) >= 0.5  # the turn so far, preroll included
    turn_audio, _text = listener.recognizer.take_turn(done)
    assert len(turn_audio) >= len(model.calls[0])
    listener.recognizer.close()


async def test_a_turn_the_model_calls_unfinished_waits_for_the_longest_silence() -> None:
    listener = Listener(ScriptedTurnModel([0.1]))
    await listener.push(audio.speech(0.5, RATE))
    await listener.push(audio.silence(0.6, RATE))  # past the 256 ms silence wait: still open
    assert listener.done() == []
    await listener.push(audio.silence(0.4, RATE))
    [done] = listener.done()
    assert done.reason == "max_silence" and done.silence_ms == pytest.approx(800, abs=32) and done.turn_prob == 0.1


async def test_a_failing_model_falls_back_to_the_silence_wait_and_is_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener(ScriptedTurnModel([RuntimeError("onnx broke")]))
    with caplog.at_level(logging.WARNING):
        await listener.turn()
        await listener.turn()
    assert [(d.reason, d.turn_prob) for d in listener.done()] == [("silence", None)] * 2
    assert all(d.silence_ms == pytest.approx(256, abs=32) for d in listener.done())
    assert caplog.text.count("onnx broke") == 1


async def test_a_model_that_never_answers_never_holds_the_turn_open() -> None:
    listener = Listener(ScriptedTurnModel([HANG]))
    [done] = await listener.turn()
    assert done.reason == "max_silence"
    listener.recognizer.close()


async def test_an_answer_after_the_caller_went_on_is_dropped() -> None:
    model = ScriptedTurnModel([0.95], delay_s=0.05)  # answers after the caller has resumed
    listener = Listener(model)
    await listener.push(audio.speech(0.5, RATE))
    await listener.push(audio.silence(0.14, RATE))  # asked at 96 ms of silence
    await listener.push(audio.speech(0.3, RATE))  # the caller goes on before the answer
    assert len(model.calls) == 1 and model.cancelled == 1
    await asyncio.sleep(0.1)  # the first answer would have come by now
    await listener.push(audio.silence(0.2, RATE))
    assert listener.done() == []  # the second question has not been answered yet, and the first was dropped
    await asyncio.sleep(0.1)
    await listener.push(audio.silence(0.04, RATE))
    [done] = listener.done()
    assert done.reason == "model" and len(model.calls) == 2 and seconds_of(model.calls[1]) >= 0.8


async def test_the_model_hears_the_carried_fragment_too() -> None:
    model = ScriptedTurnModel([0.9])
    listener = Listener(model)
    fragment = np.full(RATE, 0.1, dtype=np.float32)  # a first second the caller went on from
    listener.recognizer.carry(fragment)
    await listener.turn(speech_s=0.5)
    assert seconds_of(model.calls[0]) >= 1.5 and np.array_equal(model.calls[0][:RATE], fragment)


async def test_without_a_model_silence_alone_ends_the_turn() -> None:
    listener = Listener(None)
    [done] = await listener.turn()
    assert done.reason == "silence" and done.turn_prob is None
    assert done.silence_ms == pytest.approx(256, abs=32)


async def _one_turn(rate: int, piece_ms: int) -> tuple[CallerDone, float]:
    """0.5 s of voice then silence, fed in ``piece_ms`` pieces on a clock that starts at 0: the turn's end
    and when (on that clock) the listener ended it."""
    recognizer = Recognizer(sample_rate=rate, vad=FakeVad(), stt=ScriptedStt(default="words"), settings=SETTINGS,
                            agent_busy=lambda: False)
    now, done = 0.0, []
    for piece in audio.frames(audio.speech(0.5, rate) + audio.silence(1.0, rate), rate, piece_ms):
        now += len(piece) / 2 / rate
        done += [(e, now) for e in recognizer.feed(piece, now) if isinstance(e, CallerDone)]
        await asyncio.sleep(0)
    recognizer.close()
    assert len(done) == 1
    return done[0]


@pytest.mark.parametrize(("rate", "piece_ms"), [(8000, 20), (8000, 100), (16000, 100)])
async def test_the_end_of_speech_is_when_the_caller_stopped_not_when_the_listener_saw_it(
        rate: int, piece_ms: int) -> None:
    """The audio that came after the last voiced frame, in the same piece or held by the resampler, is not
    counted as voice: the turn's end is stamped with when the voice ended (0.5 s), within the detector's
    32 ms frame, whatever the size of the pieces a transport sends."""
    done, _ = await _one_turn(rate, piece_ms)
    assert 0.5 - 0.002 <= done.speech_end <= 0.5 + 0.034


async def test_a_phone_line_is_heard_without_the_resamplers_look_ahead() -> None:
    """A phone line (8 kHz) is resampled before the detector with no look-ahead: the silence wait (256 ms
    here) ends the turn a frame or so after it has passed, not 66 ms later (soxr's high-quality filter)."""
    _, ended_at = await _one_turn(8000, 20)
    assert ended_at - 0.5 <= SETTINGS.endpoint_silence_ms / 1000 + 0.032 + 0.020
