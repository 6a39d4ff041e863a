"""Background noise taken down in a caller's turn before it is recognised.

Spectral gating (the ``noisereduce`` library, non-stationary mode): each frequency band's noise floor is
tracked over time with a smoothing window, and time-frequency cells that do not rise above it are
attenuated by ``strength`` (0: unchanged, 1: removed). Non-stationary mode needs no noise-only clip, so
it works on a turn as the recogniser gets it, and follows noise that changes during a call (a car, a
fan, a street). Only the recogniser hears the result: voice activity and the end-of-turn model keep the
line as it is.
"""

from __future__ import annotations

import noisereduce
import numpy as np

from voiceagent.audio.pcm import FloatAudio

MIN_SAMPLES = 2048  # shorter than the gate's FFT window: nothing to estimate a floor from, left as it is
DITHER = 1e-5  # -100 dBFS of fixed noise: a line's digital silence (exact zeros, as mu-law sends it) would
# otherwise divide zero by a zero noise floor, and one NaN spreads through the gate's smoothing to the whole turn


def reduce_background(audio: FloatAudio, rate: int, strength: float) -> FloatAudio:
    """``audio`` (mono float32) with its background noise reduced by ``strength`` (0 to 1); unchanged
    when ``strength`` is 0 or the clip is too short to gate."""
    if strength <= 0.0 or len(audio) < MIN_SAMPLES:
        return audio
    dither = np.random.default_rng(len(audio)).standard_normal(len(audio)).astype(np.float32) * DITHER
    out = noisereduce.reduce_noise(y=audio + dither, sr=rate, stationary=False, prop_decrease=min(strength, 1.0),
                                   n_jobs=1)
    gated = np.asarray(out, dtype=np.float32)
    return gated if np.isfinite(gated).all() else audio  # never hand the recogniser a broken turn
