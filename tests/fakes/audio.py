"""Caller audio for fake calls: a tone burst is "speech" to :class:`tests.fakes.engines.FakeVad`, zeros are silence."""

from __future__ import annotations

import numpy as np

from voiceagent.audio.pcm import FloatAudio, float_to_pcm16

SPEECH_LEVEL = 0.3  # peak amplitude of caller "speech" (RMS about 0.21, far above FakeVad's level)
TONE_HZ = 300.0  # inside the telephone band, so it survives any sample rate the call runs at


def tone(seconds: float, rate: int, *, hz: float = TONE_HZ, level: float = SPEECH_LEVEL) -> FloatAudio:
    """A sine tone of ``seconds`` at ``rate`` (float32)."""
    t = np.arange(round(seconds * rate), dtype=np.float32) / rate
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def speech(seconds: float, rate: int) -> bytes:
    """``seconds`` of caller speech as 16-bit PCM at ``rate``."""
    return float_to_pcm16(tone(seconds, rate))


def silence(seconds: float, rate: int) -> bytes:
    """``seconds`` of silence as 16-bit PCM at ``rate``."""
    return bytes(2 * round(seconds * rate))


def frames(pcm: bytes, rate: int, frame_ms: int = 20) -> list[bytes]:
    """``pcm`` cut into transport-sized frames (the last one may be short)."""
    size = 2 * rate * frame_ms // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]
