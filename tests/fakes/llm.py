"""A scripted :class:`~voiceagent.engines.llm.ChatEngine`: replies streamed word by word with set delays,
failures and hangs; it records every request and prefill, and how each stream ended."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Sequence

from tests.fakes.engines import HANG, act, pause
from voiceagent.engines.llm import EngineError, Message, Tool


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """One scripted model reply: its text, streamed word by word, and how it goes wrong (if it does)."""

    text: str = ""
    first_token_s: float | None = None  # None: the engine's own first-token delay
    fail_after: int | None = None  # raise ``error`` after this many tokens
    hang_after: int | None = None  # stop answering after this many tokens
    error: Exception = dataclasses.field(default_factory=lambda: EngineError("scripted model failure"))

    def tokens(self) -> list[str]:
        """The text as the model's pieces: each word with the space before it."""
        return re.findall(r"\s*\S+", self.text)


class ScriptedLlm:
    """A :class:`~voiceagent.engines.llm.ChatEngine` that streams scripted replies.

    Replies are taken in request order (``default`` once they run out); the first piece comes after
    ``first_token_s``, each further one after ``token_s``. Every request's messages and every prefill
    are kept; a stream closed or cancelled before its end is counted in :attr:`cancelled`.
    """

    label = "scripted_llm"

    def __init__(
        self,
        replies: Sequence[str | Reply] = (),
        *,
        first_token_s: float = 0.0,
        token_s: float = 0.0,
        default: str = "Okay.",
        prefill_error: Exception | None = None,
    ) -> None:
        self._replies = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        self.first_token_s = first_token_s
        self.token_s = token_s
        self.default = default
        self.prefill_error = prefill_error
        self.requests: list[list[Message]] = []
        self.prefills: list[list[Message]] = []
        self.warmed: list[str] = []
        self.tokens_sent = 0
        self.open_streams = 0
        self.completed = 0
        self.failed = 0
        self.cancelled = 0
        self.closed = False
        self.tools_offered: list[tuple[str, ...]] = []  # per request, the tools the call offered

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Remember the prompts it was warmed with."""
        self.warmed.extend(system_prompts)

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Remember the messages (or raise ``prefill_error``)."""
        self.prefills.append([Message(role=m["role"], content=m["content"]) for m in messages])
        if self.prefill_error is not None:
            raise self.prefill_error

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        """Record the request (and the tools offered) and stream the next scripted reply (at most
        ``max_tokens`` pieces)."""
        self.requests.append([Message(role=m["role"], content=m["content"]) for m in messages])
        self.tools_offered.append(tuple(t.name for t in tools))
        index = len(self.requests) - 1
        reply = self._replies[index] if index < len(self._replies) else Reply(self.default)
        return self._generate(reply, max_tokens)

    async def _generate(self, reply: Reply, max_tokens: int) -> AsyncIterator[str]:
        self.open_streams += 1
        outcome = "cancelled"
        try:
            await pause(self.first_token_s if reply.first_token_s is None else reply.first_token_s)
            tokens = reply.tokens()[:max_tokens]
            for i in range(len(tokens) + 1):
                if i == reply.fail_after:
                    outcome = "failed"
                    raise reply.error
                if i == reply.hang_after:
                    await act(HANG)
                if i == len(tokens):
                    break
                if i:
                    await pause(self.token_s)
                self.tokens_sent += 1
                yield tokens[i]
            outcome = "completed"
        finally:
            self.open_streams -= 1
            self._count(outcome)

    def _count(self, outcome: str) -> None:
        if outcome == "completed":
            self.completed += 1
        elif outcome == "failed":
            self.failed += 1
        else:
            self.cancelled += 1

    async def close(self) -> None:
        """Mark the engine closed."""
        self.closed = True
