"""``voiceagent bench calls``: options, the run against a fresh server, and the report in ``--out``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from voiceagent.bench.calls.callers import PATHS
from voiceagent.bench.calls.script import ScriptError, builtin_scripts
from voiceagent.bench.calls.voices import VoiceBank, available_voices, real_digit_voices


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--out", default="bench-calls", help="folder for report.json, report.png and call records")
    parser.add_argument("--persona", type=_names, help="comma list of personas (default: every shipped script)")
    parser.add_argument("--path", type=_names, help=f"comma list of paths (default: {','.join(PATHS)})")
    parser.add_argument("--quick", action="store_true", help="a few turns per persona and path (a short check)")
    parser.add_argument("--max-turns", dest="max_turns", type=int,
                        help="at most this many turns per persona and path (whole calls, long and short mixed)")
    parser.add_argument("--concurrent", type=int, default=1,
                        help="calls played at once (default 1); latency and relevance are then under that load")
    parser.add_argument("--model", help="the server's language model (passed to voiceagent serve --model)")
    parser.add_argument("--voices", type=_names,
                        help="comma list of caller voices or kinds (neural, formant); default: all usable")
    parser.add_argument("--seed", type=int, default=7, help="seed of the background noise and of the pause lengths")
    parser.add_argument("--log-level", default="WARNING")


def _progress(result: dict[str, Any], where: str) -> None:
    if "error" in result:
        print(f"  ! {where}: {result['error']}", flush=True)
        return
    latency = "   - ms" if result["real_reply_ms"] is None else f"{result['real_reply_ms']:5.0f} ms"
    mark = "ok  " if result["ok"] else "FAIL"
    cut = {None: "   ", False: " P ", True: " CI"}[result.get("cut_in")]  # paused turn; the agent cut in
    print(f"  {result['persona']:12s} {result['path']:11s} {where:40s} {mark} {latency}{' F' if result['filler'] else '  '}{cut} "
          f"{result['voice']:18s} heard {result['transcript'][:40]!r} -> {result['heard'][:70]!r}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; returns a process exit code."""
    from voiceagent.bench.calls.chart import write_chart
    from voiceagent.bench.calls.pauses import PAUSE_RANGE_MS
    from voiceagent.bench.calls.report import build_report, format_table
    from voiceagent.bench.calls.runner import Plan, run_plan
    from voiceagent.bench.calls.server import serving
    from voiceagent.bench.machine import describe, machine

    try:
        scripts = builtin_scripts()
        voices = available_voices(args.voices)
    except (ScriptError, ValueError) as exc:
        print(f"voiceagent bench calls: {exc}", file=sys.stderr)
        return 2
    personas = args.persona or list(scripts)
    paths = args.path or list(PATHS)
    bad = [p for p in personas if p not in scripts] + [p for p in paths if p not in PATHS]
    if bad:
        print(f"voiceagent bench calls: unknown {bad}; personas {sorted(scripts)}, paths {list(PATHS)}", file=sys.stderr)
        return 2
    if args.concurrent < 1:
        print("voiceagent bench calls: --concurrent must be 1 or more", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    real = real_digit_voices()
    found = machine()
    print(f"machine: {describe(found)}")
    print(f"voices: {[v.name for v in voices]}; real recordings: {[v.name for v in real] or 'none (no ../shared/audio)'}")
    started = time.time()
    with serving(out / "records", model=args.model) as server:
        missing = [p for p in personas if server["personas"] is not None and p not in server["personas"]]
        for name in missing:
            print(f"voiceagent bench calls: the server has no persona {name!r}: skipped", file=sys.stderr)
        plan = Plan(scripts=tuple(scripts[p] for p in personas if p not in missing), paths=tuple(paths),
                    quick=args.quick, max_turns=args.max_turns, seed=args.seed, concurrent=args.concurrent)
        print(f"models: {server['health'].get('models')}", flush=True)
        rows = asyncio.run(run_plan(plan, server["url"], out / "records", VoiceBank(), voices, real, _progress))
    meta = {"machine": found, "models": server["health"].get("models"), "version": server["health"].get("version"),
            "personas": [s.persona for s in plan.scripts], "skipped_personas": missing, "paths": paths,
            "quick": args.quick, "max_turns": args.max_turns, "concurrent": args.concurrent, "voices": [v.name for v in voices],
            "real_voices": [v.name for v in real], "seed": args.seed, "pause_range_ms": list(PAUSE_RANGE_MS),
            "started": round(started), "duration_s": round(time.time() - started, 1)}
    report = build_report(rows, meta)
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_chart(report, out / "report.png")
    print(f"\n{format_table(report)}\n\nmodels: {meta['models']}\nreport: {out / 'report.json'}, chart: "
          f"{out / 'report.png'} ({meta['duration_s']:.0f} s)")
    return 0 if rows else 1
