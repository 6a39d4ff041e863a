"""Agent audio waiting for a device clock (a sound card, PJSIP's media clock): a thread-safe byte buffer
the clock's thread drains frame by frame; clearing it takes back everything not yet played."""

from __future__ import annotations

import threading


class LineBuffer:
    """16-bit PCM queued by the event loop, taken in fixed frames by another thread."""

    def __init__(self, frame_bytes: int, max_bytes: int) -> None:
        self.frame_bytes = frame_bytes
        self._max = max_bytes
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def push(self, pcm: bytes) -> None:
        """Queue audio; past ``max_bytes`` the oldest is dropped (the clock stopped)."""
        with self._lock:
            self._buffer += pcm
            if len(self._buffer) > self._max:
                del self._buffer[: len(self._buffer) - self._max]

    def clear(self) -> None:
        """Drop everything not yet played (barge-in)."""
        with self._lock:
            self._buffer.clear()

    def next_frame(self) -> bytes:
        """The next frame, padded with silence when the agent is quiet."""
        with self._lock:
            frame = bytes(self._buffer[: self.frame_bytes])
            del self._buffer[: self.frame_bytes]
        return frame + bytes(self.frame_bytes - len(frame))
