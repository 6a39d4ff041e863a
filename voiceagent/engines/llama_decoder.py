"""The thread that owns a llama.cpp context with one KV sequence per slot and runs every request in it
at once: each step is one ``llama_decode`` of the next token of every request that is generating, plus
a chunk of the prompts still being evaluated.

Two callers' replies cost one step instead of two (measured on two cores by
``scripts/bench_batch_decode.py``: 1.44x the tokens a second with two sequences, 1.92x with three), and a
new turn's prompt is evaluated in chunks beside the replies already running, so it neither waits for them
to finish nor stops them. What a slot holds after a request stays for the next one
(:mod:`voiceagent.engines.llama_slots`).

Order and cancellation: requests for a waiting caller are admitted first, in order. Speculative ones
(prefills) start only on an idle model, pause while a caller's request runs, are skipped past
``speculative_wait_s`` in the queue and are evicted when a real request needs their slot. A waiting
caller's prompt is evaluated whole in one step, unless another reply has not reached its first clause
yet: then it goes ``chunk`` tokens per step beside that reply, so neither caller waits for the other. A request whose stop event is set leaves the batch before the next
step: queued, it never starts; generating, it stops at the next token.
"""

from __future__ import annotations

import codecs
import collections
import ctypes
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import llama_cpp

from voiceagent import metrics
from voiceagent.engines.llama_slots import Slot, plan
from voiceagent.engines.llm import EngineError
from voiceagent.engines.worker import JobSkipped

log = logging.getLogger(__name__)
DONE = object()  # emitted when a request has ended normally
OPENING_TOKENS = 16  # a reply's first clause is about this long: until then, other prompts go in chunks


@dataclasses.dataclass(frozen=True, slots=True)
class Sampling:
    """How a request's tokens are drawn (llama-cpp-python's chat defaults for the rest)."""

    temperature: float
    top_k: int
    seed: int
    grammar: str | None = None  # GBNF text with a ``root`` rule, or None


@dataclasses.dataclass(eq=False)
class Request:
    """One generation (``max_tokens`` > 0) or prefill (0). ``emit`` is called on the decoder thread with
    each text piece, then :data:`DONE` or an exception; it must hand them off (e.g. to an event loop)."""

    prompt: list[int]
    max_tokens: int
    sampling: Sampling
    emit: Callable[[Any], None]
    speculative: bool = False
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    on_start: Callable[[float], None] | None = None  # called with the queue wait, in seconds, once admitted
    queued: float = dataclasses.field(default_factory=time.monotonic)
    slot: Slot | None = None
    pending: list[int] = dataclasses.field(default_factory=list)  # tokens still to put in the slot's cache
    sampler: Any = None
    generated: int = 0
    text: Any = dataclasses.field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("ignore"))


class BatchDecoder:
    """Runs :class:`Request` objects on one thread, all admitted ones batched into each decode step."""

    def __init__(self, model: Any, vocab: Any, *, slots: int, pinned: int, context: int, threads: int,
                 batch_threads: int, chunk: int = 32, speculative_wait_s: float = 1.0) -> None:
        """``slots`` requests run at once, each with up to ``context`` tokens; ``pinned`` more sequences
        hold prompts loaded by :meth:`pin`; while another reply is still on its first clause, a prompt is
        evaluated ``chunk`` tokens per step (about 8 ms a token on two cores)."""
        self._vocab = vocab
        self.chunk = chunk
        self.speculative_wait_s = speculative_wait_s
        self.context = context
        params = llama_cpp.llama_context_default_params()
        params.n_seq_max = slots + pinned
        params.n_ctx = context * (slots + pinned)
        params.n_batch = params.n_ubatch = max(chunk * slots, 512)
        params.n_threads, params.n_threads_batch = threads, batch_threads or threads
        params.kv_unified = True  # one cache: a copied prompt prefix shares its cells (see _start)
        self._ctx = llama_cpp.llama_init_from_model(model, params)
        if not self._ctx:
            raise EngineError("llama.cpp could not make a context for batched decoding")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(params.n_batch, 0, 1)
        self._batch_size = int(params.n_batch)
        self.slots = [Slot(i) for i in range(slots)]
        self.pinned: list[Slot] = []
        self._free_pinned = list(range(slots, slots + pinned))
        self._queue: collections.deque[Request] = collections.deque()
        self._active: list[Request] = []
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()  # run between steps
        self._wake = threading.Condition()
        self._closed = False
        self.steps = 0  # decode steps run (to see batching happen)
        self.evaluated = 0  # tokens put into the cache (what prompts really cost, after kept prefixes)
        self.widest = 0  # most requests in one step
        self._thread = threading.Thread(target=self._run, name="llm-batch", daemon=True)
        self._thread.start()

    # -- called from any thread ------------------------------------------------------------------------

    def submit(self, request: Request) -> None:
        """Queue ``request``; it runs as soon as a slot is free (real requests before speculative ones)."""
        if len(request.prompt) + request.max_tokens > self.context:
            request.emit(EngineError(f"llama.cpp: prompt of {len(request.prompt)} tokens does not fit the "
                                     f"{self.context}-token context"))
            return
        with self._wake:
            if self._closed:
                request.emit(EngineError("llama.cpp: the engine is closed"))
                return
            self._queue.append(request)
            self._wake.notify()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the decoder thread between two steps and return its result (blocks the caller)."""
        done: dict[str, Any] = {}
        finished = threading.Event()

        def job() -> None:
            try:
                done["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                done["error"] = exc
            finished.set()

        with self._wake:
            if self._closed:
                raise EngineError("llama.cpp: the engine is closed")
            self._jobs.append(job)
            self._wake.notify()
        finished.wait()
        if "error" in done:
            raise done["error"]
        return done.get("value")

    def close(self) -> None:
        """Stop the thread (queued and running requests end with an error) and free the context."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()
        llama_cpp.llama_batch_free(self._batch)
        llama_cpp.llama_free(self._ctx)

    # -- decoder thread: pinned prompts ----------------------------------------------------------------

    def pin(self, prompt: Sequence[int], state: bytes | None) -> bytes | None:
        """Give ``prompt`` a pinned sequence of its own (decoder thread, via :meth:`call`): load ``state``
        (a sequence state saved by an earlier start) or evaluate the prompt. Returns the state to save,
        or None if it was loaded, or no pinned sequence is left."""
        if not self._free_pinned:
            log.warning("llama.cpp: no pinned sequence left for another persona prompt")
            return None
        slot = Slot(self._free_pinned.pop(0), busy=True)
        if state is not None:
            buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
            if llama_cpp.llama_state_seq_set_data(self._ctx, buffer, len(state), slot.seq_id) == len(state):
                slot.tokens = list(prompt)
                self.pinned.append(slot)
                return None
            log.warning("llama.cpp: a saved persona prompt state did not load: evaluating the prompt again")
            llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, -1, -1)
        for start in range(0, len(prompt), self._batch_size):
            chunk = prompt[start:start + self._batch_size]
            self._fill([(token, start + i, slot.seq_id, False) for i, token in enumerate(chunk)])
            self._decode()
            self.evaluated += len(chunk)
        slot.tokens = list(prompt)
        self.pinned.append(slot)
        size = int(llama_cpp.llama_state_seq_get_size(self._ctx, slot.seq_id))
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(self._ctx, buffer, size, slot.seq_id))
        return bytes(buffer[:written])

    # -- decoder thread: the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._closed or self._queue or self._active or self._jobs):
                    self._wake.wait()
                if self._closed:
                    break
                jobs = list(self._jobs)
                self._jobs.clear()
            for job in jobs:
                job()
            try:
                self._admit()
                self._drop_stopped()
                if self._active:
                    self._step()
            except Exception as exc:  # the thread must live on for the other calls
                log.exception("llama.cpp batch step failed")
                self._fail_active(EngineError(f"llama.cpp failed: {exc}"))
        for request in [*self._active, *self._queue]:
            request.emit(EngineError("llama.cpp: the engine closed"))

    def _fail_active(self, error: EngineError) -> None:
        """End every running request with ``error`` and forget what their slots held (it may be half
        written)."""
        for request in list(self._active):
            if request.slot is not None:
                llama_cpp.llama_memory_seq_rm(self._memory, request.slot.seq_id, -1, -1)
                request.slot.tokens.clear()
            request.emit(error)
            self._finish(request)

    def _admit(self) -> None:
        """Move queued requests into free slots: real ones first, in order; speculative ones only into a
        slot that no real request waits for, and never after waiting too long."""
        with self._wake:
            queued = list(self._queue)
            self._queue.clear()
        waiting: list[Request] = []
        for request in sorted(queued, key=lambda r: r.speculative):  # stable: real ones first, in order
            if request.stop.is_set():
                request.emit(DONE)
                metrics.ENGINE_JOBS_SKIPPED.labels("llm").inc()
                continue
            if request.speculative and time.monotonic() - request.queued > self.speculative_wait_s:
                request.emit(JobSkipped("llm: speculative work waited too long"))
                metrics.ENGINE_JOBS_SKIPPED.labels("llm").inc()
                continue
            if request.speculative and any(not r.speculative for r in (*waiting, *self._active)):
                waiting.append(request)  # speculative work only starts on an idle model
                continue
            where = plan(request.prompt, self.slots, self.pinned)
            if where is None and not request.speculative:
                where = self._evict_speculative(request.prompt)
            if where is None:
                waiting.append(request)
                continue
            try:
                self._start(request, where)
            except Exception as exc:  # noqa: BLE001 - this request fails; the others go on
                request.emit(exc if isinstance(exc, EngineError) else EngineError(f"llama.cpp failed: {exc}"))
        with self._wake:
            self._queue.extendleft(reversed(waiting))

    def _evict_speculative(self, prompt: Sequence[int]) -> Any:
        for other in self._active:
            if other.speculative:
                other.emit(JobSkipped("llm: a caller's turn needed the slot"))
                self._finish(other)
                return plan(prompt, self.slots, self.pinned)
        return None

    def _start(self, request: Request, where: Any) -> None:
        slot = where.slot
        if where.copy_from is not None:  # the pinned prompt's cells are shared, not copied: no cost
            llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, -1, -1)
            llama_cpp.llama_memory_seq_cp(self._memory, where.copy_from.seq_id, slot.seq_id, 0, where.keep)
            slot.tokens = list(where.copy_from.tokens[: where.keep])
        llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, where.keep, -1)
        del slot.tokens[where.keep:]
        if request.max_tokens:
            request.sampler = _sampler(self._vocab, request.sampling)
        slot.busy = True
        request.slot = slot
        request.pending = list(request.prompt[where.keep:])
        waited = time.monotonic() - request.queued
        metrics.ENGINE_QUEUE_SECONDS.labels("llm").observe(waited)
        if request.on_start is not None:
            request.on_start(waited)
        self._active.append(request)

    def _drop_stopped(self) -> None:
        for request in [r for r in self._active if r.stop.is_set()]:
            request.emit(DONE)
            self._finish(request)

    def _finish(self, request: Request) -> None:
        self._active.remove(request)
        if request.sampler is not None:
            llama_cpp.llama_sampler_free(request.sampler)
            request.sampler = None
        if request.slot is not None:
            request.slot.busy = False
            request.slot.last_used = time.monotonic()

    def _step(self) -> None:
        """One decode of every generating request's next token and a chunk of each pending prompt."""
        items: list[tuple[int, int, int, bool]] = []
        owners: list[tuple[Request, int]] = []  # request, index of its logits row in the batch
        real = any(not r.speculative for r in self._active)
        opening = any(r.max_tokens and r.generated and r.generated < OPENING_TOKENS for r in self._active)
        for request in sorted(self._active, key=lambda r: (r.speculative, len(r.pending) > 1)):
            room = self._batch_size - len(items)
            if room <= 0:
                break
            if request.speculative and real:
                continue  # paused while a caller waits
            slot = request.slot
            assert slot is not None
            in_prompt = request.generated == 0
            take = request.pending[: min(room, self.chunk) if opening and in_prompt else room]
            if not take:
                continue  # a prompt held back while another reply opens (chunk 0)
            del request.pending[: len(take)]
            for token in take:
                items.append((token, len(slot.tokens), slot.seq_id, False))
                slot.tokens.append(token)
            if not request.pending:
                items[-1] = (*items[-1][:3], True)
                owners.append((request, len(items) - 1))
        if not items:
            return
        self._fill(items)
        self.evaluated += len(items)
        started = time.monotonic()
        try:
            self._decode()
        except EngineError as exc:
            self._fail_active(exc)
            return
        metrics.ENGINE_BUSY_SECONDS.labels("llm").observe(time.monotonic() - started)
        self.steps += 1
        self.widest = max(self.widest, len({item[2] for item in items}))
        for request, row in owners:
            self._next_token(request, row)

    def _next_token(self, request: Request, row: int) -> None:
        if not request.max_tokens:  # a prefill: the prompt is in the cache now
            request.emit(DONE)
            self._finish(request)
            return
        token = int(llama_cpp.llama_sampler_sample(request.sampler, self._ctx, row))
        if llama_cpp.llama_vocab_is_eog(self._vocab, token):
            request.emit(DONE)
            self._finish(request)
            return
        request.generated += 1
        piece = request.text.decode(_piece(self._vocab, token))
        if piece:
            request.emit(piece)
        if request.generated >= request.max_tokens:
            request.emit(DONE)
            self._finish(request)
            return
        request.pending.append(token)

    def _fill(self, items: Sequence[tuple[int, int, int, bool]]) -> None:
        batch = self._batch
        batch.n_tokens = len(items)
        for i, (token, pos, seq, logits) in enumerate(items):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits

    def _decode(self) -> None:
        status = llama_cpp.llama_decode(self._ctx, self._batch)
        if status != 0:
            raise EngineError(f"llama.cpp: llama_decode failed ({status})")


def _sampler(vocab: Any, sampling: Sampling) -> Any:
    """A sampler chain like llama-cpp-python's chat default: grammar, top-k, top-p 0.95, min-p 0.05,
    temperature, then a seeded draw (greedy at temperature 0)."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    if sampling.grammar is not None:
        grammar = llama_cpp.llama_sampler_init_grammar(vocab, sampling.grammar.encode(), b"root")
        if not grammar:
            llama_cpp.llama_sampler_free(chain)
            raise EngineError("llama.cpp: the tool grammar did not parse")
        llama_cpp.llama_sampler_chain_add(chain, grammar)
    if sampling.temperature <= 0:
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    if sampling.top_k > 0:
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_top_k(sampling.top_k))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_top_p(0.95, 1))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_min_p(0.05, 1))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_temp(sampling.temperature))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_dist(sampling.seed))
    return chain


def _piece(vocab: Any, token: int) -> bytes:
    buffer = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, False)
    if n < 0:
        buffer = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, False)
    return buffer.raw[:n]
