"""The interfaces of the speech engines a call uses: voice activity, end of turn, speech-to-text and
text-to-speech.

Engines know nothing of calls. The real ones are :mod:`voiceagent.engines.silero_vad`,
:mod:`voiceagent.engines.turn_end`, :mod:`voiceagent.engines.whisper` and :mod:`voiceagent.engines.piper`;
the unit tests' scripted fakes implement the same protocols.
"""

from __future__ import annotations

from typing import Protocol

from voiceagent.audio.pcm import FloatAudio

VAD_RATE = 16000  # every voice-activity model here works on 16 kHz audio
VAD_FRAME_SAMPLES = 512  # one speech probability per 32 ms frame
VAD_FRAME_MS = 1000 * VAD_FRAME_SAMPLES / VAD_RATE


class VadStream(Protocol):
    """One call's voice activity detector: it keeps that call's recurrent state."""

    def feed(self, audio: FloatAudio) -> list[tuple[FloatAudio, float]]:
        """Append 16 kHz samples (any length); return each completed 512-sample frame with its speech
        probability (0..1)."""


class VadModel(Protocol):
    """A voice-activity model shared by every call (each call has its own :class:`VadStream`)."""

    label: str

    def stream(self) -> VadStream:
        """A fresh detector for one call."""


class TurnEndModel(Protocol):
    """Judges from the sound of a caller's speech (words, intonation, rhythm) whether the turn is finished."""

    label: str

    async def complete_probability(self, audio: FloatAudio) -> float:
        """The probability (0..1) that the turn in ``audio`` (16 kHz float32: the turn so far, ending in the
        pause after it) is finished. Off the event loop; cancelling abandons the result."""

    def close(self) -> None:
        """Release the engine (its worker thread)."""


class Transcriber(Protocol):
    """Speech-to-text for one finished caller turn."""

    label: str

    async def transcribe(self, audio: FloatAudio, prompt: str = "") -> str:
        """The text of ``audio`` (16 kHz float32); ``prompt``: text the recogniser reads first (words
        the caller is likely to use). Off the event loop; cancelling abandons the result."""

    def close(self) -> None:
        """Release the engine (its worker thread)."""


class Synthesizer(Protocol):
    """Text-to-speech for one clause."""

    label: str
    sample_rate: int  # of the audio it returns

    async def synthesize(self, text: str) -> FloatAudio:
        """The audio of ``text`` (float32 at :attr:`sample_rate`). Cancelling abandons the result."""

    def close(self) -> None:
        """Release the engine (its worker thread)."""
