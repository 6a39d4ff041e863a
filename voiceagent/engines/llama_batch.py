"""llama.cpp embedded with one KV sequence per concurrent request, decoded together (``llm_parallel``).

Where :class:`~voiceagent.engines.llama_cpp.LlamaCppEngine` runs one request at a time and saves and
loads each conversation's evaluated state between turns, this engine keeps ``slots`` conversations
evaluated in one llama.cpp context at once and decodes every running reply in the same step
(:mod:`voiceagent.engines.llama_decoder`): a second caller's reply no longer waits for the first one to
finish. Each persona's warmed prompt has a sequence of its own, shared into a slot (no copy) when a
call of that persona starts. The prompts' states are saved for the next start like the other engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import llama_chat_format
from llama_cpp.llama import LlamaState

from voiceagent.engines import prompt_states
from voiceagent.engines.llama_decoder import DONE, BatchDecoder, Request, Sampling
from voiceagent.engines.llm import EngineError, Message, Tool
from voiceagent.engines.tool_grammar import tool_grammar, words_or_call
from voiceagent.engines.worker import JobSkipped, wait_reporter

log = logging.getLogger(__name__)


class BatchedLlamaEngine:
    """One llama.cpp model shared by every call; up to ``slots`` requests decode together."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int,
        context: int,
        label: str,
        slots: int,
        batch_threads: int = 0,
        seed: int = 7,
        top_k: int = 40,
        chunk: int = 32,
        saved_prompts: Path | None = None,
    ) -> None:
        """``slots`` requests run at once, each with up to ``context`` tokens; ``threads`` and
        ``batch_threads`` as for :class:`~voiceagent.engines.llama_cpp.LlamaCppEngine`; ``chunk``: prompt
        tokens evaluated per step while other replies run; ``saved_prompts``: a folder for the warmed
        persona prompts' states (None: not kept)."""
        self.label = label
        self.seed, self.top_k = seed, top_k
        self._model_path = model_path
        self._saved_prompts = saved_prompts
        self._options = {"slots": slots, "context": context, "threads": threads, "batch_threads": batch_threads,
                         "chunk": chunk}
        self._vocab_only = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
        self._format = _chat_formatter(self._vocab_only)
        self._model = llama_cpp.llama_model_load_from_file(str(model_path).encode(),
                                                           llama_cpp.llama_model_default_params())
        if not self._model:
            raise EngineError(f"llama.cpp could not load {model_path}")
        self._decoder: BatchDecoder | None = None

    @property
    def decoder(self) -> BatchDecoder:
        """The decoder thread (made on first use; :meth:`warm` makes it with a pinned sequence per persona)."""
        if self._decoder is None:
            self._decoder = self._make_decoder(pinned=0)
        return self._decoder

    def _make_decoder(self, pinned: int) -> BatchDecoder:
        options = self._options
        return BatchDecoder(self._model, llama_cpp.llama_model_get_vocab(self._model), slots=options["slots"],
                            pinned=pinned, context=options["context"], threads=options["threads"],
                            batch_threads=options["batch_threads"], chunk=options["chunk"])

    def tokens(self, messages: Sequence[Message]) -> list[int]:
        """The prompt tokens of ``messages`` under the model's chat template, ready for the reply."""
        formatted = self._format(messages=list(messages))  # type: ignore[arg-type]
        return self._vocab_only.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)

    async def warm(self, system_prompts: Sequence[str]) -> None:
        """Give each system prompt a pinned sequence: its state saved by an earlier start, or evaluated
        now (and saved for the next start)."""
        if self._decoder is None:
            self._decoder = await asyncio.to_thread(self._make_decoder, len(system_prompts))
        for prompt in system_prompts:
            messages: list[Message] = [{"role": "system", "content": prompt}, {"role": "user", "content": "Hi"}]
            await asyncio.to_thread(self._pin, messages)

    def _pin(self, messages: list[Message]) -> None:
        """Load or evaluate one persona prompt into its pinned sequence, and save it (a worker thread)."""
        tokens = self.tokens(messages)
        saved = self._saved_state_path(messages)
        state = prompt_states.load(saved, 1) if saved is not None else None
        blob = bytes(memoryview(state.llama_state)[: state.llama_state_size]) if state is not None else None
        fresh = self.decoder.call(functools.partial(self.decoder.pin, tokens, blob))
        if fresh is not None and saved is not None:
            prompt_states.save(saved, LlamaState(
                input_ids=np.asarray(tokens, dtype=np.intc), scores=np.zeros((1, 1), dtype=np.single),
                n_tokens=len(tokens), llama_state=fresh, llama_state_size=len(fresh), seed=self.seed))

    def _saved_state_path(self, messages: list[Message]) -> Path | None:
        if self._saved_prompts is None:
            return None
        conversation = "sequence state:" + json.dumps(messages)  # not the other engine's whole-context states
        return self._saved_prompts / prompt_states.state_name(self._model_path, self._options["context"], conversation)

    async def prefill(self, messages: Sequence[Message]) -> None:
        """Evaluate the conversation so far into a slot while nobody waits. Speculative: it only takes a
        slot no caller's turn needs, and is skipped (:class:`JobSkipped`) when it waits too long."""
        async for _ in self._run(list(messages), 0, Sampling(0.0, 0, self.seed), speculative=True):
            pass

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, tools: Sequence[Tool] = (),
    ) -> AsyncIterator[str]:
        """Stream reply pieces; the request leaves the batch at the next step once the iterator is closed.
        With ``tools`` the reply is words or one call (:func:`~voiceagent.engines.tool_grammar.words_or_call`)."""
        prompt = list(messages)
        sampling = Sampling(temperature, self.top_k, self.seed)
        if not tools:
            return self._run(prompt, max_tokens, sampling)
        call = Sampling(temperature, self.top_k, self.seed, tool_grammar(tools, words=False))
        return words_or_call(lambda: self._run(prompt, max_tokens, sampling), lambda: self._run(prompt, max_tokens, call))

    async def _run(self, messages: list[Message], max_tokens: int, sampling: Sampling, *,
                   speculative: bool = False) -> AsyncGenerator[str, None]:
        """Run one request. Its prompt is templated and tokenized here, on the loop (about a millisecond), so
        requests made together reach the decoder together."""
        loop = asyncio.get_running_loop()
        prompt = self.tokens(messages)
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def emit(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody reads it any more
                loop.call_soon_threadsafe(queue.put_nowait, item)

        request = Request(prompt, max_tokens, sampling, emit, speculative=speculative,
                          on_start=wait_reporter("llm"))
        self.decoder.submit(request)
        try:
            while True:
                item = await queue.get()
                if item is DONE:
                    return
                if isinstance(item, (EngineError, JobSkipped)):
                    raise item
                yield item
        finally:
            request.stop.set()  # queued: it never starts; running: it leaves the batch before the next step

    async def close(self) -> None:
        """Stop the decoder thread and free the model."""
        if self._decoder is not None:
            await asyncio.to_thread(self._decoder.close)
            self._decoder = None
        if self._model:
            llama_cpp.llama_model_free(self._model)
            self._model = None


def _chat_formatter(vocab_only: llama_cpp.Llama) -> llama_chat_format.Jinja2ChatFormatter:
    """The model's own chat template (from its GGUF metadata), as llama-cpp-python applies it."""
    template = vocab_only.metadata.get("tokenizer.chat_template")
    if not template:
        raise EngineError("the model file has no chat template: use llm_parallel = 0")
    eos, bos = vocab_only.token_eos(), vocab_only.token_bos()

    def text(token: int) -> str:
        return vocab_only.detokenize([token], special=True).decode() if token >= 0 else ""

    return llama_chat_format.Jinja2ChatFormatter(  # type: ignore[no-untyped-call]
        template=template, eos_token=text(eos), bos_token=text(bos), stop_token_ids=[eos])
