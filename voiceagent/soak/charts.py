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

    def percentiles(name: str, xs: list[float], p50: list[float], p95: list[float], xlabel: str, what: str) -> None:
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(xs, p50, marker="o", label="p50")
        ax.plot(xs, p95, marker="o", label="p95")
        ax.axhline(budget_ms, color="red", linestyle="--", label="turn budget")
        ax.set(xlabel=xlabel, ylabel="turn time at the caller (ms)", title=f"Turn time {what}\n{title}")
        ax.legend()
        fig.tight_layout()
        written.append(folder / name)
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)

    windows = [w for w in report["windows"] if w["p50"] is not None]
    percentiles("latency_over_time.png", [w["t"] for w in windows], [w["p50"] for w in windows],
                [w["p95"] for w in windows], "time (s)", "over the run")
    key = "reply_ms" if report["reply_ms"]["count"] else "turn_ms"  # the real reply, where callers can tell
    steps = [s["callers"] for s in report["steps"] if s[key]["p95"] is not None]
    stats = [s[key] for s in report["steps"] if s[key]["p95"] is not None]
    percentiles("latency_vs_concurrency.png", steps, [t["p50"] for t in stats], [t["p95"] for t in stats],
                "concurrent calls", "against concurrency (real reply)" if key == "reply_ms" else "against concurrency")

    fig, ax = plt.subplots(figsize=(8, 4))
    samples = report["memory"]["samples"]
    ax.plot([s[0] for s in samples], [s[1] for s in samples], marker=".")
    memory = report["memory"]
    warm = memory.get("slope_after_warmup_mb_per_hour")
    if warm is not None:
        ax.axvline(memory["warmup_s"], color="grey", linestyle=":", label="end of warm-up")
        ax.legend(loc="lower right")
    ax.set(xlabel="time (s)", ylabel="server resident memory (MB)",
           title=f"Server memory (slope {memory['slope_mb_per_hour']} MB/h; after warm-up {warm} MB/h)\n{title}")
    fig.tight_layout()
    written.append(folder / "memory.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
