"""What every backend that talks to a model server shares: warm-up by sending each system prompt once, no
prefill (the server keeps its own prompt cache), streaming with empty pieces dropped, tool calls turned
into reply text, and the client library's errors (refused, timed out, unknown model ...) mapped to
:class:`EngineError`.

A backend (Ollama, an OpenAI-compatible server) is a thin adapter: it opens the client with the call
timeout, says which exceptions are its client's failures, and turns one request into a stream of text
pieces and, where the server calls a tool through its native ``tools`` parameter, one
:class:`ServerToolCall`.

Tool calls come back as the text every engine uses (see :class:`~voiceagent.engines.llm.Tool`),
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, in one piece, and the stream ends there.
A reply is words or one call: a call that comes after words have been streamed is dropped (the words may
already be spoken).
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from voiceagent.engines.llm import EngineError, Message, Tool

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class ServerToolCall:
    """A tool call as the server returned it: the function's name and its arguments as JSON text."""

    name: str
    arguments: str  # a JSON object as text; "" (no arguments) reads as {}

    def text(self) -> str:
        """The call as reply text. Arguments that are not valid JSON are kept as received, so the call
        side finds the call unreadable (and asks the model again, without tools) rather than running it
        with arguments made up here."""
        raw = self.arguments.strip() or "{}"
        try:
            arguments = json.loads(raw)
        except ValueError:
            return f'<tool_call>{{"name": {json.dumps(self.name)}, "arguments": {raw}}}</tool_call>'
        return f"<tool_call>{json.dumps({'name': self.name, 'arguments': arguments})}</tool_call>"


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
        """Stream reply pieces; a failure of the client raises :class:`EngineError`. With ``tools``, the
        server is offered them natively and a call comes back as one ``<tool_call>`` piece."""
        return self._stream(list(messages), max_tokens, temperature, tuple(tools))

    async def _stream(
        self, messages: list[Message], max_tokens: int, temperature: float, tools: tuple[Tool, ...],
    ) -> AsyncGenerator[str, None]:
        worded = False  # words (not only blanks) have been yielded
        try:
            request = self.request(messages, max_tokens=max_tokens, temperature=temperature, tools=tools)
            async with contextlib.aclosing(request) as pieces:
                async for piece in pieces:
                    if isinstance(piece, ServerToolCall):
                        if worded:
                            log.info("%s called %s after answering in words: the call is dropped",
                                     self.label, piece.name)
                        else:
                            yield piece.text()
                        return
                    if piece:
                        worded = worded or not piece.isspace()
                        yield piece
        except self.client_errors as exc:
            raise EngineError(f"{self.where}: {exc}") from exc

    @abc.abstractmethod
    def request(
        self, messages: list[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool],
    ) -> AsyncGenerator[str | ServerToolCall, None]:
        """Send one streaming chat request (offering ``tools``, if any); yield the text of each piece as
        the server sends it, or the reply's tool call once it is complete (nothing is read after it)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the HTTP connection pool."""
