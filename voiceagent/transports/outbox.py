"""Everything a connection sends, written by one task: nobody who produces output waits on the peer.

The call's audio, its events and the socket loop's own replies are put here without waiting (``put``
never blocks); one writer task sends them in order. So a peer that reads slowly, or stops reading, slows
only its own writer: the socket loop keeps reading the caller's audio and the call keeps recognising it.

Policy (bounded by bytes, ``outbox_bytes``):
- When the queue is full, the oldest queued agent audio is dropped to make room: audio the peer has not
  read for that long is stale. Events and control messages are never dropped.
- After a barge-in the call clears its playback; queued audio not yet written is dropped then too
  (:meth:`Outbox.drop_audio`), so the peer never hears what the caller cut off.
- A peer that takes longer than ``stall_s`` over one write, or lets the events alone fill the queue, has
  stopped reading: ``on_stall`` is called once (the socket loop ends the call with ``peer_not_reading``
  in its record and drops the connection) and nothing more is written.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from collections.abc import Callable

from voiceagent import metrics
from voiceagent.transports.links import Link

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class _Message:
    data: str | bytes
    audio: bool

    @property
    def size(self) -> int:
        return len(self.data)


@dataclasses.dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str

    @property
    def size(self) -> int:
        return 0


class Outbox:
    """The bounded send queue of one connection, and the task that writes it (see the module)."""

    def __init__(self, link: Link, *, max_bytes: int, stall_s: float, on_stall: Callable[[], None]) -> None:
        self._link = link
        self._max_bytes = max_bytes
        self._stall_s = stall_s
        self._on_stall = on_stall
        self._queue: collections.deque[_Message | _Close] = collections.deque()
        self._bytes = 0
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.stalled = False
        self.dropped_frames = 0  # agent audio frames dropped (full queue or barge-in)

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be written."""
        return self._bytes

    def put(self, data: str | bytes, *, audio: bool = False) -> None:
        """Queue a message (``audio``: a frame of agent audio, which may be dropped). Never waits."""
        if self.stalled:
            return
        message = _Message(data, audio)
        while self._bytes + message.size > self._max_bytes and self._drop_oldest_audio():
            pass
        if self._bytes + message.size > self._max_bytes:
            if audio:
                self._count_dropped(1, "full")
                return
            self._stall("its events filled the send queue")
            return
        self._append(message)

    def put_close(self, code: int, reason: str) -> None:
        """Close the connection once everything queued before has been written."""
        if not self.stalled:
            self._append(_Close(code, reason))

    def drop_audio(self) -> int:
        """Drop queued agent audio not yet written (after a barge-in); returns how many frames."""
        kept = collections.deque(item for item in self._queue if not (isinstance(item, _Message) and item.audio))
        dropped = len(self._queue) - len(kept)
        self._queue = kept
        self._bytes = sum(item.size for item in kept)
        if dropped:
            self._count_dropped(dropped, "barge_in")
        if not self._queue:
            self._empty.set()
        return dropped

    async def flushed(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the queue to be written; False if it was not (or the peer stalled)."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout_s)
        except TimeoutError:
            return False
        return not self.stalled

    async def run(self) -> None:
        """Write queued messages in order until cancelled or the peer stalls."""
        while not self.stalled:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            item = self._queue.popleft()
            self._bytes -= item.size
            if isinstance(item, _Close):
                await self._link.close(item.code, item.reason)
            else:
                try:
                    await asyncio.wait_for(self._link.send(item.data), self._stall_s)
                except TimeoutError:
                    self._stall(f"one write took over {self._stall_s:g} s")
            if not self._queue:
                self._empty.set()

    def _append(self, item: _Message | _Close) -> None:
        self._queue.append(item)
        self._bytes += item.size
        self._empty.clear()
        self._ready.set()

    def _drop_oldest_audio(self) -> bool:
        for index, item in enumerate(self._queue):
            if isinstance(item, _Message) and item.audio:
                del self._queue[index]
                self._bytes -= item.size
                self._count_dropped(1, "full")
                return True
        return False

    def _count_dropped(self, frames: int, why: str) -> None:
        self.dropped_frames += frames
        metrics.OUTBOUND_DROPPED.labels(why).inc(frames)

    def _stall(self, why: str) -> None:
        if self.stalled:
            return
        log.warning("peer stopped reading (%s): dropping the connection", why)
        self.stalled = True
        self._queue.clear()
        self._bytes = 0
        self._empty.set()
        self._ready.set()
        self._on_stall()
