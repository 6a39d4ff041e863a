"""Caller audio into a call: rate limits, and a bounded queue with a stated policy.

Policy: caller audio waits in a bounded queue; when a call falls behind, its oldest frames are dropped
(and counted), never the newest: late audio is worth less than current audio. Audio arriving faster than
real time is allowed ``burst_s`` of lead (network jitter); past that it is dropped, and a caller more
than ``abuse_s`` ahead is cut off.
"""

from __future__ import annotations

import asyncio
import enum
import time


class Admission(enum.Enum):
    """What became of one piece of caller audio."""

    ACCEPTED = "accepted"
    DROPPED_OLDEST = "dropped_oldest"  # accepted, but the queue was full: its oldest frame was dropped
    TOO_FAST = "too_fast"  # dropped: the caller is ahead of real time by more than the burst allowance
    ABUSIVE = "abusive"  # dropped, and the call should end: far ahead of real time


class AudioInlet:
    """Admits caller PCM (16-bit at ``sample_rate``) and hands it to the call's listener in order."""

    def __init__(self, sample_rate: int, *, max_frames: int, burst_s: float, abuse_s: float) -> None:
        self.sample_rate = sample_rate
        self._burst_s = burst_s
        self._abuse_s = abuse_s
        self._queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(max_frames)
        self._started = time.monotonic()
        self.last_audio = self._started  # when audio last arrived (for the idle timeout)
        self._samples_in = 0  # samples accepted
        self._samples_offered = 0  # samples sent, dropped ones included

    def offer(self, pcm: bytes) -> Admission:
        """Admit one piece of audio. Never blocks."""
        now = time.monotonic()
        self.last_audio = now
        elapsed = now - self._started
        samples = len(pcm) // 2
        self._samples_offered += samples
        if self._samples_offered / self.sample_rate - elapsed > self._abuse_s:
            return Admission.ABUSIVE
        if (self._samples_in + samples) / self.sample_rate - elapsed > self._burst_s:
            return Admission.TOO_FAST
        self._samples_in += samples
        verdict = Admission.ACCEPTED
        if self._queue.full():
            self._queue.get_nowait()
            verdict = Admission.DROPPED_OLDEST
        self._queue.put_nowait((pcm, now))
        return verdict

    async def get(self) -> tuple[bytes, float]:
        """The next piece of audio and its arrival time (monotonic seconds). Safe to cancel."""
        return await self._queue.get()
