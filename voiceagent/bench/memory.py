"""Memory per engine: which part of a call makes the server's memory grow.

Each engine runs alone in a loop in this process, the way calls use it (the model: whole conversations
with the persona's tools, each turn's reply then a prefill of the next; recognition, end of turn and VAD:
spoken questions; synthesis: sentences), for a fixed time after a warm-up. Every two seconds it samples
the process's resident memory, its anonymous part (what the program allocated, not mapped files such as
the weights) and glibc's own count of bytes in use and bytes held (see :func:`voiceagent.memory.heap_usage`).
The slope of each over the measured part, in MB per hour of continuous use, says which engine grows and
whether it is a leak (in use grows) or the allocator keeping freed memory (held grows, in use flat).

``--trim`` gives memory back after each operation as the server does after each call; the server's
``malloc_*`` settings apply as they do in ``voiceagent serve``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceagent import memory
from voiceagent.audio.resample import resample
from voiceagent.bench.callers import PHRASES
from voiceagent.bench.machine import describe, machine
from voiceagent.config import Settings
from voiceagent.engines.llm import Message, Tool

if TYPE_CHECKING:
    from voiceagent.engines.loader import Engines

STAGES = ("llm", "stt", "tts", "turn", "vad")
SAMPLE_EVERY_S = 2.0
WARM_FRACTION = 0.25  # the first quarter of each stage is warm-up, not measured
TURNS_PER_CONVERSATION = 4
Operation = Callable[[], Awaitable[None]]


@dataclasses.dataclass(slots=True)
class StageResult:
    """One engine's loop: operations done, memory samples and the slopes over the measured part."""

    stage: str
    ops: int
    seconds: float
    samples: list[dict[str, float]]
    slopes_mb_per_h: dict[str, float]
    python_growth: list[str] = dataclasses.field(default_factory=list)  # with ``trace``: top source lines


def read_memory() -> dict[str, float]:
    """This process's resident and anonymous memory (MB, from smaps_rollup) and glibc's heap counts."""
    found: dict[str, float] = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Anonymous"):
                found["rss_mb" if key == "Rss" else "anon_mb"] = int(rest.split()[0]) / 1024
    heap = memory.heap_usage()
    if heap is not None:
        found["heap_in_use_mb"], found["heap_held_mb"] = heap
    return found


def slope_per_hour(samples: Sequence[dict[str, float]], key: str) -> float:
    """Least-squares slope of ``key`` against time, in MB per hour (nan with fewer than three samples)."""
    points = [(s["t"], s[key]) for s in samples if key in s]
    if len(points) < 3:
        return float("nan")
    t, y = np.array(points).T
    return float(np.polyfit(t, y, 1)[0] * 3600)


async def run_stage(stage: str, operation: Operation, seconds: float, *, trim: bool, trace: int = 0) -> StageResult:
    """Run ``operation`` over and over for ``seconds`` (plus a warm-up), sampling memory as it goes.
    ``trace``: also follow Python's own allocations (tracemalloc) and keep the ``trace`` source lines
    whose live memory grew most over the measured part."""
    warm_until = time.monotonic() + seconds * WARM_FRACTION / (1 - WARM_FRACTION)
    while time.monotonic() < warm_until:
        await operation()
    if trace:
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
    start = time.monotonic()
    samples = [{"t": 0.0, "ops": 0.0, **read_memory()}]
    ops = 0
    while (now := time.monotonic()) - start < seconds:
        await operation()
        ops += 1
        if trim:
            await asyncio.to_thread(memory.trim_now)
        if time.monotonic() - start >= samples[-1]["t"] + SAMPLE_EVERY_S:
            samples.append({"t": time.monotonic() - start, "ops": float(ops), **read_memory()})
    samples.append({"t": now - start, "ops": float(ops), **read_memory()})
    keys = [k for k in samples[0] if k.endswith("_mb")]
    result = StageResult(stage, ops, now - start, samples, {k: slope_per_hour(samples, k) for k in keys})
    if trace:
        growth = tracemalloc.take_snapshot().compare_to(before, "lineno")
        tracemalloc.stop()
        result.python_growth = [str(line) for line in growth[:trace]]
    return result


def spoken_questions(engines: Engines) -> Callable[[], Awaitable[list[np.ndarray]]]:
    """The benchmark's caller phrases spoken by the bundled voice, at 16 kHz (made once, on first use)."""
    made: list[np.ndarray] = []

    async def get() -> list[np.ndarray]:
        if not made:
            for phrase in PHRASES:
                audio = await engines.tts.synthesize(phrase)
                made.append(resample(audio, engines.tts.sample_rate, 16000))
        return made

    return get


def operations(engines: Engines, system: str, tools: Sequence[Tool], seed: int = 1) -> dict[str, Operation]:
    """One operation per stage, each as a call would use that engine."""
    rng = random.Random(seed)
    questions = spoken_questions(engines)

    async def conversation() -> None:
        messages: list[Message] = [{"role": "system", "content": system}]
        for phrase in rng.sample(PHRASES, TURNS_PER_CONVERSATION):
            messages.append({"role": "user", "content": phrase})
            reply = "".join([p async for p in engines.llm.stream(messages, max_tokens=60, temperature=0.7, tools=tools)])
            messages.append({"role": "assistant", "content": reply})
            await engines.llm.prefill(messages)

    async def transcribe() -> None:
        await engines.stt.transcribe(rng.choice(await questions()))

    async def synthesize() -> None:
        await engines.tts.synthesize(rng.choice(PHRASES))

    async def turn_end() -> None:
        if engines.turn is not None:
            await engines.turn.complete_probability(rng.choice(await questions()))

    async def vad() -> None:
        stream = engines.vad.stream()
        audio = rng.choice(await questions())
        for at in range(0, len(audio), 512):
            stream.feed(audio[at:at + 512])
        await asyncio.sleep(0)

    return {"llm": conversation, "stt": transcribe, "tts": synthesize, "turn": turn_end, "vad": vad}


async def run(settings: Settings, stages: Sequence[str], seconds: float, *, trim: bool, trace: int = 0) -> list[StageResult]:
    """Load the engines as the server does, then measure each stage in turn."""
    # the engines are imported here, not with the module: the command line lists STAGES on every start
    from voiceagent.engines.loader import load_engines
    from voiceagent.personas import load_personas
    from voiceagent.pipeline.action_desk import ActionDesk

    if settings.malloc_mmap_threshold_kb or settings.malloc_arena_max:
        memory.tune_malloc(settings.malloc_mmap_threshold_kb, settings.malloc_arena_max)
    persona = load_personas(settings.prompts_dir)[settings.persona]
    engines = await load_engines(settings, [persona.system])
    try:
        ops = operations(engines, persona.system, ActionDesk(persona).tools())
        results = []
        for stage in stages:
            results.append(await run_stage(stage, ops[stage], seconds, trim=trim, trace=trace))
            print(format_row(results[-1]), flush=True)
            for line in results[-1].python_growth:
                print(f"      python: {line}", flush=True)
        return results
    finally:
        await engines.close()


def format_row(result: StageResult) -> str:
    """One line of the table: the stage, its rate, memory at the end and the slopes."""
    last = result.samples[-1]
    slopes = "  ".join(f"{k.removesuffix('_mb')} {v:+7.0f}" for k, v in result.slopes_mb_per_h.items())
    return (f"{result.stage:5} {result.ops:5d} ops {result.ops / result.seconds:6.2f}/s | rss {last['rss_mb']:6.0f} MB"
            f" | slope MB/h: {slopes}")


def write_report(path: Path, settings: Settings, results: Sequence[StageResult], *, trim: bool) -> None:
    """The whole run as JSON: machine, settings that matter here, and every stage's samples."""
    report: dict[str, Any] = {
        "machine": machine(), "trim": trim,
        "malloc_mmap_threshold_kb": settings.malloc_mmap_threshold_kb, "malloc_arena_max": settings.malloc_arena_max,
        "stages": [dataclasses.asdict(r) for r in results],
    }
    path.write_text(json.dumps(report, indent=1))


def main(settings: Settings, stages: Sequence[str], seconds: float, *, trim: bool, json_out: str | None,
         trace: int = 0) -> int:
    """``voiceagent bench memory``: print one row per stage (and the JSON report if asked)."""
    print(f"machine: {describe(machine())}; {seconds:.0f} s per stage after {WARM_FRACTION:.0%} warm-up; "
          f"trim after each operation: {trim}", flush=True)
    results = asyncio.run(run(settings, stages, seconds, trim=trim, trace=trace))
    if json_out:
        write_report(Path(json_out), settings, results, trim=trim)
    return 0
