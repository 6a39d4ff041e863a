"""Saved prompt states without the logits: what llama-cpp-python's state cache should have kept.

llama-cpp-python's ``Llama.save_state`` copies the model's whole logits buffer (``n_batch`` rows of
``n_vocab`` floats: 311 MB for Qwen2.5's 151,936-token vocabulary) into every state it saves, and its
RAM cache counts only the llama.cpp state (11 MB for a 900-token prompt) against its capacity. With a
state cache, every request copied 311 MB and each cached state held it: a 64 MB cache held about 1.6 GB.
The copy is never needed: after ``load_state`` llama-cpp-python evaluates at least the prompt's last
token again, which writes the logits it samples from. Here a state keeps one zero row instead
(``load_state`` broadcasts it over the rows it resets).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp.llama import LlamaState


class LeanStateLlama(Llama):
    """:class:`llama_cpp.Llama` whose saved states leave out the logits buffer, and which counts the
    tokens it evaluates (``evaluated``: what a request's prompt really cost, after any cached prefix)."""

    evaluated = 0

    def eval(self, tokens: Sequence[int]) -> None:
        """Evaluate ``tokens`` (counted in :attr:`evaluated`)."""
        self.evaluated += len(tokens)
        super().eval(tokens)

    def save_state(self) -> LlamaState:
        """The llama.cpp state (KV cache and tokens) and the input ids; logits as one zero row."""
        size = llama_cpp.llama_state_get_size(self._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(self._ctx.ctx, buffer, size))
        if written > int(size):
            raise RuntimeError("llama.cpp wrote more state than it said it would")
        return LlamaState(
            input_ids=self.input_ids.copy(),
            scores=np.zeros((1, self.n_vocab()), dtype=np.single),
            n_tokens=self.n_tokens,
            llama_state=ctypes.string_at(buffer, written),
            llama_state_size=written,
            seed=self._seed,
        )
