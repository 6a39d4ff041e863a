"""The soak report: JSON-ready numbers, threshold checks, and the machine they were measured on."""

from __future__ import annotations

import dataclasses
from typing import Any

from voiceagent.bench.machine import machine
from voiceagent.bench.stats import slope_per_hour, summary
from voiceagent.soak.runner import SoakResult, TurnSample

WINDOW_S = 30.0  # latency-over-time windows


@dataclasses.dataclass(frozen=True, slots=True)
class Thresholds:
    """Release gates; None disables one."""

    p95_ms: float | None = None  # client-measured turn time p95
    error_rate: float | None = None  # (errors + unanswered turns + dropped calls) / turns
    memory_growth_mb_per_hour: float | None = None  # slope of server resident memory


def build_report(result: SoakResult, thresholds: Thresholds) -> dict[str, Any]:
    """Summarise a soak run."""
    plan = result.plan
    duration = max(1e-9, result.finished - result.started)
    answered = [t.turn_ms for t in result.turns if t.turn_ms is not None]
    replies = [t.reply_ms for t in result.turns if t.reply_ms is not None]
    error_rate = (sum(result.errors.values()) + result.dropped_calls) / max(1, len(result.turns))
    report: dict[str, Any] = {
        "machine": machine(),  # the server's too: the soak runs on loopback
        "server": result.health,
        "plan": {**dataclasses.asdict(plan), "audio": [str(p) for p in plan.audio]},
        "duration_s": round(duration, 1),
        "calls": result.calls,
        "turns": len(result.turns),
        "turns_per_s": round(len(result.turns) / duration, 3),
        "answered": len(answered),
        "unanswered": len(result.turns) - len(answered),
        "barge_ins": sum(1 for t in result.turns if t.barged),
        "reply_ms": summary(replies),  # the headline: the real reply at the caller (native callers)
        "filler_rate": _filler_rate(result.turns),
        "turn_ms": summary(answered),  # first agent audio at the caller, a filler included
        **_server_side(result.turn_metrics),
        "errors": dict(sorted(result.errors.items())),
        "error_rate": round(error_rate, 4),
        "dropped_calls": result.dropped_calls,
        "ended_by_agent": result.ended_by_agent,
        "steps": _steps(result),
        "windows": _windows(result, duration),
        "memory": _memory(result),
        "call_ids": result.call_ids,
    }
    report["thresholds"] = check(report, thresholds)
    return report


def _steps(result: SoakResult) -> list[dict[str, Any]]:
    """Turn times per concurrency step."""
    steps = []
    for callers in result.plan.callers:
        mine = [t for t in result.turns if t.callers == callers]
        times = [t.turn_ms for t in mine if t.turn_ms is not None]
        steps.append({"callers": callers, "turns": len(mine), "unanswered": len(mine) - len(times),
                      "reply_ms": summary([t.reply_ms for t in mine if t.reply_ms is not None]),
                      "filler_rate": _filler_rate(mine),
                      "turn_ms": summary(times), "turns_per_s": round(len(mine) / result.plan.step_s, 3)})
    return steps


def _filler_rate(turns: list[TurnSample]) -> float | None:
    """Share of the turns whose caller heard a filler first (of those whose transport says)."""
    known = [t.filler for t in turns if t.filler is not None]
    return round(sum(known) / len(known), 3) if known else None


def _server_side(turn_metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """What the server measured (its ``turn_metrics`` events): stages, outcomes, fillers, budget misses."""
    stages: dict[str, list[float]] = {}
    budget_misses: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    server_turn: list[float] = []
    server_reply: list[float] = []
    fillers = 0
    for event in turn_metrics:
        outcomes[event["outcome"]] = outcomes.get(event["outcome"], 0) + 1
        fillers += bool(event.get("filler"))
        if event["outcome"] != "answered":
            continue
        for stage, ms in event.get("stages", {}).items():
            stages.setdefault(stage, []).append(float(ms))
        if event.get("turn_ms") is not None:
            server_turn.append(float(event["turn_ms"]))
        if event.get("reply_ms") is not None:  # the real answer, after any filler
            server_reply.append(float(event["reply_ms"]))
        for miss in event.get("budget_events", []):
            budget_misses[miss["stage"]] = budget_misses.get(miss["stage"], 0) + 1
    return {"server_turn_ms": summary(server_turn), "server_reply_ms": summary(server_reply),
            "stages_ms": {stage: summary(values) for stage, values in sorted(stages.items())},
            "outcomes": outcomes, "fillers": fillers, "budget_misses": budget_misses}


def _windows(result: SoakResult, duration: float) -> list[dict[str, Any]]:
    """Turn-time percentiles over consecutive WINDOW_S windows (latency over time)."""
    windows = []
    start = 0.0
    while start < duration:
        inside = [t for t in result.turns if start <= t.at < start + WINDOW_S]
        times = [t.turn_ms for t in inside if t.turn_ms is not None]
        if inside:
            windows.append({"t": round(start + WINDOW_S / 2, 1), "turns": len(inside),
                            "active": max(t.active for t in inside), **{k: summary(times)[k] for k in ("p50", "p95")}})
        start += WINDOW_S
    return windows


def _memory(result: SoakResult) -> dict[str, Any]:
    """The server's resident memory samples and their trend, over the whole run and after the plan's
    warm-up (None when the run is too short for a trend after it)."""
    memory = [(t, s["rss_mb"]) for t, s in result.memory if "rss_mb" in s]
    warm = [(t, mb) for t, mb in memory if t >= result.plan.warmup_s]
    return {
        "samples": [[round(t, 1), round(mb, 1)] for t, mb in memory],
        "start_mb": round(memory[0][1], 1) if memory else None,
        "end_mb": round(memory[-1][1], 1) if memory else None,
        "max_mb": round(max(mb for _, mb in memory), 1) if memory else None,
        "slope_mb_per_hour": slope_per_hour([t for t, _ in memory], [mb for _, mb in memory]),
        "warmup_s": result.plan.warmup_s,
        "slope_after_warmup_mb_per_hour": slope_per_hour([t for t, _ in warm], [mb for _, mb in warm]),
    }


def check(report: dict[str, Any], thresholds: Thresholds) -> dict[str, Any]:
    """Compare the report with the gates: ``passed`` and one line per violation."""
    violations = []
    p95 = _headline(report)["p95"]
    if thresholds.p95_ms is not None and (p95 is None or p95 > thresholds.p95_ms):
        violations.append(f"real reply p95 {p95} ms > {thresholds.p95_ms} ms")
    if thresholds.error_rate is not None and report["error_rate"] > thresholds.error_rate:
        violations.append(f"error rate {report['error_rate']} > {thresholds.error_rate}")
    memory = report["memory"]
    # the trend after the warm-up when the run has one (a run shorter than its warm-up: the whole run's)
    slope = memory.get("slope_after_warmup_mb_per_hour")
    slope = memory["slope_mb_per_hour"] if slope is None else slope
    if thresholds.memory_growth_mb_per_hour is not None and slope is not None \
            and slope > thresholds.memory_growth_mb_per_hour:
        violations.append(f"memory growth {slope} MB/h > {thresholds.memory_growth_mb_per_hour} MB/h")
    return {**dataclasses.asdict(thresholds), "passed": not violations, "violations": violations}


def max_calls_under(report: dict[str, Any], p95_ms: float = 1000.0) -> int | None:
    """The largest step concurrency whose p95 real reply stayed under ``p95_ms`` (None if none did)."""
    fitting = [s["callers"] for s in report["steps"] if (p95 := _headline(s)["p95"]) is not None and p95 < p95_ms]
    return max(fitting) if fitting else None


def _headline(part: dict[str, Any]) -> dict[str, Any]:
    """The real reply's summary; the first audio's when no caller could tell them apart (all Twilio)."""
    reply: dict[str, Any] = part["reply_ms"]
    return reply if reply["count"] else dict(part["turn_ms"])
