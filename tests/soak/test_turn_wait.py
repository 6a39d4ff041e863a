"""A soak caller waits for the server's report of its turn (keeping the line open), not for the first quiet:
a filler, then a silence while a slow model writes, is not the end of the answer."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from voiceagent.client import Caller
from voiceagent.soak.runner import _until_turn_over


class _Line:
    """Stands in for the caller's connection: the turn's metrics arrive after ``report_after`` frames."""

    def __init__(self, report_after: int) -> None:
        self.frames = 0
        self.report_after = report_after
        self.closed = asyncio.Event()
        self.received = self

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        assert kind == "turn_metrics"
        return [{"outcome": "answered"}] if self.frames >= self.report_after else []

    async def silence(self, seconds: float) -> None:
        self.frames += 1


def test_the_caller_keeps_the_line_open_until_the_turn_is_reported() -> None:
    line = _Line(report_after=7)
    asyncio.run(_until_turn_over(cast(Caller, line), metrics_before=0))
    assert line.frames == 7  # silence was sent until the report came, and no longer


def test_a_closed_line_or_the_timeout_ends_the_wait() -> None:
    line = _Line(report_after=10**9)
    line.closed.set()
    asyncio.run(_until_turn_over(cast(Caller, line), metrics_before=0))
    assert line.frames == 0
    slow = _Line(report_after=10**9)
    asyncio.run(_until_turn_over(cast(Caller, slow), metrics_before=0, timeout_s=0.05))
    assert slow.frames >= 1
