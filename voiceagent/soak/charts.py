"""The soak report's PNG charts (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_charts(report: dict[str, Any], folder: Path, budget_ms: float = 1000.0) -> list[Path]:
    """latency_over_time.png, latency_vs_concurrency.png and memory.png in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    title = f"{report['machine']['cpu']} ({report['machine']['cores']} cores)"
    written = []

    fig, ax = plt.subplots(figsize=(8, 4))
    windows = [w for w in report["windows"] if w["p50"] is not None]
    ax.plot([w["t"] for w in windows], [w["p50"] for w in windows], label="p50", marker=".")
    ax.plot([w["t"] for w in windows], [w["p95"] for w in windows], label="p95", marker=".")
    ax.axhline(budget_ms, color="red", linestyle="--", label="turn budget")
    ax.set(xlabel="time (s)", ylabel="turn time at the caller (ms)", title=f"Turn time over the run\n{title}")
    ax.legend()
    fig.tight_layout()
    written.append(folder / "latency_over_time.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [s for s in report["steps"] if s["turn_ms"]["p95"] is not None]
    ax.plot([s["callers"] for s in steps], [s["turn_ms"]["p50"] for s in steps], marker="o", label="p50")
    ax.plot([s["callers"] for s in steps], [s["turn_ms"]["p95"] for s in steps], marker="o", label="p95")
    ax.axhline(budget_ms, color="red", linestyle="--", label="turn budget")
    ax.set(xlabel="concurrent calls", ylabel="turn time at the caller (ms)", title=f"Turn time against concurrency\n{title}")
    ax.legend()
    fig.tight_layout()
    written.append(folder / "latency_vs_concurrency.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    samples = report["memory"]["samples"]
    ax.plot([s[0] for s in samples], [s[1] for s in samples], marker=".")
    slope = report["memory"]["slope_mb_per_hour"]
    ax.set(xlabel="time (s)", ylabel="server resident memory (MB)",
           title=f"Server memory (slope {slope} MB/h)\n{title}")
    fig.tight_layout()
    written.append(folder / "memory.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
