"""Admission: the call limit, the load callers feel (the last minute's real replies), and draining; what
``/healthz`` and ``/readyz`` report of it. (The refusal on the wire, 1013 and 486, is tested per transport.)"""

from __future__ import annotations

from typing import Any, cast

import pytest

from voiceagent.stages.reply_load import MIN_TURNS, ReplyLoad
from voiceagent.transports.registry import CallRegistry, TooManyCalls
from voiceagent.transports.session import CallSession


def registry(max_calls: int = 4, limit_ms: float = 2000) -> CallRegistry:
    return CallRegistry(max_calls, ReplyLoad(limit_ms=limit_ms))


def one_call(reg: CallRegistry) -> None:
    reg.sessions.add(cast(CallSession, object()))


def test_slow_replies_refuse_new_calls_but_never_the_first() -> None:
    reg = registry()
    for _ in range(MIN_TURNS):
        reg.load.add(4500)
    reg.admit()  # no call in progress: a lone slow call is not helped by refusing it
    one_call(reg)
    with pytest.raises(TooManyCalls, match="answered too slowly.*4500.*2000"):
        reg.admit()
    status: dict[str, Any] = reg.status()
    assert status["ready"] is False and status["spare"] == 0 and status["active"] == 1
    assert status["load"]["reply_p95_ms"] == 4500 and status["load"]["limit_ms"] == 2000


def test_replies_in_time_leave_room_up_to_max_calls() -> None:
    reg = registry(max_calls=2)
    for _ in range(10):
        reg.load.add(800)
    one_call(reg)
    reg.admit()
    assert reg.status()["ready"] is True and reg.status()["spare"] == 1
    one_call(reg)
    with pytest.raises(TooManyCalls, match="limit of 2"):
        reg.admit()
    assert reg.status()["ready"] is False


def test_a_limit_of_zero_admits_on_max_calls_alone_and_draining_refuses_everyone() -> None:
    reg = registry(limit_ms=0)
    for _ in range(10):
        reg.load.add(9000)
    one_call(reg)
    reg.admit()
    reg.accepting = False
    with pytest.raises(TooManyCalls, match="shutting down"):
        reg.admit()
    assert reg.status()["ready"] is False
