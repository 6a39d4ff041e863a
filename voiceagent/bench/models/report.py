"""The model benchmark's outputs: recommendation, table, JSON, and the speed/relevance chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def recommend(results: list[dict[str, Any]], budget_ms: float) -> dict[str, Any] | None:
    """The most relevant model whose first clause is ready within ``budget_ms`` (p95); faster wins ties."""
    fitting = [r for r in results if r["first_clause_ms"]["p95"] is not None and r["first_clause_ms"]["p95"] <= budget_ms]
    if not fitting:
        return None
    return max(fitting, key=lambda r: (r["relevance"], -r["first_clause_ms"]["p95"]))


def serve_command(result: dict[str, Any]) -> str:
    """How to serve with a model from the results."""
    if result["backend"] == "llama_cpp":
        return f"voiceagent serve --model {result['model']}"
    return f"voiceagent serve --llm {result['backend']} --model {result['model']} --llm-url URL"


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table, one row per model."""
    head = ("| model | backend | size MB | load s | relevance (checks) | first token cold / warm ms | prompt eval ms "
            "| first clause p50 / p95 ms | typical reply p50 ms | tokens/s | peak RSS MB |")
    rows = [head, "|" + " --- |" * 11]
    for r in results:
        rows.append(
            f"| {r['model']} | {r['backend']} | {r['size_mb'] or '-'} | {r['load_s']} | {r['relevance']:.2f} "
            f"({r['checks_passed']:.2f}) "
            f"| {r['ttft_ms']['cold_p50']} / {r['ttft_ms']['warm_p50']} | {r['prompt_eval_ms_p50']} "
            f"| {r['first_clause_ms']['p50']} / {r['first_clause_ms']['p95']} | {r['total_ms']['p50']} "
            f"| {r['tokens_per_s_p50']} | {r['peak_rss_mb'] or '-'} |")
    return "\n".join(rows)


def chart(results: list[dict[str, Any]], path: Path, *, budget_ms: float, turn_budget_ms: float, title: str) -> Path:
    """Speed against relevance: for each model, its first clause (p95, what the caller waits for) and its
    typical whole reply (p50), against relevance; the LLM's budget and the turn budget as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in results:
        first, total = r["first_clause_ms"]["p95"], r["total_ms"]["p50"]
        y = r["relevance"]
        line = ax.plot([first, total], [y, y], "-", alpha=0.5)[0]
        ax.plot([total], [y], "o", color=line.get_color(), markerfacecolor="white")
        ax.plot([first], [y], "o", color=line.get_color())
        ax.annotate(f"{r['model']} ({r['backend']})", (total, y), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.axvline(budget_ms, color="red", linestyle="--", label=f"LLM budget for the first clause ({budget_ms:.0f} ms)")
    ax.axvline(turn_budget_ms, color="grey", linestyle=":", label=f"turn budget ({turn_budget_ms:.0f} ms)")
    ax.plot([], [], "ko", label="first clause ready (p95)")
    ax.plot([], [], "ko", markerfacecolor="white", label="whole typical reply (p50)")
    ax.set(xlabel="response time (ms)", ylabel="relevance (share of tasks answered well)", ylim=(0, 1.05),
           title=f"Speed against relevance\n{title}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
