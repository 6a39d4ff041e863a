"""What the caller heard in one turn, from the events of a call: the native protocol's own events, or,
for ``/twilio`` (Media Streams has no channel for text), the server's call record read back as the same
event shapes. Times are client-side monotonic seconds."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from voiceagent.bench import stats

Timed = tuple[float, dict[str, Any]]
FINAL_OUTCOMES = ("answered", "apology", "empty", "interrupted")


@dataclasses.dataclass(frozen=True, slots=True)
class TurnHeard:
    """One caller turn as the caller lived it."""

    transcript: str  # what the server heard (final text of every turn it made of the sentence)
    heard: str  # the reply text the caller heard (kind "reply"; greeting and fillers excluded)
    filler: bool
    turn_ms: float | None  # server: end of speech -> first agent audio (a filler counts)
    reply_ms: float | None  # server: end of speech -> first audio of the real reply
    outcome: str | None
    pieces: int = 0  # server turns the sentence was cut into (more than 1: it ended a turn mid-sentence)
    timeline: dict[str, float] = dataclasses.field(default_factory=dict)  # server marks, ms after end of speech
    stages: dict[str, float] = dataclasses.field(default_factory=dict)  # server stage and queue times, ms
    end_of_turn: dict[str, Any] = dataclasses.field(default_factory=dict)  # what ended the server's (last) turn

    @property
    def split(self) -> bool:
        """True when the server cut the sentence into more than one turn (continued or answered apart)."""
        return self.pieces > 1


def find_record(folder: Path, call_sid: str) -> Path | None:
    """The call record of the Twilio call ``call_sid`` (its first line names the call SID), if written yet."""
    for path in folder.glob("*.jsonl"):
        with path.open(encoding="utf-8") as file:
            try:
                first = json.loads(file.readline() or "{}")
            except json.JSONDecodeError:
                continue
        if first.get("call_sid") == call_sid:
            return path
    return None


def record_events(path: Path) -> list[Timed]:
    """A call record as native-style events: transcripts, replies (as ``agent_text`` of kind ``reply``)
    and turn metrics, on the client's monotonic clock."""
    offset = time.monotonic() - time.time()
    events: list[Timed] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written
        kind = entry.pop("kind", None)
        at = float(entry.pop("at", 0.0)) + offset
        if kind == "reply":
            events.append((at, {"type": "agent_text", "kind": "reply", **entry}))
        elif kind in ("transcript", "turn_metrics"):
            events.append((at, {"type": kind, **entry}))
    return events


def last_turn_finished(events: list[Timed], since: float) -> bool:
    """True when the server's latest turn since ``since`` (the last piece of a sentence it may have cut
    in two) has metrics with a final outcome: a finished first piece alone does not end the wait."""
    window = [e for at, e in events if at >= since and e.get("type") in ("transcript", "turn_metrics")]
    if not window:
        return False
    latest = max(int(e.get("turn", -1)) for e in window)
    return any(e.get("type") == "turn_metrics" and e.get("outcome") in FINAL_OUTCOMES
               and int(e.get("turn", -1)) == latest for e in window)


def turn_heard(events: list[Timed], start: float, end: float) -> TurnHeard:
    """Everything of one caller turn: events in [start, end)."""
    window = [e for at, e in events if start <= at < end]
    final: dict[int, str] = {}
    pieces: set[int] = set()
    for e in window:
        if e.get("type") == "transcript":
            pieces.add(int(e["turn"]))
            if e.get("revises") is not None:
                final.pop(int(e["revises"]), None)
            final[int(e["turn"])] = str(e["text"])
    replies = [str(e["text"]) for e in window if e.get("type") == "agent_text" and e.get("kind") == "reply"
               and int(e.get("turn", -1)) in final]
    # a turn in which no words were heard ("empty") or the engine failed ("apology") has no transcript,
    # but its outcome and times are the sentence's
    shown = set(final) | {int(e.get("turn", -1)) for e in window if e.get("type") == "turn_metrics"
                          and e.get("outcome") in ("empty", "apology")}
    metrics = [e for e in window if e.get("type") == "turn_metrics" and int(e.get("turn", -1)) in shown]
    last = metrics[-1] if metrics else {}
    return TurnHeard(
        transcript=" ".join(final[k] for k in sorted(final)),
        heard=" ".join(r.strip() for r in replies if r.strip()),
        filler=any(bool(m.get("filler")) for m in metrics),
        turn_ms=last.get("turn_ms"), reply_ms=last.get("reply_ms"), outcome=last.get("outcome"), pieces=len(pieces),
        timeline=dict(last.get("timeline") or {}), stages=dict(last.get("stages") or {}),
        end_of_turn=dict(last.get("end_of_turn") or {}),
    )


def real_reply_ms(first_audio_ms: float | None, heard: TurnHeard) -> float | None:
    """Client-side time to the first audio of the real reply (see :func:`voiceagent.bench.stats.real_reply_ms`)."""
    return stats.real_reply_ms(first_audio_ms, filler=heard.filler, server_turn_ms=heard.turn_ms,
                               server_reply_ms=heard.reply_ms)
