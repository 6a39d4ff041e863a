"""The interface every language-model backend implements, and its errors."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, TypedDict


class Message(TypedDict):
    """One chat message: role is system, user or assistant."""

    role: str
    content: str


@dataclasses.dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call instead of answering in words: its name, what it does, and the
    JSON schema of its arguments object. A call comes back in the reply text as
    ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``; an engine that can, constrains its
    output so that a call is always well formed."""

    name: str
    description: str
    parameters: dict[str, Any] = dataclasses.field(hash=False, compare=False, default_factory=dict)


class EngineError(RuntimeError):
    """A model engine failed or is unreachable; the call apologises and goes on."""


class ChatEngine(Protocol):
    """A streaming chat model."""

    label: str  # backend and model, for logs and the ready event

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Load the model and cache each system prompt so the first turn pays no prompt evaluation."""

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Evaluate ``messages`` into the model's cache while nobody waits (after a reply), so the next
        turn only evaluates the caller's new words. A no-op where the server manages its own cache."""

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        """Yield the reply's text pieces as they are generated. Cancel-safe: closing stops generation.
        With ``tools``, the reply is either words or one tool call (see :class:`Tool`)."""

    async def close(self) -> None:
        """Release the model or connection."""
