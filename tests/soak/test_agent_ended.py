"""A call the agent ends itself (a goodbye, a transfer) is a normal end for the soak, not a dropped call
(the soak once died on one: a caller's 'five' heard as 'Bye.')."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.frames import Close

from voiceagent.client import Caller
from voiceagent.soak.runner import _ended_by_agent


def caller(*ended: dict[str, Any]) -> Caller:
    return cast(Caller, SimpleNamespace(received=SimpleNamespace(of_type=lambda kind: list(ended) if kind == "ended" else [])))


def test_the_agents_own_goodbye_or_transfer_is_not_a_failure() -> None:
    assert _ended_by_agent(caller({"reason": "agent_ended"}), ConnectionError("closed"))
    assert _ended_by_agent(caller(), ConnectionClosedOK(Close(1000, "transferred"), Close(1000, "transferred"), True))


def test_other_ends_are_failures() -> None:
    assert not _ended_by_agent(caller({"reason": "idle_timeout"}), ConnectionError("closed"))
    assert not _ended_by_agent(caller(), ConnectionClosedError(Close(1011, ""), None))
    assert not _ended_by_agent(caller(), ConnectionError("reset"))
