"""Silence around speech, found by level alone."""

from __future__ import annotations

import numpy as np

from voiceagent.audio.loudness import trim_silence

RATE = 16000


def padded_tone(lead_s: float, tone_s: float, tail_s: float) -> np.ndarray:
    t = np.arange(int(RATE * tone_s)) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    return np.concatenate([np.zeros(int(RATE * lead_s), np.float32), tone, np.zeros(int(RATE * tail_s), np.float32)])


def test_silence_around_the_sound_is_cut_but_for_what_is_kept() -> None:
    audio = padded_tone(0.1, 0.5, 0.2)
    assert abs(len(trim_silence(audio, RATE)) / RATE - 0.5) < 0.011
    assert abs(len(trim_silence(audio, RATE, keep_s=0.03)) / RATE - 0.56) < 0.011


def test_what_is_kept_never_reaches_past_the_audio() -> None:
    audio = padded_tone(0.0, 0.5, 0.01)
    assert len(trim_silence(audio, RATE, keep_s=0.05)) == len(audio)


def test_all_silence_leaves_nothing() -> None:
    assert len(trim_silence(np.zeros(RATE, np.float32), RATE)) == 0
