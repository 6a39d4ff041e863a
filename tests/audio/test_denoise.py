"""The recogniser's noise front end: spectral gating takes a steady background down and keeps the voice."""

from __future__ import annotations

import numpy as np

from tests.conftest import recording
from voiceagent.audio.denoise import reduce_background
from voiceagent.bench.calls.line import pink_noise
from voiceagent.client import load_audio

RATE = 16000


def _db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def _noisy(snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """A real voice after a second of silence, and the same with pink noise ``snr_db`` below it."""
    speech = load_audio(recording("jfk.flac"), RATE)[: 4 * RATE]
    clean = np.concatenate([np.zeros(RATE, dtype=np.float32), speech])
    noise = pink_noise(len(clean) / RATE, RATE, seed=3)[: len(clean)]
    noise = noise * 10 ** ((_db(speech) - snr_db) / 20) / np.sqrt(np.mean(noise**2))
    return clean, (clean + noise).astype(np.float32)


def test_a_steady_background_is_taken_down_and_the_voice_kept() -> None:
    clean, noisy = _noisy(snr_db=10.0)
    out = reduce_background(noisy, RATE, 0.7)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    # the second before the voice is background only: 0.7 of it taken away is about 10 dB down
    assert _db(out[:RATE]) < _db(noisy[:RATE]) - 6
    # the voice stands out more from the background than it did (the gate also takes down the weak
    # parts of words, so the voice's own level falls too: the contrast is what the recogniser gains)
    before = _db(noisy[RATE:]) - _db(noisy[:RATE])
    after = _db(out[RATE:]) - _db(out[:RATE])
    assert after > before + 2
    assert _db(out[RATE:]) > _db(clean[RATE:]) - 8  # the voice is still there


def test_strength_zero_and_a_clip_too_short_to_gate_are_left_as_they_are() -> None:
    _clean, noisy = _noisy(snr_db=10.0)
    assert reduce_background(noisy, RATE, 0.0) is noisy
    short = noisy[:1000]
    assert reduce_background(short, RATE, 0.7) is short


def test_digital_silence_on_the_line_does_not_break_the_turn() -> None:
    """mu-law's silence decodes to exact zeros: the gate must not divide by a zero noise floor (one NaN
    spreads to the whole turn through its smoothing)."""
    _clean, noisy = _noisy(snr_db=10.0)
    silence = np.zeros(RATE, dtype=np.float32)
    for audio in (silence, np.concatenate([silence, silence, noisy])):
        out = reduce_background(audio, RATE, 0.7)
        assert np.isfinite(out).all() and float(np.abs(out).max()) <= float(np.abs(audio).max()) + 1e-3
    out = reduce_background(np.concatenate([silence, silence, noisy]), RATE, 0.7)
    assert _db(out[-RATE:]) > _db(noisy[-RATE:]) - 12  # the voice after the silence is still there
