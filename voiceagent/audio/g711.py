"""G.711 (mu-law and A-law) <-> 16-bit PCM, for telephone lines at 8 kHz.

The codecs are the standard library's ``audioop`` (the ``audioop-lts`` package on Python 3.13+, where the
module left the standard library): C implementations of the ITU-T tables, nothing home-made.
"""

from __future__ import annotations

import warnings
from typing import Literal

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

G711Codec = Literal["ulaw", "alaw"]


def decode(data: bytes, codec: G711Codec) -> bytes:
    """G.711 bytes (one per sample) -> 16-bit little-endian PCM."""
    return audioop.ulaw2lin(data, 2) if codec == "ulaw" else audioop.alaw2lin(data, 2)


def encode(pcm: bytes, codec: G711Codec) -> bytes:
    """16-bit little-endian PCM -> G.711 bytes. An odd trailing byte is dropped."""
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    return audioop.lin2ulaw(pcm, 2) if codec == "ulaw" else audioop.lin2alaw(pcm, 2)
