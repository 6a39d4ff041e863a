"""``voiceagent bench models``: measure every reachable model, score it, chart it, recommend one."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from voiceagent.bench.machine import machine
from voiceagent.bench.models.judge import judge
from voiceagent.bench.models.measure import Method, measure
from voiceagent.bench.models.report import chart, recommend, serve_command, table
from voiceagent.bench.models.targets import (
    Target,
    bundled_targets,
    gguf_paths,
    ollama_targets,
    openai_targets,
)
from voiceagent.bench.models.tasks import BUILTIN_TASKS, TaskError, load_tasks
from voiceagent.config import Settings
from voiceagent.engines.loader import make_llm
from voiceagent.personas import load_personas

# The share of the 1 s turn left to the language model's first clause: endpointing (~260 ms),
# transcription (~110 ms) and the first clause's synthesis (~50 ms) take the rest on this machine
# (medians from `voiceagent bench turn`), rounded down to leave room for their tails.
DEFAULT_LLM_BUDGET_MS = 500.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's command-line options (besides the common settings flags)."""
    parser.add_argument("--gguf", nargs="*", type=Path, default=[], help="more GGUF files to measure")
    parser.add_argument("--no-bundled", action="store_true", help="skip the bundled GGUF models")
    parser.add_argument("--ollama", metavar="URL", help="measure every model this Ollama server lists")
    parser.add_argument("--openai", metavar="URL", help="measure every model this OpenAI-compatible endpoint lists")
    parser.add_argument("--api-key", default="", help="API key for --openai")
    parser.add_argument("--tasks", type=Path, default=BUILTIN_TASKS, help="task set YAML (default: built-in)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs per task (plus one cold)")
    parser.add_argument("--max-tokens", type=int, default=64, help="output limit, the same for every model")
    parser.add_argument("--budget-ms", type=float, default=DEFAULT_LLM_BUDGET_MS,
                        help="time to the first clause a model may take (p95) to fit the turn budget")
    parser.add_argument("--judge-llm", choices=["llama_cpp", "ollama", "openai"], help="backend of a judge model")
    parser.add_argument("--judge-model", help="the judge model (name or GGUF path)")
    parser.add_argument("--judge-url", default="", help="the judge's server URL")
    parser.add_argument("--out", type=Path, default=Path("bench-models"), help="folder for results.json and chart")


async def _targets(args: argparse.Namespace, settings: Settings) -> list[Target]:
    targets = [] if args.no_bundled else bundled_targets(settings)
    targets += gguf_paths(args.gguf, settings)
    if args.ollama:
        targets += await ollama_targets(args.ollama, settings)
    if args.openai:
        targets += await openai_targets(args.openai, args.api_key, settings)
    return targets


async def run_bench(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Measure and score every target; returns the results document."""
    tasks = load_tasks(args.tasks, load_personas(settings.prompts_dir))
    method = Method(runs=args.runs, max_tokens=args.max_tokens, max_sentences=settings.max_reply_sentences)
    targets = await _targets(args, settings)
    if not targets:
        raise TaskError("no models to measure: the bundled ones are not installed and none were named")
    results = []
    for target in targets:
        print(f"measuring {target.backend}:{target.name} on {len(tasks)} tasks ...", flush=True)
        try:
            results.append(await measure(target, tasks, method))
        except Exception as exc:  # noqa: BLE001 - one unreachable model does not stop the others
            print(f"  {target.name}: failed: {exc!r}", file=sys.stderr)
    if args.judge_model:
        judge_settings = Settings(llm=args.judge_llm or "llama_cpp", model=args.judge_model, llm_url=args.judge_url)
        engine = make_llm(judge_settings)
        try:
            by_name = {t.name: t for t in tasks}
            for result in results:
                ratings = [await judge(engine, by_name[r["task"]], r["reply"]) for r in result["tasks"]]
                kept = [r for r in ratings if r is not None]
                result["judge_relevance"] = round(sum(kept) / len(kept), 3) if kept else None
        finally:
            await engine.close()
    best = recommend(results, args.budget_ms)
    return {
        "machine": machine(),
        "method": {"temperature": 0.0, "runs": method.runs, "max_tokens": method.max_tokens,
                   "max_sentences": method.max_sentences, "tasks": [t.name for t in tasks],
                   "task_file": str(args.tasks), "threads": settings.llm_threads},
        "budget_ms": args.budget_ms,
        "turn_budget_ms": settings.budgets.turn_ms,
        "models": results,
        "recommendation": None if best is None else {"model": best["model"], "backend": best["backend"],
                                                      "command": serve_command(best)},
        "judge": args.judge_model,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    """CLI entry: 0 with a recommendation, 1 when no model fits, 2 on bad input."""
    try:
        document = asyncio.run(run_bench(args, settings))
    except TaskError as exc:
        print(f"bench models: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(document, indent=2))
    m = document["machine"]
    title = f"{m['cpu']}, {m['cores']} cores, {document['method']['threads']} threads"
    chart(document["models"], args.out / "speed_vs_relevance.png", budget_ms=args.budget_ms,
          turn_budget_ms=document["turn_budget_ms"], title=title)
    (args.out / "table.md").write_text(table(document["models"]) + "\n")
    print(f"\n{title}\n\n{table(document['models'])}\n")
    for result in document["models"]:
        failed = [f"{t['task']}: {', '.join(t['failed'])}" for t in result["tasks"] if t["failed"]]
        print(f"{result['model']}: relevance {result['relevance']:.2f}; missed: {'; '.join(failed) or 'nothing'}")
    best = document["recommendation"]
    print(f"\nresults: {args.out / 'results.json'}, chart: {args.out / 'speed_vs_relevance.png'}")
    if best is None:
        print(f"no model has its first clause ready within {args.budget_ms:.0f} ms (p95) on this machine")
        return 1
    print(f"recommended: {best['backend']}:{best['model']} -> {best['command']}")
    return 0
