"""Giving freed memory back to the operating system after each call.

The engines allocate from many threads (the model, whisper, piper, onnxruntime's own), and glibc gives
each thread's allocations an arena of their own. What a call frees stays mapped in those arenas, in
pieces too scattered for glibc to return by itself: over hours the server's resident memory creeps up
with no object alive to account for it. ``malloc_trim(0)`` walks every arena and returns the free pages.
It runs on the event loop's executor once a call has ended (it takes milliseconds), one at a time.
Elsewhere than glibc (musl, macOS) there is nothing to call and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable


def _find_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _find_trim()
_running = threading.Lock()


def available() -> bool:
    """Whether this C library can give memory back (glibc)."""
    return _TRIM is not None


def trim_now() -> bool:
    """Return free memory to the system (blocking); False if not possible or a trim is already running."""
    if _TRIM is None or not _running.acquire(blocking=False):
        return False
    try:
        _TRIM(0)
    finally:
        _running.release()
    return True
