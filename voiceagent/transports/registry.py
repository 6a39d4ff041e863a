"""The calls in progress on one server: admission against ``max_calls`` and against the load callers feel
(the last minute's real replies, :mod:`voiceagent.stages.reply_load`), and draining on shutdown."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from voiceagent import metrics
from voiceagent.stages.reply_load import ReplyLoad

if TYPE_CHECKING:
    from voiceagent.transports.session import CallSession


class TooManyCalls(RuntimeError):
    """The server is at ``max_calls``, too slow to take one more call, or shutting down: the caller
    should try again later."""


class CallRegistry:
    """The calls in progress on one server: admission against ``max_calls``, and graceful shutdown."""

    def __init__(self, max_calls: int, load: ReplyLoad | None = None) -> None:
        self.max_calls = max_calls
        self.load = load if load is not None else ReplyLoad()
        self.sessions: set[CallSession] = set()
        self.accepting = True

    def admit(self) -> None:
        """Raise :class:`TooManyCalls` when full, too slow for one more call, or shutting down. The
        first call is always taken (a lone slow call is not made faster by refusing others)."""
        if not self.accepting:
            raise TooManyCalls("the server is shutting down")
        if len(self.sessions) >= self.max_calls:
            metrics.REFUSED_CALLS.labels("max_calls").inc()
            raise TooManyCalls(f"the server is at its limit of {self.max_calls} concurrent calls")
        if self.sessions and self.load.overloaded():
            metrics.REFUSED_CALLS.labels("load").inc()
            raise TooManyCalls(f"the calls in progress are answered too slowly (real-reply p95 "
                               f"{self.load.p95_ms()} ms over the last minute, limit {self.load.limit_ms:g} ms)")

    def status(self) -> dict[str, object]:
        """For ``/healthz`` and ``/readyz``: calls, the limit, whether one more is taken, spare room, load."""
        ready = self.accepting and len(self.sessions) < self.max_calls and not (self.sessions and self.load.overloaded())
        return {"active": len(self.sessions), "max_calls": self.max_calls, "ready": ready,
                "spare": self.max_calls - len(self.sessions) if ready else 0, "load": self.load.describe()}

    async def drain(self, grace_s: float) -> int:
        """Stop admitting calls, let calls in progress finish for up to ``grace_s``, then end the rest
        (their records are written). Returns how many had to be ended."""
        self.accepting = False
        tasks = [s.task for s in self.sessions]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        remaining = list(self.sessions)
        for session in remaining:  # ended "on their own": each transport says goodbye its way
            session.call.hang_up("server_shutdown")
        if remaining:
            await asyncio.wait([s.task for s in remaining], timeout=10)
            await asyncio.sleep(0.2)  # let the transports send their goodbyes
        return len(remaining)
