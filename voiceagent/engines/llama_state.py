"""Saved prompt states without the logits, each in a memory mapping of its own: what llama-cpp-python's
state cache should have kept.

llama-cpp-python's ``Llama.save_state`` copies the model's whole logits buffer (``n_batch`` rows of
``n_vocab`` floats: 311 MB for Qwen2.5's 151,936-token vocabulary) into every state it saves, and its
RAM cache counts only the llama.cpp state (11 MB for a 900-token prompt) against its capacity. With a
state cache, every request copied 311 MB and each cached state held it: a 64 MB cache held about 1.6 GB.
The copy is never needed: after ``load_state`` llama-cpp-python evaluates at least the prompt's last
token again, which writes the logits it samples from. Here a state keeps one zero row instead
(``load_state`` broadcasts it over the rows it resets).

The llama.cpp state itself (several MB: the prompt's KV cache) is written straight into an anonymous
memory mapping and read back from it without a copy. llama-cpp-python allocates it, copies it and frees
it with malloc on every save and load; blocks of that size freed among longer-lived ones are what made
glibc hold hundreds of MB an hour that it could not give back (see README, "Memory per engine"). A
mapping is returned to the system as soon as its state is dropped.
"""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Sequence
from typing import cast

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp.llama import LlamaState


def mapped_copy(data: bytes | bytearray | memoryview | mmap.mmap, size: int) -> mmap.mmap:
    """The first ``size`` bytes of ``data`` in a mapping of their own."""
    block = mmap.mmap(-1, max(size, 1))
    block[:size] = memoryview(data)[:size]
    return block


class LeanStateLlama(Llama):
    """:class:`llama_cpp.Llama` whose saved states leave out the logits buffer and live in mappings of
    their own, and which counts the tokens it evaluates (``evaluated``: what a request's prompt really
    cost, after any cached prefix)."""

    evaluated = 0

    def eval(self, tokens: Sequence[int]) -> None:
        """Evaluate ``tokens`` (counted in :attr:`evaluated`)."""
        self.evaluated += len(tokens)
        super().eval(tokens)

    def save_state(self) -> LlamaState:
        """The llama.cpp state (KV cache and tokens, in a mapping) and the input ids; logits as one zero row."""
        size = int(llama_cpp.llama_state_get_size(self._ctx.ctx))
        block = mmap.mmap(-1, max(size, 1))
        view = (ctypes.c_uint8 * size).from_buffer(block)
        written = int(llama_cpp.llama_state_get_data(self._ctx.ctx, view, size))
        del view  # the mapping stays; only the export ends
        if written > size:
            raise RuntimeError("llama.cpp wrote more state than it said it would")
        if written < size:
            block = mapped_copy(block, written)
        return LlamaState(
            input_ids=self.input_ids.copy(),
            scores=np.zeros((1, self.n_vocab()), dtype=np.single),
            n_tokens=self.n_tokens,
            llama_state=cast(bytes, block),  # any buffer: llama-cpp-python and prompt_states only read it
            llama_state_size=written,
            seed=self._seed,
        )

    def load_state(self, state: LlamaState) -> None:
        """Restore ``state``; a mapped one is handed to llama.cpp in place, without a copy."""
        block = state.llama_state
        if not isinstance(block, mmap.mmap):
            super().load_state(state)
            return
        self.scores[: state.n_tokens, :] = state.scores
        rest = self.scores[state.n_tokens:, :]
        rest[rest > 0] = 0.0
        self.input_ids = state.input_ids.copy()
        self.n_tokens = state.n_tokens
        self._requires_eval = True
        self._seed = state.seed
        view = (ctypes.c_uint8 * state.llama_state_size).from_buffer(block)
        try:
            if llama_cpp.llama_state_set_data(self._ctx.ctx, view, state.llama_state_size) != state.llama_state_size:
                raise RuntimeError("llama.cpp did not take the whole saved state")
        finally:
            del view
