"""``voiceagent soak`` / ``scripts/soak.py``: run a soak against a running server, write the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from voiceagent.bench.callers import default_callers, recordings_in
from voiceagent.soak.charts import write_charts
from voiceagent.soak.report import Thresholds, build_report, max_calls_under
from voiceagent.soak.runner import Soak, SoakPlan

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The soak's command-line options."""
    parser.add_argument("--url", default="ws://127.0.0.1:8765/ws", help="the server's native /ws endpoint")
    parser.add_argument("--allow-host", action="append", default=[],
                        help="a non-loopback host this soak may call (the URL's host must be named here)")
    parser.add_argument("--callers", default="2", help="concurrent calls; a comma list runs one step per value")
    parser.add_argument("--step-s", type=float, default=60.0, help="seconds per step")
    parser.add_argument("--ramp-s", type=float, default=5.0, help="callers of a step start spread over this")
    parser.add_argument("--turns-per-call", type=int, default=8, help="a caller hangs up and calls again after this")
    parser.add_argument("--audio", type=Path, help="a folder of your own WAV/FLAC files (default: the "
                        "checkout's recordings in ../shared/audio, else callers synthesised with the bundled voice)")
    parser.add_argument("--barge-in", type=float, default=0.15, help="share of turns that talk over the answer")
    parser.add_argument("--twilio", type=float, default=0.0, help="share of callers on /twilio (8 kHz mu-law)")
    parser.add_argument("--out", type=Path, default=Path("soak-report"), help="folder for report.json and charts")
    parser.add_argument("--max-p95-ms", type=float, help="fail (exit 1) if turn p95 is over this")
    parser.add_argument("--max-error-rate", type=float, help="fail if errors per turn are over this")
    parser.add_argument("--max-memory-growth", type=float,
                        help="fail if server memory grows faster (MB/hour) after the warm-up")
    parser.add_argument("--warmup-s", type=float, default=600.0,
                        help="memory growth is judged after this many seconds (the whole run's if shorter)")
    parser.add_argument("--seed", type=int, default=7)


def run(args: argparse.Namespace) -> int:
    """Run the soak; 0 when every threshold holds, 1 when one is crossed, 2 on bad arguments."""
    host = urlparse(args.url).hostname or ""
    if host not in LOOPBACK and host not in args.allow_host:
        print(f"soak: {host!r} is not loopback; name it with --allow-host {host} to load it", file=sys.stderr)
        return 2
    try:
        callers = tuple(int(n) for n in str(args.callers).split(","))
    except ValueError:
        print("soak: --callers takes numbers, e.g. 4 or 1,2,4", file=sys.stderr)
        return 2
    audio = recordings_in(args.audio) if args.audio else default_callers()
    if not audio or any(n < 1 for n in callers) or args.step_s <= 0:
        print("soak: need recordings (--audio FOLDER), callers >= 1 and a positive --step-s", file=sys.stderr)
        return 2
    plan = SoakPlan(url=args.url, callers=callers, step_s=args.step_s, ramp_s=args.ramp_s,
                    max_turns_per_call=args.turns_per_call, audio=audio, barge_in=args.barge_in,
                    twilio=args.twilio, seed=args.seed, warmup_s=args.warmup_s)
    thresholds = Thresholds(p95_ms=args.max_p95_ms, error_rate=args.max_error_rate,
                            memory_growth_mb_per_hour=args.max_memory_growth)
    print(f"soak: {args.url}, steps {list(callers)} x {args.step_s:.0f} s, {len(audio)} recordings", flush=True)
    started = time.time()
    result = asyncio.run(Soak(plan, progress=lambda line: print(line, flush=True)).run())
    report = build_report(result, thresholds)
    report["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    charts = write_charts(report, args.out)
    print_summary(report)
    print(f"report: {args.out / 'report.json'}; charts: {', '.join(str(c) for c in charts)}")
    for line in report["thresholds"]["violations"]:
        print(f"THRESHOLD CROSSED: {line}", file=sys.stderr)
    return 0 if report["thresholds"]["passed"] else 1


def print_summary(report: dict[str, object]) -> None:
    """A readable summary on stdout."""
    r: Any = report
    t, a = r["reply_ms"], r["turn_ms"]
    print(f"\n{r['machine']['cpu']}, {r['machine']['cores']} cores; models {r['server'].get('models')}")
    print(f"{r['calls']} calls, {r['turns']} turns in {r['duration_s']} s ({r['turns_per_s']}/s), "
          f"{r['unanswered']} unanswered, {r['dropped_calls']} dropped, {r['ended_by_agent']} ended by the agent, errors {r['errors']}")
    print(f"real reply at the caller: p50 {t['p50']} p95 {t['p95']} p99 {t['p99']} max {t['max']} ms "
          f"({t['count']} native turns); fillers on {_percent(r['filler_rate'])} of turns")
    print(f"first agent audio (a filler counts): p50 {a['p50']} p95 {a['p95']} ms")
    print("concurrency | turns | reply p50 ms | reply p95 ms | fillers | first audio p95 ms")
    for step in r["steps"]:
        s = step["reply_ms"]
        print(f"{step['callers']:>11} | {step['turns']:>5} | {s['p50']} | {s['p95']} | {_percent(step['filler_rate'])} "
              f"| {step['turn_ms']['p95']}")
    for stage, s in r["stages_ms"].items():
        print(f"  {stage}: p50 {s['p50']} p95 {s['p95']}")
    print(f"budget misses {r['budget_misses']}; fillers {r['fillers']}")
    m = r["memory"]
    print(f"server memory {m['start_mb']} -> {m['end_mb']} MB (max {m['max_mb']}), slope {m['slope_mb_per_hour']} MB/h, "
          f"after the first {m['warmup_s']:.0f} s {m['slope_after_warmup_mb_per_hour']} MB/h")
    print(f"largest concurrency with p95 under 1 s: {max_calls_under(r)}")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"
