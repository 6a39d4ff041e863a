"""The one place a call's events leave it: to the client (protocol events), to the call record and to
the Prometheus metrics. The parts of a call report what happened here and know nothing of the three."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from voiceagent import metrics
from voiceagent.events import (
    AgentText,
    BudgetEvent,
    Clear,
    Error,
    SpeechStarted,
    Transcript,
    Transfer,
    TurnMetrics,
)
from voiceagent.pipeline.player import CallOutput
from voiceagent.pipeline.tasks import TaskSet
from voiceagent.records import CallRecord

log = logging.getLogger(__name__)


class CallObserver:
    """Turns call happenings into protocol events, record entries and metrics."""

    def __init__(self, output: CallOutput, record: CallRecord, tasks: TaskSet,
                 on_reply: Callable[[float], None] | None = None) -> None:
        self.output = output
        self.record = record
        self._tasks = tasks
        self._on_reply = on_reply

    # ----------------------------------------------------------------- the call as a whole
    def call_started(self, **fields: Any) -> None:
        """The call began (its facts go to the record)."""
        metrics.CALLS.inc()
        metrics.CALLS_ACTIVE.inc()
        self.record.write("start", **fields)

    def call_ended(self, reason: str, history: list[Any]) -> None:
        """The call is over: the record gets its end and whole transcript, then is closed."""
        metrics.CALLS_ACTIVE.dec()
        self.record.write("end", reason=reason, history=history)
        self.record.close()

    async def error(self, code: str, message: str, *, fatal: bool = False) -> None:
        """Tell the client something went wrong, count it and write it to the record."""
        metrics.ERRORS.labels(code).inc()
        self.record.write("error", code=code, message=message)
        await self.output.send_event(Error(code=code, message=message, fatal=fatal))

    def error_soon(self, code: str, message: str) -> None:
        """:meth:`error` without waiting (from synchronous code)."""
        self._tasks.start(self.error(code, message))

    def audio_dropped(self) -> None:
        """Caller audio was dropped (the call fell behind, or the caller sent too fast)."""
        metrics.DROPPED_AUDIO.inc()

    def keypad(self, digit: str) -> None:
        """The caller pressed a key."""
        self.record.write("dtmf", digit=digit)

    # ----------------------------------------------------------------- turns
    async def speech_started(self, turn: int) -> None:
        """The caller started speaking (the turn number it will get)."""
        await self.output.send_event(SpeechStarted(turn=turn))

    async def transcript(self, turn: int, text: str, revises: int | None) -> None:
        """The caller's final words for a turn."""
        await self.output.send_event(Transcript(turn=turn, text=text, revises=revises))
        self.record.write("transcript", turn=turn, text=text, revises=revises)

    async def agent_text(self, turn: int, text: str, kind: str = "reply") -> None:
        """A piece of agent speech about to be played."""
        await self.output.send_event(AgentText(turn=turn, text=text, kind=kind))

    def agent_text_soon(self, turn: int, text: str, kind: str) -> None:
        """:meth:`agent_text` without waiting (from synchronous code)."""
        self._tasks.start(self.agent_text(turn, text, kind))

    def reply(self, turn: int, text: str) -> None:
        """The whole reply of a turn, as spoken."""
        self.record.write("reply", turn=turn, text=text)

    async def reply_rejected(self, turn: int, clause: str, kind: str, detail: str) -> None:
        """A clause of the reply failed the reply check and was not spoken (the fallback was)."""
        metrics.REPLIES_CORRECTED.labels(kind).inc()
        self.record.write("reply_check", turn=turn, clause=clause, problem=kind, detail=detail)

    def action(self, turn: int, name: str, arguments: dict[str, str], outcome: str, ms: float,
               details: dict[str, Any]) -> None:
        """An action was carried out (``done``) or not (``refused``, ``failed``): record and metrics."""
        metrics.ACTIONS.labels(name, outcome).inc()
        metrics.ACTION_SECONDS.labels(name).observe(ms / 1000)
        self.record.write("action", turn=turn, name=name, arguments=arguments, outcome=outcome, ms=ms,
                          details=details)

    def action_reconsidered(self, turn: int, name: str, why: str) -> None:
        """The model called an action the caller had not asked for; it answers in words instead."""
        metrics.ACTIONS_RECONSIDERED.labels(name).inc()
        self.record.write("action_reconsidered", turn=turn, name=name, why=why)

    async def transfer(self, to: str) -> None:
        """The caller is handed to a person at ``to``: the transport passes it on."""
        self.record.write("transfer", to=to)
        await self.output.send_event(Transfer(to=to))

    def budget_missed(self, event: BudgetEvent | None) -> None:
        """Count a budget miss (the turn's timeline keeps the event itself)."""
        if event is not None:
            metrics.BUDGET_EXCEEDED.labels(event.stage).inc()

    def held_unfinished(self) -> None:
        """A turn ended early sounded unfinished: its answer waits for the longest silence."""
        metrics.UNFINISHED_HOLDS.inc()

    def held_partial(self) -> None:
        """A turn ended early gave part of what the action desk asked for: its answer waits for the
        longest silence."""
        metrics.PARTIAL_ANSWER_HOLDS.inc()

    def filler(self) -> None:
        """A filler phrase is played because the reply is late."""
        metrics.FILLERS.inc()

    async def interrupted(self, turn: int, heard: str) -> None:
        """The caller barged in; ``heard`` is what they heard of the agent's turn."""
        metrics.INTERRUPTIONS.inc()
        self.record.write("interrupted", turn=turn, heard=heard)
        await self.output.send_event(Clear(turn=turn, heard=heard))

    async def taken_back(self, turn: int) -> None:
        """The caller went on within moments of the reply to ``turn``: its audio is dropped (``clear``) and
        it counts as unheard (the turn is carried into the next)."""
        metrics.TAKEN_BACK.inc()
        self.record.write("interrupted", turn=turn, heard="", taken_back=True)
        await self.output.send_event(Clear(turn=turn, heard=""))

    async def turn_finished(self, event: TurnMetrics) -> None:
        """A turn is over: its metrics go everywhere."""
        for stage, ms in event.stages.items():
            metrics.STAGE_SECONDS.labels(stage.removesuffix("_ms")).observe(ms / 1000)
        if event.turn_ms is not None:
            metrics.TURN_SECONDS.observe(event.turn_ms / 1000)
        if event.reply_ms is not None:
            metrics.REPLY_SECONDS.observe(event.reply_ms / 1000)
            if self._on_reply is not None:
                self._on_reply(event.reply_ms)
        metrics.TURNS.labels(event.outcome).inc()
        self.record.write("turn_metrics", **event.to_dict())
        await self.output.send_event(event)
