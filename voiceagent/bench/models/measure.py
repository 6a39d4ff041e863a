"""Measuring one model with a fixed method: temperature 0, the same tasks and output limit for every
model, several runs, cold and warm.

- load: building the engine (reading weights) plus evaluating the system prompt once (``warm``).
- cold run: the first run of a task; the model's cache holds only the shared system prompt (as on a
  call's first turn). warm run: the same conversation again, fully cached (as after prefill).
- prompt evaluation: cold time to first token minus warm time to first token.
- first clause: when the first speakable piece is ready (the clause chunker the calls use): what the
  caller waits for, since the rest is synthesised while they listen.
- tokens/s: streamed pieces after the first, over the time after the first.
- peak memory: for embedded models, this process's peak resident memory while the model ran (Linux
  ``VmHWM``, reset before loading); remote servers' memory is not visible from here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from voiceagent.bench.models.scoring import score, spoken_text
from voiceagent.bench.models.targets import Target
from voiceagent.bench.models.tasks import Task
from voiceagent.bench.stats import percentile
from voiceagent.engines.llm import ChatEngine
from voiceagent.stages.chunker import ClauseChunker


@dataclasses.dataclass(frozen=True, slots=True)
class Method:
    """The fixed measurement method."""

    runs: int = 3  # warm runs per task (plus one cold run)
    max_tokens: int = 64
    max_sentences: int = 2
    timeout_s: float = 60.0


@dataclasses.dataclass(slots=True)
class Run:
    """One generation."""

    ttft_ms: float
    first_clause_ms: float | None
    total_ms: float
    pieces: int
    text: str

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed after the first token."""
        seconds = (self.total_ms - self.ttft_ms) / 1000
        return (self.pieces - 1) / seconds if self.pieces > 1 and seconds > 0 else None


def _peak_rss_reset() -> None:
    path = Path("/proc/self/clear_refs")
    if path.exists():
        try:
            path.write_text("5")
        except OSError:
            pass


def _peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


async def generate(engine: ChatEngine, task: Task, method: Method) -> Run:
    """One timed generation of ``task``."""
    chunker = ClauseChunker()
    pieces: list[str] = []
    first_token = first_clause = None
    started = time.perf_counter()
    async with asyncio.timeout(method.timeout_s):
        async for piece in engine.stream(task.messages(), max_tokens=method.max_tokens, temperature=0.0):
            now = time.perf_counter()
            if first_token is None:
                first_token = now
            pieces.append(piece)
            if first_clause is None and chunker.feed(piece):
                first_clause = now
    end = time.perf_counter()
    if first_clause is None and chunker.flush():
        first_clause = end
    first_token = first_token or end
    return Run(ttft_ms=(first_token - started) * 1000,
               first_clause_ms=None if first_clause is None else (first_clause - started) * 1000,
               total_ms=(end - started) * 1000, pieces=len(pieces), text="".join(pieces))


async def measure(target: Target, tasks: list[Task], method: Method) -> dict[str, Any]:
    """Load ``target``, run every task cold then ``runs`` times warm, score the cold replies."""
    if target.in_process:
        _peak_rss_reset()
    started = time.perf_counter()
    engine = await asyncio.to_thread(target.build)
    try:
        await engine.warm(sorted({t.system for t in tasks}))
        load_s = time.perf_counter() - started
        cold: list[Run] = []
        warm: list[Run] = []
        results = []
        for task in tasks:
            first = await generate(engine, task, method)
            cold.append(first)
            repeats = [await generate(engine, task, method) for _ in range(method.runs)]
            warm.extend(repeats)
            task_score = score(task, first.text, method.max_sentences)
            results.append({"task": task.name, "ok": task_score.ok, "score": round(task_score.value, 3),
                            "passed": list(task_score.passed),
                            "failed": list(task_score.failed), "reply": spoken_text(first.text, method.max_sentences),
                            "cold_ttft_ms": round(first.ttft_ms, 1),
                            "warm_ttft_ms": percentile([r.ttft_ms for r in repeats], 50)})
    finally:
        await engine.close()
    warm_ttft = [percentile([r.ttft_ms for r in warm[i * method.runs : (i + 1) * method.runs]], 50)
                 for i in range(len(cold))]
    every = cold + warm
    prompt_eval: list[float | None] = [c.ttft_ms - w for c, w in zip(cold, warm_ttft, strict=True) if w is not None]
    return {
        "model": target.name,
        "backend": target.backend,
        "size_mb": target.size_mb,
        "load_s": round(load_s, 2),
        # relevance: the share of tasks answered well enough on every check (a reply with the right length
        # and style but the wrong facts is no better than none); checks_passed: the share of all checks.
        "relevance": round(float(np.mean([r["ok"] for r in results])), 3),
        "checks_passed": round(float(np.mean([r["score"] for r in results])), 3),
        "ttft_ms": {"cold_p50": percentile([r.ttft_ms for r in cold], 50),
                    "warm_p50": percentile([r.ttft_ms for r in warm], 50)},
        "prompt_eval_ms_p50": percentile(prompt_eval, 50),
        "first_clause_ms": {"p50": percentile([r.first_clause_ms for r in every], 50),
                            "p95": percentile([r.first_clause_ms for r in every], 95)},
        "total_ms": {"p50": percentile([r.total_ms for r in every], 50),
                     "p95": percentile([r.total_ms for r in every], 95)},
        "tokens_per_s_p50": percentile([r.tokens_per_s for r in warm], 50),
        "peak_rss_mb": _peak_rss_mb() if target.in_process else None,
        "tasks": results,
    }
