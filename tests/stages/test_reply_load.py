"""The server's load as callers feel it: real-reply times of the last minute, and when it says 'full'."""

from __future__ import annotations

from voiceagent.stages.reply_load import MIN_TURNS, ReplyLoad


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slow_recent_replies_mean_overloaded_and_old_ones_are_forgotten() -> None:
    clock = Clock()
    load = ReplyLoad(window_s=60, limit_ms=1500, clock=clock)
    for _ in range(MIN_TURNS - 1):
        load.add(4000)
    assert not load.overloaded() and load.p95_ms() is None  # too few turns to judge
    load.add(4000)
    assert load.overloaded() and load.p95_ms() == 4000
    clock.now += 61  # a minute later the slow turns no longer count
    assert not load.overloaded() and load.describe()["turns"] == 0
    for _ in range(20):
        load.add(700)
    load.add(3000)  # one slow turn in twenty-one is not the p95
    assert not load.overloaded() and load.describe() == {
        "window_s": 60, "turns": 21, "reply_p95_ms": 700.0, "limit_ms": 1500}


def test_without_a_limit_it_only_reports() -> None:
    load = ReplyLoad(window_s=60, limit_ms=0)
    for _ in range(10):
        load.add(9000)
    assert not load.overloaded() and load.p95_ms() == 9000 and load.describe()["limit_ms"] is None
