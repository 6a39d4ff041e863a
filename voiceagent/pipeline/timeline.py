"""The timeline of one turn and its budget checks.

Marks (monotonic seconds): speech_end -> endpoint -> stt_done -> llm_first_token -> first_clause ->
tts_first_audio -> audio_out. Stage durations are measured separately (a speculative transcription can
finish before the endpoint), and for the engine stages the part of it spent waiting in the engine's queue
(``stt_queue_ms``, ``llm_first_token_queue_ms``, ``tts_first_audio_queue_ms``). Every check against a
budget happens once; a miss becomes a BudgetEvent.
"""

from __future__ import annotations

from typing import Any

from voiceagent.config import Budgets
from voiceagent.events import BudgetEvent, TurnMetrics

MARKS = ("speech_end", "endpoint", "stt_done", "llm_first_token", "first_clause", "tts_first_audio", "audio_out")
STAGE_BUDGETS = {
    "endpoint": "endpoint_ms",
    "stt": "stt_ms",
    "llm_first_token": "llm_first_token_ms",
    "tts_first_audio": "tts_first_audio_ms",
    "turn": "turn_ms",
}


class TurnTimeline:
    """Collects the marks and stage durations of one turn."""

    def __init__(self, turn: int, speech_end: float, budgets: Budgets) -> None:
        self.turn = turn
        self.budgets = budgets
        self.marks: dict[str, float] = {"speech_end": speech_end}
        self.stages: dict[str, float] = {}
        self.budget_events: list[BudgetEvent] = []
        self.reply_out: float | None = None  # first audio of the real reply (not a filler)
        self.engine_waits: dict[str, float] = {}  # seconds this turn's engine jobs waited in queue, by engine
        self.end_of_turn: dict[str, Any] = {}  # what ended the caller's turn (see TurnMetrics.end_of_turn)

    def ended(self, reason: str, silence_ms: float, turn_prob: float | None, hold_ms: float = 0.0) -> None:
        """Record what ended the caller's turn: the endpointer's ``reason``, the silence then, the
        end-of-turn model's probability (None when it was not asked or failed) and the silence its reply
        waits for (``hold_ms``, when the turn ended before its wait)."""
        self.end_of_turn = {"reason": reason, "silence_ms": round(silence_ms, 1),
                            "turn_prob": None if turn_prob is None else round(turn_prob, 3)}
        if hold_ms:
            self.end_of_turn["hold_ms"] = round(hold_ms, 1)

    def mark(self, name: str, at: float) -> bool:
        """Set a mark once; returns False if it was already set."""
        if name in self.marks:
            return False
        self.marks[name] = at
        return True

    def stage(self, name: str, seconds: float) -> BudgetEvent | None:
        """Record a stage's duration; returns a budget event if it ran past its budget."""
        self.stages[f"{name}_ms"] = round(seconds * 1000, 1)
        return self.check(name, seconds)

    def waited(self, name: str, seconds: float) -> None:
        """How much of stage ``name`` was spent waiting for the engine's thread (``{name}_queue_ms``):
        the rest of the stage is the engine's own time."""
        self.stages[f"{name}_queue_ms"] = round(seconds * 1000, 1)

    def check(self, name: str, seconds: float) -> BudgetEvent | None:
        """Compare ``seconds`` with the stage's budget; record and return a miss."""
        budget_ms = int(getattr(self.budgets, STAGE_BUDGETS[name]))
        actual_ms = round(seconds * 1000, 1)
        if actual_ms <= budget_ms or any(e.stage == name for e in self.budget_events):
            return None
        event = BudgetEvent(stage=name, budget_ms=budget_ms, actual_ms=actual_ms)
        self.budget_events.append(event)
        return event

    def to_metrics(self, *, outcome: str, filler: bool, interrupted: bool) -> TurnMetrics:
        """The ``turn_metrics`` event for this turn."""
        origin = self.marks["speech_end"]
        timeline = {k: round((self.marks[k] - origin) * 1000, 1) for k in MARKS if k in self.marks}
        out = self.marks.get("audio_out")
        return TurnMetrics(
            turn=self.turn,
            stages=dict(self.stages),
            timeline=timeline,
            turn_ms=None if out is None else round((out - origin) * 1000, 1),
            reply_ms=None if self.reply_out is None else round((self.reply_out - origin) * 1000, 1),
            budget_events=list(self.budget_events),
            filler=filler,
            interrupted=interrupted,
            outcome=outcome,
            end_of_turn=dict(self.end_of_turn),
        )
