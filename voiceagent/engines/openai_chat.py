"""Any OpenAI-compatible chat server (llama-server, vLLM, llama-cpp-python's server), streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import openai

from voiceagent.engines.llm import EngineError, Message


class OpenAIEngine:
    """A model behind ``/v1/chat/completions``: the way out when one machine is not enough."""

    def __init__(self, model: str, *, base_url: str, api_key: str, timeout_s: float) -> None:
        if not base_url:
            raise ValueError("the openai backend needs llm_url, e.g. http://127.0.0.1:8080/v1")
        self.model = model or "default"
        self.label = f"openai:{self.model}@{base_url}"
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Send each system prompt once so the server can cache its prefix."""
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
        """Stream reply pieces (server-sent events)."""
        return self._stream(list(messages), max_tokens, temperature)

    async def _stream(self, messages: list[Message], max_tokens: int, temperature: float) -> AsyncIterator[str]:
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=7,
            )
            async for chunk in response:  # type: ignore[union-attr]
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise EngineError(f"openai-compatible server: {exc}") from exc

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
