"""The models a benchmark can reach: bundled GGUFs, GGUF paths, an Ollama server's models, an
OpenAI-compatible endpoint's models. Each target knows how to build its engine."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from voiceagent.engines import bundled
from voiceagent.engines.llm import ChatEngine

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One model to measure. ``in_process``: its memory is this process's (llama.cpp)."""

    name: str  # what `voiceagent serve --model` (with the backend) takes
    backend: str  # llama_cpp, ollama or openai
    build: Callable[[], ChatEngine]
    in_process: bool
    size_mb: float | None = None


def gguf_target(model: str, threads: int, context: int) -> Target:
    """A bundled name or a .gguf path, run embedded."""
    from voiceagent.engines.llama_cpp import LlamaCppEngine

    path = bundled.gguf_path(model)
    label = f"llama_cpp:{model}"
    return Target(name=model, backend="llama_cpp", in_process=True, size_mb=round(path.stat().st_size / 1e6, 1),
                  build=lambda: LlamaCppEngine(path, threads=threads, context=context, label=label))


def bundled_targets(threads: int, context: int) -> list[Target]:
    """Every bundled GGUF whose package is installed."""
    targets = []
    for name in bundled.BUNDLED_LLMS:
        try:
            targets.append(gguf_target(name, threads, context))
        except (FileNotFoundError, ModuleNotFoundError, ValueError) as exc:
            log.info("bundled model %s not installed: %s", name, exc)
    return targets


async def ollama_targets(host: str, timeout_s: float) -> list[Target]:
    """Every model an Ollama server lists."""
    import ollama

    from voiceagent.engines.ollama_chat import OllamaEngine

    listing = await ollama.AsyncClient(host=host, timeout=timeout_s).list()
    names = [str(m.model) for m in listing.models if m.model]
    return [Target(name=n, backend="ollama", in_process=False,
                   build=lambda n=n: OllamaEngine(n, host=host, timeout_s=timeout_s)) for n in names]  # type: ignore[misc]


async def openai_targets(base_url: str, api_key: str, timeout_s: float) -> list[Target]:
    """Every model an OpenAI-compatible endpoint lists."""
    import openai

    from voiceagent.engines.openai_chat import OpenAIEngine

    client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout_s)
    try:
        names = [m.id async for m in client.models.list()]
    finally:
        await client.close()
    return [Target(name=n, backend="openai", in_process=False,
                   build=lambda n=n: OpenAIEngine(n, base_url=base_url, api_key=api_key, timeout_s=timeout_s))  # type: ignore[misc]
            for n in names]


def gguf_paths(paths: list[Path], threads: int, context: int) -> list[Target]:
    """User-given GGUF files."""
    return [gguf_target(str(p), threads, context) for p in paths]
