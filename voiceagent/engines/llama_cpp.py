"""llama.cpp embedded in the process (llama-cpp-python): the zero-setup default language model.

The model's KV cache keeps the longest common token prefix between requests, so once a persona's system
prompt has been evaluated (at warm-up) each turn only evaluates the conversation after it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from voiceagent.engines.llm import EngineError, Message
from voiceagent.engines.worker import EngineWorker

_DONE = object()


class LlamaCppEngine:
    """One llama.cpp model shared by every call; requests run one at a time on its worker thread."""

    def __init__(self, model_path: Path, *, threads: int, context: int, label: str) -> None:
        self.label = label
        self._llm = Llama(
            model_path=str(model_path),
            n_ctx=context,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.worker = EngineWorker("llm")

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Evaluate each system prompt once (the last one stays in the KV cache)."""
        for prompt in system_prompts:
            messages: list[Message] = [{"role": "system", "content": prompt}, {"role": "user", "content": "Hi"}]
            async for _ in self.stream(messages, max_tokens=2, temperature=0.0):
                pass

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> AsyncIterator[str]:
        """Stream reply pieces; generation stops at the next token once the iterator is closed."""
        return self._stream(list(messages), max_tokens, temperature)

    async def _stream(self, messages: list[Message], max_tokens: int, temperature: float) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def put(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def generate() -> None:
            try:
                chunks = self._llm.create_chat_completion(
                    messages=messages,  # type: ignore[arg-type]
                    stream=True,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_k=40,
                    seed=7,
                )
                for chunk in chunks:
                    if stop.is_set():
                        break
                    delta: Any = chunk["choices"][0]["delta"]  # type: ignore[index]
                    text = delta.get("content")
                    if text:
                        put(text)
                put(_DONE)
            except Exception as exc:  # noqa: BLE001 - any engine failure becomes an EngineError
                put(EngineError(f"llama.cpp failed: {exc}"))

        if stop.is_set():
            return
        self.worker.submit(generate)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, EngineError):
                    raise item
                yield item
        finally:
            stop.set()

    async def close(self) -> None:
        """Stop the worker; the model is freed with the process."""
        self.worker.close()
