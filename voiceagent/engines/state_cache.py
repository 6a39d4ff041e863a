"""The model's saved prompt states in RAM: each persona's warmed prompt, pinned, beside the latest
requests' states, least recently used out first.

llama-cpp-python's ``LlamaRAMCache`` keeps every state in one least-recently-used list. Each request
saves a state (about 10 MB for a call's prompt with the bundled 0.5B model), so after a handful of turns
of other calls the states of the personas' system prompts are pushed out, and the next call of another
persona evaluates its whole prompt again: 3.5 s to its first token on a 2-core machine for a 686-token
prompt, instead of about 0.1 s. Pinned states stay outside the capacity and are found like any other.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from llama_cpp import Llama
from llama_cpp.llama import LlamaState
from llama_cpp.llama_cache import LlamaRAMCache


class PromptStateCache(LlamaRAMCache):
    """``LlamaRAMCache`` (``capacity_bytes`` of request states) plus pinned states that never leave."""

    def __init__(self, capacity_bytes: int) -> None:
        super().__init__(capacity_bytes)
        self._pinned: dict[tuple[int, ...], LlamaState] = {}

    def pin(self, state: LlamaState) -> None:
        """Keep ``state`` (a persona's warmed prompt) for the life of the model."""
        self._pinned[tuple(state.input_ids[: state.n_tokens].tolist())] = state

    @property
    def pinned_bytes(self) -> int:
        """The llama.cpp state held by pinned entries (not counted against the capacity)."""
        return sum(state.llama_state_size for state in self._pinned.values())

    def _find_longest_prefix_key(self, key: tuple[int, ...]) -> tuple[int, ...] | None:
        best: tuple[int, ...] | None = None
        best_len = 0
        for candidate in itertools.chain(self.cache_state, self._pinned):
            length = Llama.longest_token_prefix(candidate, key)
            if length > best_len:
                best, best_len = candidate, length
        return best

    def __getitem__(self, key: Sequence[int]) -> LlamaState:
        found = self._find_longest_prefix_key(tuple(key))
        if found is None:
            raise KeyError("no saved state shares a prefix with this prompt")
        if found in self.cache_state:
            self.cache_state.move_to_end(found)
            return self.cache_state[found]
        return self._pinned[found]
