"""Playback pacing and the account of what the caller heard, on a simulated clock."""

from __future__ import annotations

import asyncio

from voiceagent.events import Event
from voiceagent.pipeline.player import AudioPlayer, Segment


class Recorder:
    """Collects what the player sends (the transport side of a call)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send_event(self, event: Event) -> None:
        pass

    async def send_audio(self, pcm: bytes) -> None:
        self.frames.append(pcm)


class Clock:
    """Simulated time: the test moves it; the player's sleeps wait for it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        await asyncio.sleep(0)  # like asyncio.sleep, always yields (a sleep shorter than float precision too)
        while self.now < target:
            await asyncio.sleep(0)


async def advance(clock: Clock, seconds: float, step: float = 0.005) -> None:
    for _ in range(round(seconds / step)):
        clock.now += step
        await asyncio.sleep(0)
        await asyncio.sleep(0)


async def test_pacing_keeps_only_the_lead_ahead_and_clear_reports_heard_words() -> None:
    out, clock = Recorder(), Clock()
    player = AudioPlayer(out, 16000, frame_ms=20, lead_ms=100, clock=clock, sleep=clock.sleep)
    task = asyncio.create_task(player.run())
    started: list[float] = []
    one_second = b"\x01\x00" * 16000
    player.enqueue(Segment(turn=1, kind="reply", text="one two three four five six seven eight nine ten",
                           pcm=one_second, on_start=started.append))
    player.enqueue(Segment(turn=1, kind="reply", text="never heard", pcm=one_second))
    await advance(clock, 0.5)
    sent = sum(len(f) for f in out.frames) // 2 / 16000
    assert len(started) == 1 and started[0] - 100.0 < 0.01
    assert 0.5 <= sent <= 0.5 + 0.1 + 0.02 + 0.01  # played so far + lead + one frame
    assert all(len(f) == 640 for f in out.frames)
    assert player.busy
    heard = player.clear()
    assert [h.segment.text for h in heard] == ["one two three four five six seven eight nine ten"]
    assert 0.45 <= heard[0].fraction <= 0.55 and heard[0].text == "one two three four five"
    n_frames = len(out.frames)
    await advance(clock, 0.5)
    assert len(out.frames) <= n_frames + 1  # at most the frame that was in flight
    assert not player.busy
    task.cancel()


async def test_a_gap_between_segments_restarts_the_clients_clock() -> None:
    out, clock = Recorder(), Clock()
    player = AudioPlayer(out, 8000, frame_ms=20, lead_ms=60, clock=clock, sleep=clock.sleep)
    task = asyncio.create_task(player.run())
    player.enqueue(Segment(turn=1, kind="reply", text="a b", pcm=b"\x00\x00" * 1600))  # 0.2 s
    await advance(clock, 1.0)  # played out, then a long gap (slow synthesis)
    assert not player.busy
    player.enqueue(Segment(turn=1, kind="reply", text="c d e f", pcm=b"\x00\x00" * 8000))  # 1 s
    await advance(clock, 0.25)
    heard = player.clear()
    assert heard[0].fraction == 1.0
    assert 0.2 <= heard[1].fraction <= 0.3 and heard[1].text == "c"
    task.cancel()


async def test_speech_does_not_start_while_the_caller_talks_but_follows_on_without_a_gap() -> None:
    """Out of silence, a segment waits while ``hold`` says the caller talks (a pause mid-sentence must
    not be answered into); the next segment of the same answer is never held; the wait is bounded."""
    out, clock = Recorder(), Clock()
    talking = [True]
    player = AudioPlayer(out, 16000, frame_ms=20, lead_ms=100, clock=clock, sleep=clock.sleep,
                         hold=lambda: talking[0], hold_max_ms=1000)
    task = asyncio.create_task(player.run())
    started: list[float] = []
    half = b"\x01\x00" * 8000
    player.enqueue(Segment(turn=1, kind="reply", text="first", pcm=half, on_start=started.append))
    player.enqueue(Segment(turn=1, kind="reply", text="second", pcm=half, on_start=started.append))
    await advance(clock, 0.3)
    assert out.frames == [] and started == []  # held while the caller talks
    talking[0] = False
    await advance(clock, 0.1)
    assert len(started) == 1 and out.frames
    talking[0] = True
    await advance(clock, 0.6)
    assert len(started) == 2  # the second clause followed on although the caller spoke
    await advance(clock, 1.0)
    player.enqueue(Segment(turn=2, kind="reply", text="third", pcm=half, on_start=started.append))
    await advance(clock, 0.9)
    assert len(started) == 2
    await advance(clock, 0.2)
    assert len(started) == 3  # held for hold_max_ms at most
    task.cancel()
