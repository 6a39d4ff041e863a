"""Ollama through its official async client, streaming. The model is kept loaded with ``keep_alive``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import ollama

from voiceagent.engines.chat_server import ServerChatEngine
from voiceagent.engines.llm import Message

DEFAULT_HOST = "http://127.0.0.1:11434"


class OllamaEngine(ServerChatEngine):
    """A model served by Ollama (``phi3:mini`` by default)."""

    client_errors = (ollama.ResponseError, httpx.HTTPError, ConnectionError)

    def __init__(
        self, model: str, *, host: str, timeout_s: float, keep_alive: str = "30m", seed: int = 7, top_k: int = 40
    ) -> None:
        self.model = model or "phi3:mini"
        self.label = f"ollama:{self.model}"
        self.keep_alive = keep_alive
        self.options = {"seed": seed, "top_k": top_k}
        self._client = ollama.AsyncClient(host=host or DEFAULT_HOST, timeout=timeout_s)
        self.where = f"ollama at {self._client._client.base_url}"

    async def request(self, messages: list[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """One ``/api/chat`` request, streamed."""
        response = await self._client.chat(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            keep_alive=self.keep_alive,
            options={**self.options, "num_predict": max_tokens, "temperature": temperature},
        )
        async for part in response:
            yield part.message.content or ""

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client._client.aclose()
