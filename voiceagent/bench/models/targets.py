"""The models a benchmark can reach: bundled GGUFs, GGUF paths, an Ollama server's models, an
OpenAI-compatible endpoint's models. Each target builds its engine the way the server does (from the
settings, so threads, seed and top_k are the ones calls get), with only the backend and model changed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from voiceagent.config import Settings
from voiceagent.engines import bundled
from voiceagent.engines.llm import ChatEngine
from voiceagent.engines.loader import make_llm

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One model to measure. ``in_process``: its memory is this process's (llama.cpp)."""

    name: str  # what `voiceagent serve --model` (with the backend) takes
    backend: str  # llama_cpp, ollama or openai
    build: Callable[[], ChatEngine]
    in_process: bool
    size_mb: float | None = None


def _builder(settings: Settings, **changes: str) -> Callable[[], ChatEngine]:
    """Build the engine ``settings`` with ``changes`` describe (never with the embedded fallback)."""
    chosen = dataclasses.replace(settings, llm_fallback=False, **changes)  # type: ignore[arg-type]
    return lambda: make_llm(chosen)


def gguf_target(model: str, settings: Settings) -> Target:
    """A bundled name or a .gguf path, run embedded."""
    path = bundled.gguf_path(model)
    return Target(name=model, backend="llama_cpp", in_process=True, size_mb=round(path.stat().st_size / 1e6, 1),
                  build=_builder(settings, llm="llama_cpp", model=model))


def bundled_targets(settings: Settings) -> list[Target]:
    """Every bundled GGUF whose package is installed."""
    targets = []
    for name in bundled.BUNDLED_LLMS:
        try:
            targets.append(gguf_target(name, settings))
        except (FileNotFoundError, ModuleNotFoundError, ValueError) as exc:
            log.info("bundled model %s not installed: %s", name, exc)
    return targets


async def ollama_targets(host: str, settings: Settings) -> list[Target]:
    """Every model an Ollama server lists."""
    import ollama

    listing = await ollama.AsyncClient(host=host, timeout=settings.engine_timeout_s).list()
    names = [str(m.model) for m in listing.models if m.model]
    return [Target(name=n, backend="ollama", in_process=False, build=_builder(settings, llm="ollama", model=n,
                                                                               llm_url=host)) for n in names]


async def openai_targets(base_url: str, api_key: str, settings: Settings) -> list[Target]:
    """Every model an OpenAI-compatible endpoint lists."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "none", timeout=settings.engine_timeout_s)
    try:
        names = [m.id async for m in client.models.list()]
    finally:
        await client.close()
    return [Target(name=n, backend="openai", in_process=False,
                   build=_builder(settings, llm="openai", model=n, llm_url=base_url, llm_api_key=api_key))
            for n in names]


def gguf_paths(paths: list[Path], settings: Settings) -> list[Target]:
    """User-given GGUF files."""
    return [gguf_target(str(p), settings) for p in paths]
