"""A :class:`~voiceagent.pipeline.player.CallOutput` that keeps everything a call sends, stamped with the time
it was sent, and models the caller's phone: agent audio plays back to back in real time (pausing when
its buffer runs dry), and a ``clear`` event drops whatever had not yet been played."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import TypeVar

from voiceagent.events import AgentText, Clear, Event

E = TypeVar("E", bound=Event)


@dataclasses.dataclass(slots=True)
class Playback:
    """One frame of agent audio on the caller's phone: when it starts playing and for how long."""

    sent: float
    start: float
    seconds: float


class RecordingOutput:
    """Events and audio a call sent, with a model of what the caller heard."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.events: list[tuple[float, Event]] = []  # (time sent, event)
        self.playback: list[Playback] = []  # every audio frame, cut short by a ``clear``
        self.audio_bytes = 0
        self._play_end = 0.0  # when the phone's buffer runs dry
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ CallOutput
    async def send_event(self, event: Event) -> None:
        """Keep ``event``; a ``clear`` drops the audio not yet played."""
        now = time.monotonic()
        self.events.append((now, event))
        if isinstance(event, Clear):
            self._clear(now)
        self._notify()

    async def send_audio(self, pcm: bytes) -> None:
        """Queue a frame on the phone: it plays right after the previous one (or now, if that ended)."""
        now = time.monotonic()
        seconds = len(pcm) / 2 / self.sample_rate
        start = max(now, self._play_end)
        self.playback.append(Playback(now, start, seconds))
        self._play_end = start + seconds
        self.audio_bytes += len(pcm)
        self._notify()

    def _clear(self, now: float) -> None:
        kept = [p for p in self.playback if p.start < now]
        for p in kept:
            p.seconds = min(p.seconds, now - p.start)
        self.playback = kept
        self._play_end = now

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ what was sent
    def of_type(self, kind: type[E]) -> list[E]:
        """Every event of one type, in order."""
        return [e for _, e in self.events if isinstance(e, kind)]

    def types(self) -> list[str]:
        """The ``type`` of every event, in order."""
        return [e.type for _, e in self.events]

    def said(self, kind: str | None = None, turn: int | None = None) -> list[str]:
        """The agent's clauses (``agent_text``), optionally of one kind (reply, greeting, filler, apology)
        and one turn."""
        return [
            e.text for e in self.of_type(AgentText)
            if (kind is None or e.kind == kind) and (turn is None or e.turn == turn)
        ]

    def sent_at(self, event: Event) -> float:
        """When ``event`` was sent."""
        return next(at for at, e in self.events if e is event)

    async def wait_for(self, kind: type[E], where: Callable[[E], bool] | None = None, timeout: float = 2.0) -> E:
        """The first event of ``kind`` (matching ``where``), waiting for it if it has not been sent yet."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.of_type(kind):
                    if where is None or where(event):
                        return event
                await self._changed.wait()

    # ------------------------------------------------------------------ what was heard
    def heard_seconds(self, since: float = 0.0, until: float | None = None) -> float:
        """Seconds of agent audio the caller heard from frames sent at or after ``since``, up to ``until``
        (default: now)."""
        until = time.monotonic() if until is None else until
        return sum(max(0.0, min(p.seconds, until - p.start)) for p in self.playback if p.sent >= since)

    def playing(self) -> bool:
        """True while the phone still has agent audio to play."""
        return time.monotonic() < self._play_end

    async def until_quiet(self, gap: float = 0.05, timeout: float = 3.0) -> None:
        """Wait until the phone has played everything and no audio came for ``gap`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                last = self.playback[-1].sent if self.playback else 0.0
                now = time.monotonic()
                if not self.playing() and now - last >= gap:
                    return
                await asyncio.sleep(max(0.01, min(gap, self._play_end - now)))

    async def until_heard(self, seconds: float, since: float = 0.0, timeout: float = 3.0) -> None:
        """Wait until the caller has heard ``seconds`` of agent audio sent since ``since``."""
        async with asyncio.timeout(timeout):
            while self.heard_seconds(since) < seconds:
                await asyncio.sleep(0.005)
