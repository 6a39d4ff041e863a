"""The one place that knows how a :class:`~voiceagent.pipeline.call.Call` is built from fake engines.

``async with running_call(tmp_path, llm=ScriptedLlm([...])) as call:`` starts a call (greeting heard to
the end unless ``wait_greeting=False``), hands a :class:`CallHarness` to the test, and on leaving hangs up,
waits for :meth:`Call.run` to return and fails the test if it raised or did not return in time.
Settings are tuned so a turn takes milliseconds: short endpointing silence, small budgets, a short
engine timeout, and caller audio allowed to arrive far faster than real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.fakes import audio
from tests.fakes.engines import FakeTts, FakeVad, ScriptedStt, ScriptedTurnModel
from tests.fakes.llm import ScriptedLlm
from tests.fakes.output import RecordingOutput
from voiceagent.config import Budgets, Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import AgentText, TurnMetrics
from voiceagent.personas import Persona
from voiceagent.pipeline.call import Call
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.records import read_record

PERSONA = Persona(
    name="tester",
    description="The persona of the fake-engine call tests.",
    system="You are a test agent.",
    greeting="Hello there.",
    fillers=("One moment.", "Let me see."),
    apology="Sorry, please say that again.",
)

FAST_BUDGETS = Budgets(endpoint_ms=100, stt_ms=100, llm_first_token_ms=100, tts_first_audio_ms=100, turn_ms=100)


def fast_settings(records_dir: str | Path, **overrides: Any) -> Settings:
    """Settings for fast fake calls: 32 ms VAD frames, so a turn ends 96 ms after its last speech."""
    base = Settings(
        records_dir=str(records_dir),
        min_speech_ms=64,
        endpoint_silence_ms=96,
        speculate_after_ms=32,
        barge_in_ms=64,
        continue_window_ms=0,  # talking over a reply is a barge-in, however soon (its own tests turn it on)
        reply_not_before_ms=0, turn_unsure_ends=False,  # a reply is heard as soon as it is made (their own tests turn them on)
        dtmf_gap_ms=40,
        engine_timeout_s=0.3,
        playback_lead_ms=40,
        out_frame_ms=20,
        input_burst_s=60.0,
        input_abuse_s=120.0,
        inbound_queue_frames=2000,
        budgets=FAST_BUDGETS,
    )
    return dataclasses.replace(base, **overrides)


@dataclasses.dataclass(slots=True)
class Fakes:
    """The fake engines of one call (each records how the call used it)."""

    vad: FakeVad = dataclasses.field(default_factory=FakeVad)
    stt: ScriptedStt = dataclasses.field(default_factory=ScriptedStt)
    llm: ScriptedLlm = dataclasses.field(default_factory=ScriptedLlm)
    tts: FakeTts = dataclasses.field(default_factory=FakeTts)
    turn: ScriptedTurnModel | None = None  # the end-of-turn model (None: silence alone ends a turn)


async def make_call(
    fakes: Fakes, settings: Settings, output: RecordingOutput, *, persona: Persona = PERSONA,
    call_id: str = "fake-call", **call_options: Any,
) -> Call:
    """A call on fake engines. Its fixed phrases come from a fault-free :class:`FakeTts` at the same rate
    as ``fakes.tts``, so a scripted speech fault only hits replies. ``call_options``: the Call's other
    keywords (system_prompt, transport, details, playback_lead_ms)."""
    clean = FakeTts(sample_rate=fakes.tts.sample_rate, seconds_per_char=fakes.tts.seconds_per_char)
    phrases = await PhraseBank.build(clean, [persona])
    engines = Engines(vad=fakes.vad, stt=fakes.stt, llm=fakes.llm, tts=fakes.tts, turn=fakes.turn)
    return Call(
        call_id=call_id, engines=engines, phrases=phrases, settings=settings, persona=persona,
        sample_rate=output.sample_rate, output=output, **call_options,
    )


class CallHarness:
    """A running fake call and what a test does with it: speak, press keys, hang up, read the record."""

    def __init__(self, call: Call, output: RecordingOutput, fakes: Fakes, task: asyncio.Task[None]) -> None:
        self.call = call
        self.output = output
        self.fakes = fakes
        self.task = task
        self.rate = output.sample_rate

    async def push(self, pcm: bytes) -> None:
        """Send caller audio in 20 ms frames as fast as the call takes it (far faster than real time)."""
        for frame in audio.frames(pcm, self.rate):
            self.call.push_audio(frame)
            await asyncio.sleep(0)

    async def speak(self, seconds: float = 0.3) -> None:
        """Caller speech, with no silence after it (the turn stays open)."""
        await self.push(audio.speech(seconds, self.rate))

    async def pause(self, seconds: float) -> None:
        """Caller silence."""
        await self.push(audio.silence(seconds, self.rate))

    async def say(self, seconds: float = 0.3, silence: float = 0.3) -> None:
        """A whole caller turn: speech, then silence long enough for the endpoint."""
        await self.speak(seconds)
        await self.pause(silence)

    async def turn_over(self, number: int, timeout: float = 2.0) -> TurnMetrics:
        """Wait for the ``turn_metrics`` of turn ``number`` (sent when the turn is over)."""
        return await self.output.wait_for(TurnMetrics, lambda m: m.turn == number, timeout)

    async def agent_speaks(self, turn: int, timeout: float = 2.0) -> float:
        """Wait for the agent's first clause of ``turn``; returns when it was sent."""
        said = await self.output.wait_for(AgentText, lambda e: e.turn == turn, timeout)
        return self.output.sent_at(said)

    async def exchange(self, number: int, seconds: float = 0.3) -> TurnMetrics:
        """Caller turn ``number`` spoken, answered, and the answer heard to the end."""
        await self.say(seconds)
        metrics = await self.turn_over(number)
        await self.output.until_quiet()
        return metrics

    async def press(self, digits: str, every: float = 0.01) -> None:
        """Keypad presses, ``every`` seconds apart (shorter than fast_settings' 40 ms gap: one turn)."""
        for i, digit in enumerate(digits):
            if i:
                await asyncio.sleep(every)
            self.call.push_dtmf(digit)

    async def end(self, reason: str = "hangup", timeout: float = 1.0) -> list[dict[str, Any]]:
        """Hang up, wait for the call to finish, and return its record."""
        self.call.hang_up(reason)
        await asyncio.wait_for(asyncio.shield(self.task), timeout)
        return self.record()

    def record(self) -> list[dict[str, Any]]:
        """The call record's entries so far."""
        assert self.call.record.path is not None, "fake calls always write a record"
        return read_record(self.call.record.path)


@contextlib.asynccontextmanager
async def running_call(
    records_dir: str | Path,
    *,
    stt: ScriptedStt | None = None,
    llm: ScriptedLlm | None = None,
    tts: FakeTts | None = None,
    vad: FakeVad | None = None,
    turn: ScriptedTurnModel | None = None,
    sample_rate: int = 16000,
    persona: Persona = PERSONA,
    wait_greeting: bool = True,
    call_options: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[CallHarness]:
    """Run a fake call for the body of the ``async with``: engines left out are fakes with empty scripts
    (silence is transcribed as nothing, the model says "Okay."); ``settings`` override :func:`fast_settings`."""
    fakes = Fakes(vad=vad or FakeVad(), stt=stt or ScriptedStt(), llm=llm or ScriptedLlm(), tts=tts or FakeTts(),
                  turn=turn)
    output = RecordingOutput(sample_rate)
    call = await make_call(fakes, fast_settings(records_dir, **settings), output, persona=persona,
                           **(call_options or {}))
    task = asyncio.create_task(call.run())
    harness = CallHarness(call, output, fakes, task)
    try:
        if wait_greeting and persona.greeting:
            await output.until_heard(fakes.tts.seconds(persona.greeting) - 0.001)
            await output.until_quiet()
        yield harness
        if not task.done():
            await harness.end()
        if not task.cancelled():
            task.result()  # re-raise whatever ended run() abnormally
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
