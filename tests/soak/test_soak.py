"""A short soak (two callers, native and Twilio, some barging in) against the real server: the report's
structure, and its numbers checked against what the callers saw and what the server recorded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import RunningServer, recording
from voiceagent.records import read_record
from voiceagent.soak.charts import write_charts
from voiceagent.soak.report import Thresholds, build_report, check, max_calls_under
from voiceagent.soak.runner import Soak, SoakPlan

pytestmark = pytest.mark.slow


async def test_a_short_soak_reports_what_the_callers_and_the_server_saw(server: RunningServer, tmp_path: Path) -> None:
    audio = tuple(recording(n) for n in ("fsdd_1_jackson_0.wav", "fsdd_4_nicolas_0.wav", "one_two_three.wav"))
    plan = SoakPlan(url=server.url, callers=(2,), step_s=30, ramp_s=2, max_turns_per_call=3, audio=audio,
                    barge_in=0.3, twilio=0.5, pause_s=(0.3, 0.8), sample_every_s=2, seed=3)
    lines: list[str] = []
    result = await Soak(plan, progress=lines.append).run()
    report = build_report(result, Thresholds(p95_ms=60000, error_rate=1.0))
    json.dumps(report)  # JSON-ready

    # structure
    for key in ("machine", "server", "plan", "reply_ms", "filler_rate", "turn_ms", "stages_ms", "steps", "windows",
                "memory", "thresholds", "budget_misses", "errors", "dropped_calls", "turns_per_s"):
        assert key in report
    assert report["server"]["models"]["stt"] == "tiny.en"
    assert lines and "p95" in lines[0]

    # consistent with what the callers saw
    turns = result.turns
    times = [t.turn_ms for t in turns if t.turn_ms is not None]
    assert report["turns"] == len(turns) >= 4 and report["answered"] == len(times)
    assert report["answered"] + report["unanswered"] == report["turns"]
    assert report["steps"][0]["turns"] == len(turns) and report["steps"][0]["callers"] == 2
    assert report["turn_ms"]["p50"] == pytest.approx(float(np.percentile(times, 50)), abs=0.1)
    assert report["turn_ms"]["max"] == pytest.approx(max(times), abs=0.1)
    assert report["turn_ms"]["p50"] <= report["turn_ms"]["p95"] <= report["turn_ms"]["p99"] <= report["turn_ms"]["max"]
    assert {t.transport for t in turns} == {"native", "twilio"}
    assert report["barge_ins"] == sum(t.barged for t in turns)
    assert all(t.active <= 2 for t in turns)

    # the headline is the real reply: a filler is not an answer (only native callers can tell them apart)
    native = [t for t in turns if t.transport == "native" and t.turn_ms is not None]
    known = [t for t in native if t.filler is not None]  # all but a turn cut off by the end of the step
    assert native and len(known) >= len(native) - 2
    for t in known:
        if t.reply_ms is not None:
            assert t.reply_ms == t.turn_ms if not t.filler else t.reply_ms >= t.turn_ms  # type: ignore[operator]
    assert all(t.reply_ms is None and t.filler is None for t in turns if t.transport == "twilio")
    replies = [t.reply_ms for t in turns if t.reply_ms is not None]
    assert report["reply_ms"]["count"] == len(replies) > 0
    assert report["reply_ms"]["p50"] == pytest.approx(float(np.percentile(replies, 50)), abs=0.1)
    assert report["filler_rate"] == pytest.approx(sum(bool(t.filler) for t in known) / len(known), abs=0.001)

    # consistent with what the server recorded for the native calls
    answered_in_records = []
    for call_id in result.call_ids:
        for entry in read_record(Path(server.settings.records_dir) / f"{call_id}.jsonl"):
            if entry["kind"] == "turn_metrics" and entry["outcome"] == "answered":
                answered_in_records.append(entry)
    assert answered_in_records, f"no native turn was answered: {report['outcomes']}"
    assert len(answered_in_records) == report["stages_ms"]["stt_ms"]["count"]
    stt = [e["stages"]["stt_ms"] for e in answered_in_records]
    assert report["stages_ms"]["stt_ms"]["p50"] == pytest.approx(float(np.percentile(stt, 50)), abs=0.1)
    # the server's own figures are reported beside the caller's (not compared: the server counts turns the
    # callers could not time, and in a short soak the two medians are a handful of turns apart)
    assert report["server_turn_ms"]["count"] >= len(answered_in_records) and report["server_turn_ms"]["p50"] > 0

    # memory sampled from /metrics throughout
    samples = report["memory"]["samples"]
    assert len(samples) >= 10 and all(mb > 100 for _, mb in samples)

    # thresholds gate a release
    assert report["thresholds"]["passed"]
    strict = check(report, Thresholds(p95_ms=1.0))
    assert not strict["passed"] and "p95" in strict["violations"][0]
    assert max_calls_under(report, p95_ms=60000) == 2 and max_calls_under(report, p95_ms=1.0) is None

    charts = write_charts(report, tmp_path)
    assert [c.name for c in charts] == ["latency_over_time.png", "latency_vs_concurrency.png", "memory.png"]
    assert all(c.read_bytes().startswith(b"\x89PNG") for c in charts)
