"""Any OpenAI-compatible chat server (llama-server, vLLM, llama-cpp-python's server), streaming.

Tools go in the request's native ``tools`` parameter with ``tool_choice="auto"`` (neither key is sent
without tools). A streamed call arrives in fragments (``delta.tool_calls``: an index, the id and name in
the first, the arguments' JSON text in pieces); the first call's fragments are joined until the stream
ends or its ``finish_reason`` is ``tool_calls``, then the call is the reply. Arguments that are not valid
JSON are passed on as received, so the call side finds the call unreadable (see
:meth:`~voiceagent.engines.chat_server.ServerToolCall.text`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Sequence

import openai
from openai.types.chat import ChatCompletionFunctionToolParam
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from voiceagent.engines.chat_server import ServerChatEngine, ServerToolCall
from voiceagent.engines.llm import Message, Tool


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

    async def request(
        self, messages: list[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool],
    ) -> AsyncGenerator[str | ServerToolCall, None]:
        """One chat completion, streamed as server-sent events; a tool call is yielded once complete."""
        response = await self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=self.seed,
            tools=[_function_tool(tool) for tool in tools] if tools else openai.omit,
            tool_choice="auto" if tools else openai.omit,
        )
        call = _CallFragments()
        try:
            async for chunk in response:  # type: ignore[union-attr]
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                call.add(choice.delta.tool_calls or ())
                yield choice.delta.content or ""
                if choice.finish_reason == "tool_calls":
                    break
        finally:
            await response.close()  # type: ignore[union-attr]
        if call.started:
            yield call.complete()

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()


def _function_tool(tool: Tool) -> ChatCompletionFunctionToolParam:
    """``tool`` as an OpenAI function tool."""
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters}}


@dataclasses.dataclass
class _CallFragments:
    """The first tool call of a streamed reply, joined from its fragments (later calls are ignored)."""

    index: int | None = None
    name: str = ""
    arguments: list[str] = dataclasses.field(default_factory=list)

    @property
    def started(self) -> bool:
        """Whether any fragment of a call has arrived."""
        return self.index is not None

    def add(self, fragments: Sequence[ChoiceDeltaToolCall]) -> None:
        """Take in one delta's fragments: the name from the first that has one, the arguments' pieces."""
        for fragment in fragments:
            if self.index is None:
                self.index = fragment.index
            if fragment.index != self.index or fragment.function is None:
                continue
            self.name = self.name or fragment.function.name or ""
            self.arguments.append(fragment.function.arguments or "")

    def complete(self) -> ServerToolCall:
        """The call as received."""
        return ServerToolCall(self.name, "".join(self.arguments))
