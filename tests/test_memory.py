"""Freed memory goes back to the system: glibc keeps what a program frees inside its heap when a live
allocation sits above it, until ``malloc_trim`` returns the free pages (what the server does after each call)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pytest

from voiceagent import memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not memory.available(), reason="not glibc: nothing to trim")
def test_memory_freed_under_a_live_allocation_is_returned_by_a_trim() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    chunks = [libc.malloc(64 * 1024) for _ in range(3000)]  # below the mmap threshold: from the heap
    for chunk in chunks:
        ctypes.memset(chunk, 1, 64 * 1024)  # touched: resident
    pin = chunks.pop()  # the last one stays live: above the others, it keeps the heap from shrinking by itself
    for chunk in chunks:
        libc.free(chunk)
    before = _rss_mb()
    assert memory.trim_now()
    after = _rss_mb()
    libc.free(pin)
    assert before - after > 100, (before, after)  # about 190 MB were free but still resident


_SCATTER = """
import ctypes, ctypes.util, os, sys
from voiceagent import memory
if sys.argv[1] == "tuned":
    assert memory.tune_malloc(128, 2)
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
libc.free(libc.malloc(4 << 20))  # glibc raises its mmap threshold to the size of a freed mapping
chunks = [libc.malloc(256 * 1024) for _ in range(1000)]
for chunk in chunks:
    ctypes.memset(chunk, 1, 256 * 1024)
pin = chunks.pop()
for chunk in chunks:
    libc.free(chunk)
print(int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20)
"""


@pytest.mark.skipif(not memory.available(), reason="not glibc: nothing to tune")
def test_with_a_fixed_mmap_threshold_freed_buffers_go_back_at_once() -> None:
    """Without it, glibc serves 256 KB buffers from its heap once a larger mapping was freed, and what is
    freed under a live one stays resident (until a trim)."""
    import subprocess
    import sys

    def resident_mb(mode: str) -> int:
        return int(subprocess.run([sys.executable, "-c", _SCATTER, mode], capture_output=True, text=True,
                                  check=True).stdout)

    assert resident_mb("default") - resident_mb("tuned") > 150  # about 250 MB freed but kept by default


_HEAP_COUNT = """
import ctypes, ctypes.util, json
from voiceagent import memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
before = memory.heap_usage()
chunks = [libc.malloc(64 * 1024) for _ in range(1000)]
during = memory.heap_usage()
pin = chunks.pop()
for chunk in chunks:
    libc.free(chunk)
print(json.dumps([before, during, memory.heap_usage()]))
"""


@pytest.mark.skipif(memory.heap_usage() is None, reason="not glibc 2.33+: no heap count")
def test_the_heap_count_sees_what_is_in_use_and_what_is_held() -> None:
    """In a fresh process (a long-lived one has freed memory to reuse, so nothing new is held)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _HEAP_COUNT], capture_output=True, text=True, check=True).stdout
    before, during, after = json.loads(out)
    assert during[0] - before[0] > 60  # about 65 MB in use
    assert during[0] - after[0] > 60  # freed: no longer in use ...
    assert after[1] - before[1] > 30  # ... but still held by the allocator below the live chunk (until a trim)
