"""``voiceagent calls``: list the call records in a folder, and show one as a readable conversation."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any

from voiceagent.records import Redactor, load_record


@dataclasses.dataclass(frozen=True, slots=True)
class CallSummary:
    """One line of ``voiceagent calls``."""

    call_id: str
    started: float | None
    transport: str
    persona: str
    turns: int
    errors: int
    duration_s: float | None
    end: str  # the end reason, or "in progress / cut off" when the record has no end (a crash)
    unreadable: int = 0  # lines skipped as not whole entries (a torn last line: the server stopped writing)


def summarize(path: Path) -> CallSummary:
    """Summarise one record file (lines that are not whole entries are skipped and counted)."""
    record = load_record(path)
    entries = record.entries
    start = next((e for e in entries if e.get("kind") == "start"), {})
    end = next((e for e in reversed(entries) if e.get("kind") == "end"), None)
    first_at = entries[0].get("at") if entries else None
    last_at = entries[-1].get("at") if entries else None
    return CallSummary(
        call_id=path.stem,
        started=first_at,
        transport=str(start.get("transport", "native")),
        persona=str(start.get("persona", "?")),
        turns=sum(1 for e in entries if e.get("kind") == "transcript"),
        errors=sum(1 for e in entries if e.get("kind") == "error"),
        duration_s=round(last_at - first_at, 1) if first_at is not None and last_at is not None else None,
        end=str(end.get("reason")) if end else "in progress / cut off",
        unreadable=len(record.skipped),
    )


def list_calls(folder: Path, limit: int = 50) -> list[CallSummary]:
    """The most recent calls first (a record deleted meanwhile, by retention, is left out)."""
    stamped: list[tuple[float, Path]] = []
    for path in folder.glob("*.jsonl"):
        with contextlib.suppress(FileNotFoundError):
            stamped.append((path.stat().st_mtime, path))
    calls = []
    for _, path in sorted(stamped, reverse=True)[:limit]:
        with contextlib.suppress(FileNotFoundError):
            calls.append(summarize(path))
    return calls


def format_list(calls: list[CallSummary]) -> str:
    """A table of calls."""
    header = (f"{'call':<14} {'started':<19} {'transport':<11} {'persona':<13} {'turns':>5} {'errors':>6} "
              f"{'secs':>7}  end")
    lines = [header]
    for c in calls:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.started)) if c.started else "?"
        lines.append(f"{c.call_id:<14} {started:<19} {c.transport:<11} {c.persona:<13} {c.turns:>5} {c.errors:>6} "
                     f"{c.duration_s if c.duration_s is not None else '?':>7}  {c.end}"
                     + (f" ({c.unreadable} unreadable line{'s' if c.unreadable > 1 else ''} skipped)"
                        if c.unreadable else ""))
    return "\n".join(lines)


def show_call(path: Path, *, redact: bool = False) -> tuple[str, str]:
    """``voiceagent calls show``: the call as a conversation, and a warning about lines that could not be
    read ("" when none). With ``redact``, phone numbers and names are replaced as they are shown (for
    records written before ``redact`` was turned on)."""
    record = load_record(path)
    entries = record.entries
    if redact:
        redactor = Redactor()
        entries = [redactor.entry(e) for e in entries]
    return format_call(entries), record.warning(path.name)


def format_call(entries: list[dict[str, Any]]) -> str:
    """One call as a conversation with its metrics, errors and end."""
    lines = []
    t0 = entries[0]["at"] if entries else 0.0
    for e in entries:
        at = f"{e.get('at', t0) - t0:7.2f}s"
        kind = e.get("kind")
        if kind == "start":
            lines.append(f"{at} call {e.get('call_id')} via {e.get('transport', 'native')}, persona "
                         f"{e.get('persona')}, {e.get('sample_rate')} Hz, models {e.get('models')}")
        elif kind == "transcript":
            lines.append(f"{at} caller: {e.get('text')}" + (f"  (revises turn {e['revises']})" if e.get("revises") else ""))
        elif kind == "reply":
            lines.append(f"{at} agent:  {e.get('text')}")
        elif kind == "interrupted":
            lines.append(f"{at} (caller interrupted; heard: {e.get('heard')!r})")
        elif kind == "turn_metrics":
            misses = ", ".join(f"{b['stage']} {b['actual_ms']}>{b['budget_ms']} ms" for b in e.get("budget_events", []))
            lines.append(f"{at} turn {e.get('turn')}: {e.get('outcome')}, {e.get('turn_ms')} ms"
                         + (f"; over budget: {misses}" if misses else ""))
        elif kind == "error":
            lines.append(f"{at} error {e.get('code')}: {e.get('message')}")
        elif kind == "dtmf":
            lines.append(f"{at} keypad: {e.get('digit')}")
        elif kind == "end":
            lines.append(f"{at} ended: {e.get('reason')}")
    if not any(e.get("kind") == "end" for e in entries):
        lines.append("(no end entry: the call is in progress, or the server stopped abruptly)")
    return "\n".join(lines)
