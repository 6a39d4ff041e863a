"""Loudness frame by frame: how much of a stretch of audio is someone speaking, by level alone."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceagent.audio.pcm import FloatAudio

FRAME_S = 0.01  # 10 ms frames: finer than a syllable


def frame_rms(audio: FloatAudio, rate: int, frame_s: float = FRAME_S) -> npt.NDArray[np.float64]:
    """The RMS level of each whole ``frame_s`` frame of ``audio`` (a last partial frame is left out)."""
    frame = max(1, int(rate * frame_s))
    count = len(audio) // frame
    if count == 0:
        return np.zeros(0)
    frames = audio[: count * frame].astype(np.float64).reshape(count, frame)
    rms: npt.NDArray[np.float64] = np.sqrt(np.mean(frames**2, axis=1))
    return rms


def loud_frames(audio: FloatAudio, rate: int, below_peak_db: float, frame_s: float = FRAME_S) -> npt.NDArray[np.intp]:
    """Indices of the frames no more than ``below_peak_db`` under the loudest one (none in silence)."""
    rms = frame_rms(audio, rate, frame_s)
    if rms.size == 0 or rms.max() <= 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(rms >= rms.max() * 10 ** (-below_peak_db / 20))


def voiced_seconds(audio: FloatAudio, rate: int, below_peak_db: float = 35.0) -> float:
    """Seconds of ``audio`` loud enough to be speech: pauses and silence around it do not count."""
    return len(loud_frames(audio, rate, below_peak_db)) * FRAME_S


def trim_silence(audio: FloatAudio, rate: int, below_peak_db: float = 40.0, keep_s: float = 0.0) -> FloatAudio:
    """``audio`` without its leading and trailing near-silence (10 ms frames ``below_peak_db`` under the
    loudest), but for ``keep_s`` of it at each end; empty when it is all silence."""
    loud = loud_frames(audio, rate, below_peak_db)
    if len(loud) == 0:
        return audio[:0]
    frame, keep = max(1, int(rate * FRAME_S)), int(rate * keep_s)
    start = max(0, int(loud[0]) * frame - keep)
    return audio[start : min(len(audio), (int(loud[-1]) + 1) * frame + keep)]
