"""``voiceagent bench calls --quick`` against a real server (real models, real sockets): the report is
written and every turn was heard, answered and judged. Behaviour only, never timings. Two of the three
paths are played (suite time): wideband over the native protocol, and the noisy phone line over
``/twilio``, which is the plain phone line plus noise (how each path's audio is made is checked in
test_call_bench.py). Two calls at a time (``--concurrent 2``): half the suite time, and the run shows
that calls played side by side are each heard and judged."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from voiceagent.bench.calls.callers import PATHS
from voiceagent.bench.calls.script import builtin_scripts

pytestmark = pytest.mark.slow


PLAYED = ("wideband", "phone_noise")
QUICK_PERSONAS = ("receptionist", "garage")  # the plumber's script is checked as data; its calls run in `bench calls`


def _call_spans(records: Path) -> list[tuple[float, float]]:
    """(start, end) time of every call the server recorded."""
    spans = []
    for file in records.glob("*.jsonl"):
        events = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        spans.append((float(events[0]["at"]), float(events[-1]["at"])))
    return sorted(spans)


def test_the_quick_benchmark_runs_both_protocols_and_judges_every_turn(tmp_path: Path) -> None:
    assert set(PLAYED) <= set(PATHS)
    run = subprocess.run([sys.executable, "-m", "voiceagent", "bench", "calls", "--quick", "--concurrent", "2", "--path", ",".join(PLAYED),
                          "--persona", ",".join(QUICK_PERSONAS), "--out", str(tmp_path)],
                         check=False, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "persona/path" in run.stdout and "real reply" in run.stdout  # the table was printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert report["machine"]["cores"] and report["models"]["stt"]
    scripts = builtin_scripts()
    expected = sum(len(scripts[p].call(c).turns) for p in report["personas"] for c in scripts[p].quick) * len(PLAYED)
    assert tuple(report["personas"]) == QUICK_PERSONAS and len(report["turns"]) == expected
    for turn in report["turns"]:
        assert turn["transcript"].strip(), turn  # the server heard the caller
        assert isinstance(turn["ok"], bool) and turn["passed"] + turn["failed"]  # the reply was judged
        assert turn["outcome"] in ("answered", "apology", "empty", "interrupted"), turn
        for key in ("first_audio_ms", "real_reply_ms"):
            assert turn[key] is None or 0 < turn[key] < 60_000
    for summary in report["summary"].values():
        assert summary["turns"] > 0
        for key in ("wer", "keyword_error_rate"):
            assert summary[key] is None or 0.0 <= summary[key] <= 3.0
        for key in ("relevance", "filler_rate"):
            assert 0.0 <= summary[key] <= 1.0
    assert set(report["by_path"]) == set(PLAYED)
    assert report["concurrent"] == 2
    spans = _call_spans(tmp_path / "records")
    assert len(spans) == len(report["personas"]) * len(PLAYED)
    assert any(later_start < end for (_, end), (later_start, _) in itertools.pairwise(spans)), spans
