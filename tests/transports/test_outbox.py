"""The send queue of a connection: producers never wait on the peer; its bound, what is dropped when,
and a peer that stops reading (a link whose writes block until released: a stand-in for a full socket)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from voiceagent.transports.outbox import Outbox


class BlockedLink:
    """A peer that reads only while ``reading`` is set; keeps what it read and how it was closed."""

    def __init__(self) -> None:
        self.reading = asyncio.Event()
        self.read: list[str | bytes] = []
        self.closed: tuple[int, str] | None = None

    async def receive(self) -> str | bytes | None:
        return None

    async def send(self, data: str | bytes) -> None:
        await self.reading.wait()
        self.read.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def abort(self) -> None:
        pass

    def authorized(self, token: str | None) -> bool:
        return True


@contextlib.asynccontextmanager
async def writing(outbox: Outbox) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(outbox.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def frame(n: int) -> bytes:
    return bytes([n]) * 100


async def test_putting_never_waits_and_everything_goes_out_in_order_once_the_peer_reads() -> None:
    link, stalls = BlockedLink(), []
    outbox = Outbox(link, max_bytes=10_000, stall_s=5.0, on_stall=lambda: stalls.append(1))
    async with writing(outbox):
        outbox.put('{"type": "speech_started"}')
        for n in range(5):
            outbox.put(frame(n), audio=True)  # returns at once though the peer is not reading
        outbox.put_close(1000, "bye")
        await asyncio.sleep(0.05)
        assert link.read == [] and outbox.queued_bytes == 500  # the event is being written
        link.reading.set()
        assert await outbox.flushed(1.0)
    assert link.read == ['{"type": "speech_started"}', *(frame(n) for n in range(5))]
    assert link.closed == (1000, "bye") and stalls == []


async def test_when_full_the_oldest_audio_goes_and_events_stay() -> None:
    link = BlockedLink()
    outbox = Outbox(link, max_bytes=350, stall_s=5.0, on_stall=lambda: None)
    outbox.put(frame(0), audio=True)
    outbox.put("event-1")
    for n in range(1, 5):
        outbox.put(frame(n), audio=True)
    assert outbox.queued_bytes <= 350 and outbox.dropped_frames == 2
    link.reading.set()
    async with writing(outbox):
        assert await outbox.flushed(1.0)
    assert link.read == ["event-1", frame(2), frame(3), frame(4)]


async def test_a_barge_in_drops_the_audio_not_yet_written_and_keeps_the_events() -> None:
    link = BlockedLink()
    outbox = Outbox(link, max_bytes=10_000, stall_s=5.0, on_stall=lambda: None)
    for n in range(3):
        outbox.put(frame(n), audio=True)
    outbox.put("transcript")
    assert outbox.drop_audio() == 3
    outbox.put("clear")
    link.reading.set()
    async with writing(outbox):
        assert await outbox.flushed(1.0)
    assert link.read == ["transcript", "clear"]


async def test_a_peer_that_stops_reading_is_reported_once_and_nothing_more_is_queued() -> None:
    link, stalls = BlockedLink(), []
    outbox = Outbox(link, max_bytes=10_000, stall_s=0.2, on_stall=lambda: stalls.append(1))
    async with writing(outbox) as task:
        outbox.put("ready")
        outbox.put(frame(1), audio=True)
        await asyncio.wait_for(task, 2.0)  # the writer stops once the peer has stalled
        outbox.put("more")
    assert stalls == [1] and outbox.stalled and outbox.queued_bytes == 0
    assert not await outbox.flushed(0.1)


@pytest.mark.parametrize("audio_first", [False, True])
async def test_events_alone_filling_the_queue_mean_the_peer_stopped_reading(audio_first: bool) -> None:
    link, stalls = BlockedLink(), []
    outbox = Outbox(link, max_bytes=250, stall_s=60.0, on_stall=lambda: stalls.append(1))
    if audio_first:
        outbox.put(frame(0), audio=True)  # dropped first to make room
    for n in range(3):
        outbox.put(f"event {n}" + " " * 90)
    assert stalls == [1] and outbox.stalled
