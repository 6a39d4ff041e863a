"""Agent audio out, paced in real time, with an account of what the caller has actually heard.

Audio is sent in ``frame_ms`` frames, at most ``lead_ms`` ahead of real time: enough to ride out
network jitter, little enough that a barge-in stops the agent at once. The player keeps a model of the
client's playhead (a client that schedules frames back to back, pausing when its buffer runs dry), so
after an interruption it can say how much of each clause the caller heard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from voiceagent.events import Event


class CallOutput(Protocol):
    """Where a call's events and agent audio go (a transport implements this)."""

    async def send_event(self, event: Event) -> None:
        """Send a JSON event to the client. Must not raise if the client has gone."""

    async def send_audio(self, pcm: bytes) -> None:
        """Send one frame of agent audio (16-bit PCM at the call's sample rate)."""


@runtime_checkable
class MarkingOutput(CallOutput, Protocol):
    """An output whose far end reports when audio has been played (Twilio's ``mark``).

    The player sends a mark after each segment; the transport passes the echoed names to
    :meth:`AudioPlayer.acknowledge`. A segment whose mark has not come back was not heard to the end.
    """

    async def send_mark(self, name: str) -> None:
        """Ask the far end to report back ``name`` once everything sent so far has been played."""


@dataclasses.dataclass(eq=False, slots=True)
class Segment:
    """One clause (or greeting, filler, apology) of agent speech."""

    turn: int
    kind: str
    text: str
    pcm: bytes  # 16-bit PCM at the call's rate
    on_start: Callable[[float], None] | None = None  # called with the time its first frame left
    start_sample: int | None = None  # position on the playback timeline, once started
    mark: str | None = None  # the mark sent after its last frame (a MarkingOutput only)
    played: bool = False  # its mark came back: the caller heard all of it

    @property
    def samples(self) -> int:
        """Length in samples."""
        return len(self.pcm) // 2


@dataclasses.dataclass(frozen=True, slots=True)
class Heard:
    """How much of a segment the caller heard when playback was cleared."""

    segment: Segment
    fraction: float

    @property
    def text(self) -> str:
        """The words heard, in proportion to the audio played (never all of them if it was cut off)."""
        words = self.segment.text.split()
        count = round(len(words) * self.fraction)
        if self.fraction < 1.0:
            count = min(count, len(words) - 1)
        return " ".join(words[: max(0, count)])


class AudioPlayer:
    """Paces segments out to a :class:`CallOutput`. Run :meth:`run` as a task for the call's life."""

    def __init__(
        self,
        output: CallOutput,
        sample_rate: int,
        *,
        frame_ms: int = 20,
        lead_ms: int = 120,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hold: Callable[[], bool] | None = None,
        hold_max_ms: int = 1000,
    ) -> None:
        """``hold``: while it returns True (the caller is talking), speech does not start out of silence,
        for ``hold_max_ms`` at most; a segment that follows one still playing is never held."""
        self._output = output
        self._hold = hold
        self._hold_max = hold_max_ms / 1000
        self.rate = sample_rate
        self._frame_bytes = 2 * max(1, sample_rate * frame_ms // 1000)
        self._lead = lead_ms / 1000
        self._clock = clock
        self._sleep = sleep
        self._queue: asyncio.Queue[Segment] = asyncio.Queue()
        self._history: list[Segment] = []  # started segments still possibly being heard
        self._current: Segment | None = None
        self._generation = 0
        self._sent = 0  # samples sent on the playback timeline
        self._clock_start = clock()  # timeline position 0 in clock time
        self._idle = asyncio.Event()
        self._idle.set()
        self._marking = isinstance(output, MarkingOutput)
        self._marks_sent = 0

    def enqueue(self, segment: Segment) -> None:
        """Queue a segment for playback after everything already queued."""
        self._idle.clear()
        self._queue.put_nowait(segment)

    @property
    def busy(self) -> bool:
        """True while audio is queued, being sent, or still playing at the client."""
        return not self._idle.is_set() or self._playhead() < self._sent

    def _playhead(self) -> float:
        return min(float(self._sent), (self._clock() - self._clock_start) * self.rate)

    def clear(self) -> list[Heard]:
        """Drop all queued and unsent audio. Returns what of each started segment the caller heard."""
        self._generation += 1
        while not self._queue.empty():
            self._queue.get_nowait()
        playhead = self._playhead()
        heard = []
        for seg in self._history:
            assert seg.start_sample is not None
            fraction = min(1.0, max(0.0, (playhead - seg.start_sample) / max(1, seg.samples)))
            if self._marking and not seg.played:
                fraction = min(fraction, 0.999)  # the far end has not confirmed the end of it
            heard.append(Heard(seg, fraction))
        self._history.clear()
        # The client drops its queue on ``clear``: the timeline restarts at the playhead.
        self._sent = int(playhead)
        self._clock_start = self._clock() - self._sent / self.rate
        if self._current is None:
            self._idle.set()
        return heard

    def acknowledge(self, name: str) -> bool:
        """The far end has played up to the end of the segment marked ``name``: correct the playhead
        model to that point (it may have been behind or ahead). Returns False for an unknown mark."""
        for seg in self._history:
            if seg.mark == name and seg.start_sample is not None:
                seg.played = True
                end = seg.start_sample + seg.samples
                self._clock_start = self._clock() - end / self.rate
                return True
        return False

    async def run(self) -> None:
        """Send queued segments until cancelled. Cancel-safe: at worst one frame is half-sent."""
        while True:
            segment = await self._queue.get()
            self._current = segment
            try:
                await self._play(segment, self._generation)
            finally:
                self._current = None
                if self._queue.empty():
                    self._idle.set()

    async def _wait_for_a_gap(self, generation: int) -> None:
        """Out of silence, do not start talking while the caller talks (up to ``hold_max_ms``): a caller who
        paused mid-sentence and went on hears nothing before they finish."""
        if self._hold is None or self._playhead() < self._sent:
            return
        deadline = self._clock() + self._hold_max
        while self._hold() and generation == self._generation and self._clock() < deadline:
            await self._sleep(self._frame_bytes / 2 / self.rate)

    async def _play(self, segment: Segment, generation: int) -> None:
        await self._wait_for_a_gap(generation)
        pos = 0
        while pos < len(segment.pcm):
            if generation != self._generation:
                return
            now = self._clock()
            if (now - self._clock_start) * self.rate > self._sent:  # client ran dry: it restarts now
                self._clock_start = now - self._sent / self.rate
            ahead = self._sent / self.rate - (now - self._clock_start)
            if ahead > self._lead:
                await self._sleep(ahead - self._lead)
                continue
            frame = segment.pcm[pos : pos + self._frame_bytes]
            if pos == 0:
                segment.start_sample = self._sent
                self._history.append(segment)
                self._history = self._history[-64:]
                if segment.on_start is not None:
                    segment.on_start(now)
            await self._output.send_audio(frame)
            pos += len(frame)
            self._sent += len(frame) // 2
        if self._marking and generation == self._generation:
            self._marks_sent += 1
            segment.mark = f"{segment.turn}.{self._marks_sent}"
            await typing.cast(MarkingOutput, self._output).send_mark(segment.mark)
