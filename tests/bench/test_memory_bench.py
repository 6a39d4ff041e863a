"""The memory benchmark's loop and arithmetic, with operations that leak or do not (the engines' loops
run in ``voiceagent bench memory``; too slow for the suite)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from voiceagent import memory
from voiceagent.bench import memory as bench


def test_the_slope_is_in_mb_per_hour_and_needs_three_samples() -> None:
    samples = [{"t": t, "rss_mb": 100 + t / 36} for t in (0.0, 36.0, 72.0)]  # +1 MB every 36 s: 100 MB/h
    assert bench.slope_per_hour(samples, "rss_mb") == pytest.approx(100)
    assert np.isnan(bench.slope_per_hour(samples[:2], "rss_mb"))


@pytest.mark.skipif(memory.heap_usage() is None, reason="not glibc 2.33+: no heap count")
def test_a_stage_that_keeps_what_it_allocates_shows_a_slope_and_one_that_frees_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "SAMPLE_EVERY_S", 0.05)
    kept: list[np.ndarray] = []

    async def leak() -> None:
        kept.append(np.ones(256 * 1024))  # 2 MB, touched
        await asyncio.sleep(0.01)

    async def tidy() -> None:
        np.ones(256 * 1024).sum()
        await asyncio.sleep(0.01)

    leaking = asyncio.run(bench.run_stage("leak", leak, 0.6, trim=False))
    kept.clear()
    clean = asyncio.run(bench.run_stage("tidy", tidy, 0.6, trim=True))
    assert leaking.ops > 10 and len(leaking.samples) >= 3 and set(leaking.slopes_mb_per_h) >= {"rss_mb", "heap_in_use_mb"}
    # tens of MB in a fraction of a second: hundreds of thousands of MB an hour
    # (resident memory need not grow: a long-lived process may serve them from memory it freed earlier)
    assert leaking.slopes_mb_per_h["heap_in_use_mb"] > 10_000
    assert abs(clean.slopes_mb_per_h["heap_in_use_mb"]) < 1_000
    assert "leak" in bench.format_row(leaking) and "MB/h" in bench.format_row(leaking)


def test_traced_python_growth_names_the_line_that_keeps_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "SAMPLE_EVERY_S", 0.05)
    kept: list[bytes] = []

    async def leak() -> None:
        kept.append(bytes(100_000))
        await asyncio.sleep(0.01)

    result = asyncio.run(bench.run_stage("leak", leak, 0.3, trim=False, trace=3))
    assert result.python_growth and "test_memory_bench.py" in result.python_growth[0]
