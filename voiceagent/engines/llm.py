"""The interface every language-model backend implements, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, TypedDict


class Message(TypedDict):
    """One chat message: role is system, user or assistant."""

    role: str
    content: str


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

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """Yield the reply's text pieces as they are generated. Cancel-safe: closing stops generation."""

    async def close(self) -> None:
        """Release the model or connection."""
