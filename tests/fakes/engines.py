"""Scripted speech engines that implement the real protocols (:mod:`voiceagent.engines.speech`) with set
delays and failures, and record how the call used them (the language model is in :mod:`tests.fakes.llm`).

A script entry is what the engine does on one call: return a value, raise an exception instance, or
:data:`HANG` (never answer until cancelled). Every fake counts calls that were cancelled (the task
awaiting it was cancelled, or the stream was closed) before they finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from tests.fakes.audio import tone
from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.speech import VAD_FRAME_SAMPLES, VAD_RATE


class Hang:
    """Script entry: the engine never answers (until the call cancels or times it out)."""

    def __repr__(self) -> str:
        return "HANG"


HANG = Hang()
Fault = Exception | Hang


async def act(fault: Fault) -> None:
    """Raise the scripted exception, or wait forever."""
    if isinstance(fault, Hang):
        await asyncio.Event().wait()
    else:
        raise fault


async def pause(seconds: float) -> None:
    """Sleep ``seconds`` (no sleep at all for 0, so an instant engine does not yield to the loop)."""
    if seconds > 0:
        await asyncio.sleep(seconds)


class FakeVadStream:
    """One call's detector: a 512-sample frame is speech (probability 1) when its RMS is above the level."""

    def __init__(self, level: float) -> None:
        self._level = level
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, audio: FloatAudio) -> list[tuple[FloatAudio, float]]:
        """Append 16 kHz samples; return each completed frame with 1.0 (speech) or 0.0 (silence)."""
        self._pending = np.concatenate([self._pending, audio.astype(np.float32)])
        out: list[tuple[FloatAudio, float]] = []
        while len(self._pending) >= VAD_FRAME_SAMPLES:
            frame, self._pending = self._pending[:VAD_FRAME_SAMPLES], self._pending[VAD_FRAME_SAMPLES:]
            rms = float(np.sqrt(np.mean(np.square(frame))))
            out.append((frame, 1.0 if rms > self._level else 0.0))
        return out


class FakeVad:
    """A :class:`~voiceagent.engines.speech.VadModel` that calls loud frames speech."""

    label = "fake_vad"

    def __init__(self, level: float = 0.02) -> None:
        self.level = level

    def stream(self) -> FakeVadStream:
        """A fresh detector for one call."""
        return FakeVadStream(self.level)


SttScript = Sequence[str | Fault] | Callable[[FloatAudio], str | Fault]


def seconds_of(audio: FloatAudio) -> float:
    """Length of 16 kHz audio in seconds (for STT scripts that answer by how long the caller spoke)."""
    return len(audio) / VAD_RATE


class _Counted(Protocol):
    cancelled: int


async def _scripted_wait(engine: _Counted, entry: str | float | Fault, delay_s: float) -> None:
    """A scripted engine's answer time: ``delay_s``, then ``entry`` acted out when it is a fault (not a
    text or a probability); a cancellation is counted on ``engine``."""
    try:
        await pause(delay_s)
        if not isinstance(entry, (str, float)):
            await act(entry)
    except asyncio.CancelledError:
        engine.cancelled += 1
        raise


class ScriptedStt:
    """A :class:`~voiceagent.engines.speech.Transcriber` that answers from a script.

    ``script`` is either a list of entries taken in call order (``default`` once it runs out), or a
    function of the audio. Each transcription waits ``delay_s`` first.
    """

    label = "scripted_stt"

    def __init__(self, script: SttScript = (), *, delay_s: float = 0.0, default: str = "") -> None:
        self._script = script
        self._next = 0
        self.delay_s = delay_s
        self.default = default
        self.calls: list[FloatAudio] = []  # the audio of every transcription asked for
        self.prompts: list[str] = []  # the prompt given with each
        self.finished = 0
        self.cancelled = 0
        self.closed = False

    def _entry(self, audio: FloatAudio) -> str | Fault:
        if callable(self._script):
            return self._script(audio)
        if self._next < len(self._script):
            self._next += 1
            return self._script[self._next - 1]
        return self.default

    async def transcribe(self, audio: FloatAudio, prompt: str = "") -> str:
        """The scripted text for ``audio``, after the delay (or the scripted fault)."""
        self.calls.append(audio)
        self.prompts.append(prompt)
        entry = self._entry(audio)
        await _scripted_wait(self, entry, self.delay_s)
        self.finished += 1
        assert isinstance(entry, str)
        return entry

    def close(self) -> None:
        """Mark the engine closed."""
        self.closed = True


class ScriptedTurnModel:
    """A :class:`~voiceagent.engines.speech.TurnEndModel` answering from a script: each question takes the
    next entry (a probability, an exception instance or :data:`HANG`; the last entry once it runs out),
    after ``delay_s``. It records the audio of every question."""

    label = "scripted_turn"

    def __init__(self, script: Sequence[float | Fault] = (0.9,), *, delay_s: float = 0.0) -> None:
        self._script = list(script)
        self.delay_s = delay_s
        self.calls: list[FloatAudio] = []
        self.cancelled = 0
        self.closed = False

    async def complete_probability(self, audio: FloatAudio) -> float:
        """The scripted probability that the turn is finished (or the scripted fault)."""
        entry = self._script[min(len(self.calls), len(self._script) - 1)]
        self.calls.append(audio)
        await _scripted_wait(self, entry, self.delay_s)
        assert isinstance(entry, float)
        return entry

    def close(self) -> None:
        """Mark the engine closed."""
        self.closed = True


class FakeTts:
    """A :class:`~voiceagent.engines.speech.Synthesizer` whose audio is a tone ``seconds_per_char`` long
    per character of text, after ``delay_s``. ``fault`` (raised, or :data:`HANG`) applies to every
    text, or only to those ``fault_when`` picks."""

    label = "fake_tts"

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        seconds_per_char: float = 0.004,
        delay_s: float = 0.0,
        fault: Fault | None = None,
        fault_when: Callable[[str], bool] | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.seconds_per_char = seconds_per_char
        self.delay_s = delay_s
        self.fault = fault
        self.fault_when = fault_when
        self.texts: list[str] = []  # every text asked for, in order
        self.cancelled = 0
        self.closed = False

    def seconds(self, text: str) -> float:
        """How long the audio of ``text`` is."""
        return len(text) * self.seconds_per_char

    async def synthesize(self, text: str) -> FloatAudio:
        """A tone as long as the text deserves (or the scripted fault)."""
        self.texts.append(text)
        try:
            await pause(self.delay_s)
            if self.fault is not None and (self.fault_when is None or self.fault_when(text)):
                await act(self.fault)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return tone(self.seconds(text), self.sample_rate, hz=440.0)

    def close(self) -> None:
        """Mark the engine closed."""
        self.closed = True
