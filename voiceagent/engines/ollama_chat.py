"""Ollama through its official async client, streaming. The model is kept loaded with ``keep_alive``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import ollama

from voiceagent.engines.llm import EngineError, Message

DEFAULT_HOST = "http://127.0.0.1:11434"


class OllamaEngine:
    """A model served by Ollama (``phi3:mini`` by default)."""

    def __init__(self, model: str, *, host: str, timeout_s: float, keep_alive: str = "30m") -> None:
        self.model = model or "phi3:mini"
        self.label = f"ollama:{self.model}"
        self.keep_alive = keep_alive
        self._client = ollama.AsyncClient(host=host or DEFAULT_HOST, timeout=timeout_s)

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Load the model into Ollama's memory and evaluate each system prompt once."""
        for prompt in system_prompts:
            async for _ in self.stream(
                [{"role": "system", "content": prompt}, {"role": "user", "content": "Hi"}],
                max_tokens=1,
                temperature=0.0,
            ):
                pass

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Nothing to do: the server keeps its own prompt cache."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """Stream reply pieces from ``/api/chat``."""
        return self._stream(list(messages), max_tokens, temperature)

    async def _stream(self, messages: list[Message], max_tokens: int, temperature: float) -> AsyncIterator[str]:
        try:
            response = await self._client.chat(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                keep_alive=self.keep_alive,
                options={"num_predict": max_tokens, "temperature": temperature, "seed": 7},
            )
            async for part in response:
                text = part.message.content
                if text:
                    yield text
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
            raise EngineError(f"ollama at {self._client._client.base_url}: {exc}") from exc

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client._client.aclose()
