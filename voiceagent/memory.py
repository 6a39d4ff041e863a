"""Giving freed memory back to the operating system after each call.

The engines allocate from many threads (the model, whisper, piper, onnxruntime's own), and glibc gives
each thread's allocations an arena of their own. What a call frees stays mapped in those arenas, in
pieces too scattered for glibc to return by itself: over hours the server's resident memory creeps up
with no object alive to account for it. ``malloc_trim(0)`` walks every arena and returns the free pages.
It runs on the event loop's executor once a call has ended (it takes milliseconds), one at a time.
Elsewhere than glibc (musl, macOS) there is nothing to call and this does nothing.

:func:`tune_malloc` sets two of glibc's allocator limits at start (``mallopt``): a fixed size from which
allocations get a mapping of their own, given back when freed (glibc otherwise raises that size each time
such a block is freed, up to 32 MB, so audio buffers and model outputs end up scattered in the heaps), and
a cap on the number of arenas (by default eight per core, one claimed by each busy thread).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8


def _libc_function(name: str, argtypes: list[type], restype: type = ctypes.c_int) -> Callable[..., Any] | None:
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        function = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = restype
    return function  # type: ignore[no-any-return]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


_TRIM = _libc_function("malloc_trim", [ctypes.c_size_t])
_MALLOPT = _libc_function("mallopt", [ctypes.c_int, ctypes.c_int])
_MALLINFO2 = _libc_function("mallinfo2", [], _MallInfo2)  # glibc 2.33 and later
_running = threading.Lock()


def available() -> bool:
    """Whether this C library can give memory back (glibc)."""
    return _TRIM is not None


def heap_usage() -> tuple[float, float] | None:
    """glibc's own count over every arena, in MB: (bytes in use by the program, bytes the allocator holds
    from the system). In use that grows is a leak; held that grows while in use stays flat is
    fragmentation. None where glibc cannot tell."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    return (info.uordblks + info.hblkhd) / 1e6, (info.arena + info.hblkhd) / 1e6


def trim_now() -> bool:
    """Return free memory to the system (blocking); False if not possible or a trim is already running."""
    if _TRIM is None or not _running.acquire(blocking=False):
        return False
    try:
        _TRIM(0)
    finally:
        _running.release()
    return True


def tune_malloc(mmap_threshold_kb: int, arena_max: int) -> bool:
    """Fix glibc's mmap threshold at ``mmap_threshold_kb`` and cap its arenas at ``arena_max`` (0 leaves
    either as it is). Call at start, before the engines' threads. False where glibc is not the allocator or
    it refused a value."""
    if _MALLOPT is None:
        return False
    done = True
    if mmap_threshold_kb > 0:
        done = _MALLOPT(M_MMAP_THRESHOLD, mmap_threshold_kb * 1024) == 1 and done
    if arena_max > 0:
        done = _MALLOPT(M_ARENA_MAX, arena_max) == 1 and done
    return done
