"""The report's PNG: relevance, real-reply latency and false cut-ins per persona and path, side by side
(headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_chart(report: dict[str, Any], path: Path) -> None:
    """Bars of relevance (with first-5 and later turns), of real-reply p50/p95 latency and of the false
    cut-in rate on paused turns (with their number) per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["summary"])
    groups = [report["summary"][n] for n in names]
    xs = range(len(names))
    fig, (left, right, cuts) = plt.subplots(1, 3, figsize=(max(12, 2.4 * len(names) + 6), 4.8))
    width = 0.27
    for offset, key, label in ((-width, "relevance", "all turns"), (0.0, "relevance_first_5", "turns 1-5"),
                               (width, "relevance_later", "turns 6+")):
        left.bar([x + offset for x in xs], [g[key] or 0.0 for g in groups], width, label=label)
    left.axhline(0.9, color="grey", linestyle="--", linewidth=1, label="goal 0.9")
    left.set_ylim(0, 1)
    left.set_ylabel("relevance (share of turns right)")
    left.set_title("Right answers at the caller's ear")
    for offset, key, label in ((-width / 2, "real_reply_p50_ms", "p50"), (width / 2, "real_reply_p95_ms", "p95")):
        right.bar([x + offset for x in xs], [g[key] or 0.0 for g in groups], width, label=label)
    right.axhline(1000, color="grey", linestyle="--", linewidth=1, label="1 s")
    right.set_ylabel("real reply at the client (ms)")
    right.set_title("Time to the real answer")
    bars = cuts.bar(list(xs), [g.get("cut_in_rate") or 0.0 for g in groups], 0.5, color="tab:red", label="cut-in")
    cuts.bar_label(bars, labels=[f"n={g.get('paused_turns', 0)}" for g in groups], fontsize=7)
    cuts.axhline(0.02, color="grey", linestyle="--", linewidth=1, label="goal 2%")
    cuts.set_ylim(0, max(0.1, *(1.2 * (g.get("cut_in_rate") or 0.0) for g in groups)))
    cuts.set_ylabel("share of paused turns")
    cuts.set_title("False cut-ins on paused turns")
    for axis in (left, right, cuts):
        axis.set_xticks(list(xs))
        axis.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        axis.legend(fontsize=8)
    fig.suptitle(f"voiceagent bench calls: {report.get('machine', {}).get('cpu', '')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
