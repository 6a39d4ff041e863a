"""A model server with the embedded model behind it: when the server fails or does not start answering
within ``after_s``, the turn is answered by the embedded model instead of an apology, and the server is
tried again after ``retry_s``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from voiceagent import metrics
from voiceagent.engines.llm import ChatEngine, EngineError, Message, Tool

log = logging.getLogger(__name__)


class FallbackEngine:
    """``primary`` (Ollama, an OpenAI-compatible server) first; ``fallback`` (llama.cpp) when it fails."""

    def __init__(self, primary: ChatEngine, fallback: ChatEngine, *, after_s: float, retry_s: float = 30.0) -> None:
        self.primary = primary
        self.fallback = fallback
        self.after_s = after_s
        self.retry_s = retry_s
        self.label = f"{primary.label} (fallback {fallback.label})"
        self._down_until = 0.0

    @property
    def primary_up(self) -> bool:
        """False while the primary is being skipped after a failure."""
        return time.monotonic() >= self._down_until

    def _mark_down(self, why: str) -> None:
        self._down_until = time.monotonic() + self.retry_s
        metrics.LLM_FALLBACKS.inc()
        log.warning("language model %s failed (%s): the embedded %s answers for %.0f s",
                    self.primary.label, why, self.fallback.label, self.retry_s)

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Warm the embedded model; a primary that is down now is only noted."""
        await self.fallback.warm(system_prompts)
        try:
            await asyncio.wait_for(self.primary.warm(system_prompts), self.after_s * 4)
        except (EngineError, TimeoutError, OSError) as exc:
            self._mark_down(repr(exc))

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Prefill whichever model will answer next."""
        await (self.primary if self.primary_up else self.fallback).prefill(messages)

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        """The primary's reply, or the fallback's if the primary fails before its first token."""
        return self._stream(list(messages), max_tokens, temperature, tools)

    async def _stream(
        self, messages: list[Message], max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        if self.primary_up:
            pieces = self.primary.stream(messages, max_tokens=max_tokens, temperature=temperature, tools=tools)
            try:
                first = await asyncio.wait_for(anext(pieces), self.after_s)
            except StopAsyncIteration:
                return
            except (EngineError, TimeoutError, OSError) as exc:
                self._mark_down(repr(exc))
                with contextlib.suppress(Exception):
                    await pieces.aclose()  # type: ignore[attr-defined]
            else:
                yield first
                async for piece in pieces:
                    yield piece
                return
        async for piece in self.fallback.stream(messages, max_tokens=max_tokens, temperature=temperature, tools=tools):
            yield piece

    async def close(self) -> None:
        """Release both."""
        await self.primary.close()
        await self.fallback.close()
