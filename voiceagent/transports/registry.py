"""The calls in progress on one server: admission against ``max_calls``, and draining on shutdown."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from voiceagent import metrics

if TYPE_CHECKING:
    from voiceagent.transports.session import CallSession


class TooManyCalls(RuntimeError):
    """The server is at ``max_calls``: the caller should try again later."""


class CallRegistry:
    """The calls in progress on one server: admission against ``max_calls``, and graceful shutdown."""

    def __init__(self, max_calls: int) -> None:
        self.max_calls = max_calls
        self.sessions: set[CallSession] = set()
        self.accepting = True

    def admit(self) -> None:
        """Raise :class:`TooManyCalls` when full or shutting down."""
        if not self.accepting:
            raise TooManyCalls("the server is shutting down")
        if len(self.sessions) >= self.max_calls:
            metrics.REFUSED_CALLS.inc()
            raise TooManyCalls(f"the server is at its limit of {self.max_calls} concurrent calls")

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
