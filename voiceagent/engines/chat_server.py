"""What every backend that talks to a model server shares: warm-up by sending each system prompt once, no
prefill (the server keeps its own prompt cache), streaming with empty pieces dropped, and the client
library's errors (refused, timed out, unknown model ...) mapped to :class:`EngineError`.

A backend (Ollama, an OpenAI-compatible server) is a thin adapter: it opens the client with the call
timeout, says which exceptions are its client's failures, and turns one request into a stream of text.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence

from voiceagent.engines.llm import EngineError, Message, Tool


class ServerChatEngine(abc.ABC):
    """A :class:`~voiceagent.engines.llm.ChatEngine` whose model runs in another process."""

    label: str  # backend and model, for logs and the ready event
    client_errors: tuple[type[BaseException], ...]  # the client library's failures
    where: str  # names the server in error messages

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Load the model on the server and let it cache each system prompt (one token is asked for)."""
        for prompt in system_prompts:
            async for _ in self.stream(
                [{"role": "system", "content": prompt}, {"role": "user", "content": "Hi"}],
                max_tokens=1,
                temperature=0.0,
            ):
                pass

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Nothing to do: the server keeps its own prompt cache."""

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        """Stream reply pieces; a failure of the client raises :class:`EngineError`."""
        return self._stream(list(messages), max_tokens, temperature, tools)

    async def _stream(
        self, messages: list[Message], max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        try:
            async for piece in self.request(messages, max_tokens=max_tokens, temperature=temperature):
                if piece:
                    yield piece
        except self.client_errors as exc:
            raise EngineError(f"{self.where}: {exc}") from exc

    @abc.abstractmethod
    def request(self, messages: list[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """Send one streaming chat request; yield the text of each piece as the server sends it."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the HTTP connection pool."""
