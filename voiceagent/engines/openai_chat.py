"""Any OpenAI-compatible chat server (llama-server, vLLM, llama-cpp-python's server), streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai

from voiceagent.engines.chat_server import ServerChatEngine
from voiceagent.engines.llm import Message


class OpenAIEngine(ServerChatEngine):
    """A model behind ``/v1/chat/completions``: the way out when one machine is not enough.

    ``top_k`` is not part of the OpenAI API (the real one refuses it), so it is not sent.
    """

    client_errors = (openai.OpenAIError,)
    where = "openai-compatible server"

    def __init__(self, model: str, *, base_url: str, api_key: str, timeout_s: float, seed: int = 7) -> None:
        if not base_url:
            raise ValueError("the openai backend needs llm_url, e.g. http://127.0.0.1:8080/v1")
        self.model = model or "default"
        self.label = f"openai:{self.model}@{base_url}"
        self.seed = seed
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    async def request(self, messages: list[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """One chat completion, streamed as server-sent events."""
        response = await self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=self.seed,
        )
        async for chunk in response:  # type: ignore[union-attr]
            if chunk.choices:
                yield chunk.choices[0].delta.content or ""

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
