"""Ollama through its official async client, streaming. The model is kept loaded with ``keep_alive``.

Tools go in the request's native ``tools`` parameter (the client library keeps only the schema keys it
knows: type, description, enum, items, required; ``additionalProperties`` is dropped). Ollama parses the
model's call itself and streams it whole in one chunk's ``message.tool_calls``, arguments as an object;
the first call is the reply. Without tools the library still sends ``"tools": []``, which Ollama reads
as none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import httpx
import ollama

from voiceagent.engines.chat_server import ServerChatEngine, ServerToolCall
from voiceagent.engines.llm import Message, Tool

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

    async def request(
        self, messages: list[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool],
    ) -> AsyncGenerator[str | ServerToolCall, None]:
        """One ``/api/chat`` request, streamed; a chunk with a tool call ends the reply."""
        response = await self._client.chat(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            tools=[_function_tool(tool) for tool in tools] or None,
            stream=True,
            keep_alive=self.keep_alive,
            options={**self.options, "num_predict": max_tokens, "temperature": temperature},
        )
        try:
            async for part in response:
                if part.message.tool_calls:
                    yield _first_call(part.message.tool_calls)
                    return
                yield part.message.content or ""
        finally:
            await _close(response)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client._client.aclose()


def _function_tool(tool: Tool) -> dict[str, object]:
    """``tool`` in the ``tools`` parameter's shape (the OpenAI API's, which Ollama adopted)."""
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters}}


def _first_call(calls: Sequence[ollama.Message.ToolCall]) -> ServerToolCall:
    """The first of a chunk's tool calls (Ollama sends each call whole, arguments as an object)."""
    function = calls[0].function
    return ServerToolCall(function.name, json.dumps(dict(function.arguments)))


async def _close(response: AsyncIterator[ollama.ChatResponse]) -> None:
    """Close the client's stream (and so the HTTP response) when the reply is read or abandoned."""
    aclose = getattr(response, "aclose", None)
    if aclose is not None:
        await aclose()
