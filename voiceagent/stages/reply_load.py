"""How loaded the server is, as callers feel it: the real-reply times of the turns of the last minute.

A fixed ``max_calls`` says nothing about how long the calls in progress wait for their answers: on two
cores, three chatty calls can push every reply past the budget while ten quiet ones do not. Admission
therefore also asks this window: when the recent replies' p95 is past ``admit_reply_p95_ms``, a new call
is refused (close 1013, SIP 486, HTTP 503) until the calls in progress are answered in time again. It
never refuses the first call, and it needs a few turns before it judges.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

import numpy as np

MIN_TURNS = 5  # fewer recent turns than this say nothing about the load


class ReplyLoad:
    """Real-reply times (ms) of the turns finished in the last ``window_s`` seconds."""

    def __init__(self, *, window_s: float = 60.0, limit_ms: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``limit_ms`` (0: no limit) is the p95 past which new calls are refused."""
        self.window_s = window_s
        self.limit_ms = limit_ms
        self._clock = clock
        self._replies: collections.deque[tuple[float, float]] = collections.deque()

    def add(self, reply_ms: float) -> None:
        """A turn was answered ``reply_ms`` after the caller stopped speaking."""
        self._replies.append((self._clock(), reply_ms))
        self._forget()

    def p95_ms(self) -> float | None:
        """p95 of the recent real replies; None with fewer than :data:`MIN_TURNS` of them."""
        self._forget()
        if len(self._replies) < MIN_TURNS:
            return None
        return round(float(np.percentile([ms for _, ms in self._replies], 95)), 1)

    def overloaded(self) -> bool:
        """Whether the recent replies are past the limit (never without a limit or enough turns)."""
        p95 = self.p95_ms() if self.limit_ms > 0 else None
        return p95 is not None and p95 > self.limit_ms

    def describe(self) -> dict[str, float | int | None]:
        """For ``/healthz``: the window, its turns, their p95 and the limit."""
        self._forget()
        return {"window_s": self.window_s, "turns": len(self._replies), "reply_p95_ms": self.p95_ms(),
                "limit_ms": self.limit_ms or None}

    def _forget(self) -> None:
        horizon = self._clock() - self.window_s
        while self._replies and self._replies[0][0] < horizon:
            self._replies.popleft()
