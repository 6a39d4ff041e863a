"""Streaming resampling with soxr: state is kept across frames, so frame edges do not click."""

from __future__ import annotations

import numpy as np
import soxr

from voiceagent.audio.pcm import FloatAudio


class StreamResampler:
    """Resamples a mono float32 stream chunk by chunk. Identity when the rates are equal."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(
            in_rate, out_rate, 1, dtype="float32", quality=quality
        )

    def process(self, chunk: FloatAudio, last: bool = False) -> FloatAudio:
        """Resample the next chunk; ``last`` flushes what soxr holds back."""
        if self._stream is None:
            return chunk
        out = self._stream.resample_chunk(np.ascontiguousarray(chunk, dtype=np.float32), last=last)
        return np.asarray(out, dtype=np.float32)


def resample(audio: FloatAudio, in_rate: int, out_rate: int) -> FloatAudio:
    """Resample a whole clip at once (agent clauses, fillers)."""
    if in_rate == out_rate:
        return audio
    return np.asarray(soxr.resample(audio, in_rate, out_rate, quality="HQ"), dtype=np.float32)
