"""The typed events a call sends to its client (the server -> client half of the native protocol).

Each event serialises to a JSON object with a ``type``; agent audio travels separately as binary PCM.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """Base of all server -> client events."""

    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object sent on the wire."""
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class Ready(Event):
    """The call is set up: models loaded, persona chosen, audio may flow."""

    type: ClassVar[str] = "ready"
    call_id: str
    sample_rate: int
    persona: str
    models: dict[str, str]
    budgets: dict[str, int]
    protocol: int = 1  # the native protocol's version: raised when a change could break an existing client


@dataclasses.dataclass(frozen=True, slots=True)
class SpeechStarted(Event):
    """The caller started speaking (voice activity detected)."""

    type: ClassVar[str] = "speech_started"
    turn: int


@dataclasses.dataclass(frozen=True, slots=True)
class Transcript(Event):
    """The final text of one caller turn."""

    type: ClassVar[str] = "transcript"
    turn: int
    text: str
    revises: int | None = None  # the caller went on after a pause: this text replaces that turn's


@dataclasses.dataclass(frozen=True, slots=True)
class AgentText(Event):
    """One clause the agent is about to speak (sent as it is handed to speech synthesis)."""

    type: ClassVar[str] = "agent_text"
    turn: int
    text: str
    kind: str = "reply"  # reply, greeting, filler, apology or reprompt (nothing was heard: "say it again")


@dataclasses.dataclass(frozen=True, slots=True)
class Clear(Event):
    """The caller barged in: drop any agent audio still queued for playback."""

    type: ClassVar[str] = "clear"
    turn: int
    heard: str  # what of the agent's reply the caller heard before interrupting


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetEvent:
    """A stage that ran past its budget."""

    stage: str
    budget_ms: int
    actual_ms: float


@dataclasses.dataclass(frozen=True, slots=True)
class TurnMetrics(Event):
    """Where the time of one turn went. All times in milliseconds.

    ``stages`` holds each stage's own duration; ``timeline`` each mark's offset from ``speech_end``;
    ``turn_ms`` is speech_end -> first agent audio out (filler included), ``reply_ms`` the same for
    the first audio of the real reply.
    """

    type: ClassVar[str] = "turn_metrics"
    turn: int
    stages: dict[str, float]
    timeline: dict[str, float]
    turn_ms: float | None
    reply_ms: float | None
    budget_events: list[BudgetEvent]
    filler: bool
    interrupted: bool
    outcome: str  # answered, interrupted, continued, apology, empty, call_ended (hung up before the reply)
    # what ended the caller's turn: reason (silence, model, max_silence, max_length), silence_ms (the silence
    # after the last voiced frame then), turn_prob (the end-of-turn model's probability of "finished", or None),
    # held_unfinished (True when its words sounded unfinished, so the answer waited for the longest silence)
    # and held_partial (True when they gave part of what the action desk asked for: the same wait)
    end_of_turn: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Error(Event):
    """Something went wrong; ``code`` is stable and machine-readable."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    fatal: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Ended(Event):
    """The call is over; ``reason`` says why."""

    type: ClassVar[str] = "ended"
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Transfer(Event):
    """The agent hands the caller to a person at ``to`` (a phone number or SIP URI); the call ends
    (reason ``transferred``) once the bridge has passed it on."""

    type: ClassVar[str] = "transfer"
    to: str
