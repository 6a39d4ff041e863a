"""16-bit little-endian mono PCM <-> float32 samples."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatAudio = npt.NDArray[np.float32]


def pcm16_to_float(data: bytes) -> FloatAudio:
    """Decode 16-bit little-endian PCM to float32 in [-1, 1). ``data`` must have even length."""
    if len(data) % 2:
        raise ValueError("16-bit PCM needs an even number of bytes")
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def float_to_pcm16(audio: npt.NDArray[np.floating]) -> bytes:
    """Encode float samples to 16-bit little-endian PCM, clipping to the valid range."""
    scaled = np.clip(np.asarray(audio, dtype=np.float32) * 32767.0, -32768.0, 32767.0)
    return bytes(scaled.astype("<i2").tobytes())
