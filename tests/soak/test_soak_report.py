"""The soak report from a made-up run (no server): every number is one this test can work out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.bench.stats import percentile, slope_per_hour, summary
from voiceagent.soak.report import Thresholds, build_report
from voiceagent.soak.runner import SoakPlan, SoakResult, TurnSample


def _result() -> SoakResult:
    plan = SoakPlan(callers=(1, 2), step_s=60.0, audio=(Path("a.wav"),))
    result = SoakResult(plan, started=100.0, finished=220.0)
    result.turns = [TurnSample(at=10.0, callers=1, active=1, transport="native", turn_ms=800.0),
                    TurnSample(at=20.0, callers=1, active=1, transport="native", turn_ms=None),
                    TurnSample(at=70.0, callers=2, active=2, transport="twilio", turn_ms=1000.0, barged=True),
                    TurnSample(at=80.0, callers=2, active=2, transport="native", turn_ms=1200.0)]
    result.turn_metrics = [
        {"outcome": "answered", "filler": False, "turn_ms": 700.0, "reply_ms": 700.0,
         "stages": {"stt_ms": 100.0}, "budget_events": []},
        {"outcome": "answered", "filler": True, "turn_ms": 1000.0, "reply_ms": 1500.0,
         "stages": {"stt_ms": 300.0}, "budget_events": [{"stage": "turn"}]},
        {"outcome": "apology", "filler": False, "turn_ms": 900.0, "stages": {"stt_ms": 5000.0}},
    ]
    result.memory = [(0.0, {"rss_mb": 500.0}), (60.0, {"rss_mb": 501.0}), (120.0, {"rss_mb": 502.0})]
    result.errors = {"unanswered_turn": 1}
    result.dropped_calls = 1
    return result


def test_the_report_counts_and_summarises_what_happened() -> None:
    report = build_report(_result(), Thresholds(p95_ms=1100.0, error_rate=0.25))
    assert report["duration_s"] == 120.0 and report["turns"] == 4 and report["turns_per_s"] == round(4 / 120, 3)
    assert (report["answered"], report["unanswered"], report["barge_ins"]) == (3, 1, 1)
    assert report["turn_ms"]["p50"] == 1000.0 and report["turn_ms"]["max"] == 1200.0
    assert [(s["callers"], s["turns"], s["unanswered"], s["turn_ms"]["p50"]) for s in report["steps"]] == [
        (1, 2, 1, 800.0), (2, 2, 0, 1100.0)]
    # the server's side counts answered turns only (an apology's stages would skew them)
    assert report["stages_ms"]["stt_ms"]["count"] == 2 and report["stages_ms"]["stt_ms"]["max"] == 300.0
    assert report["server_reply_ms"]["p50"] == 1100.0 and report["outcomes"] == {"answered": 2, "apology": 1}
    assert report["fillers"] == 1 and report["budget_misses"] == {"turn": 1}
    assert [(w["t"], w["turns"], w["p50"]) for w in report["windows"]] == [(15.0, 2, 800.0), (75.0, 2, 1100.0)]
    assert report["memory"]["slope_mb_per_hour"] == 60.0 and report["memory"]["max_mb"] == 502.0
    assert report["error_rate"] == 0.5  # (1 error + 1 dropped call) / 4 turns
    assert not report["thresholds"]["passed"] and len(report["thresholds"]["violations"]) == 2


def test_memory_growth_is_judged_after_the_warm_up() -> None:
    """Memory that grows while caches fill and then holds passes a gate that the whole run's slope fails."""
    result = _result()
    result.plan = SoakPlan(callers=(2,), step_s=120.0, audio=(Path("a.wav"),), warmup_s=60.0)
    result.memory = [(float(t), {"rss_mb": 500.0 + min(t, 60)}) for t in range(0, 121, 10)]
    report = build_report(result, Thresholds(memory_growth_mb_per_hour=10.0))
    assert report["memory"]["slope_mb_per_hour"] > 10.0 and report["memory"]["slope_after_warmup_mb_per_hour"] == 0.0
    assert report["thresholds"]["passed"]
    result.memory = [(float(t), {"rss_mb": 500.0 + t}) for t in range(0, 121, 10)]  # still growing after it
    grown = build_report(result, Thresholds(memory_growth_mb_per_hour=10.0))
    assert grown["memory"]["slope_after_warmup_mb_per_hour"] == 3600.0 and not grown["thresholds"]["passed"]


def test_percentiles_skip_missing_values_and_say_none_when_there_are_none() -> None:
    assert percentile([None, 100.0, 200.0, None, 300.0], 50) == 200.0
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    assert percentile([None], 95) is None and percentile([], 50) is None
    assert summary([])["p95"] is None and summary([5.0])["count"] == 1
    assert slope_per_hour([0.0, 1.0], [1.0, 2.0]) is None  # too few points for a trend
