"""Which KV sequence a request runs in, and what of it is kept: the sans-I/O part of batched decoding.

The batched engine (:mod:`voiceagent.engines.llama_batch`) gives llama.cpp one KV sequence per request
slot, plus one pinned sequence per persona's warmed prompt. Nothing here knows about calls: a request is
put in the free slot whose tokens share the longest prefix with its prompt, which is the slot that served
the same conversation's last turn when there is one, so a call's history stays evaluated between turns
without saving or loading any state. When a pinned persona prompt shares more than any free slot, the slot
is first overwritten with a copy of it. Only the tokens after the kept prefix are evaluated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(eq=False, slots=True)
class Slot:
    """One KV sequence: ``tokens`` are what its cache holds, position by position."""

    seq_id: int
    tokens: list[int] = dataclasses.field(default_factory=list)
    busy: bool = False
    last_used: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """Run in ``slot``; first copy pinned sequence ``copy_from`` into it (None: keep the slot's own
    cache); keep the first ``keep`` tokens and evaluate ``prompt[keep:]`` (never empty: the last prompt
    token is always evaluated again, for the logits the first reply token is sampled from)."""

    slot: Slot
    copy_from: Slot | None
    keep: int


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def plan(prompt: Sequence[int], slots: Sequence[Slot], pinned: Sequence[Slot]) -> Plan | None:
    """Where ``prompt`` runs, or None when every slot is busy.

    A free slot whose own tokens share more with the prompt than any pinned persona prompt does holds
    this conversation's earlier turns: the one that shares most wins. Otherwise the least recently used
    free slot is taken (so another call's history is the last thing overwritten), starting from a copy
    of the pinned prompt that shares most, if any does."""
    free = [slot for slot in slots if not slot.busy]
    if not free:
        return None
    source = max(pinned, key=lambda p: common_prefix(p.tokens, prompt), default=None)
    from_pinned = common_prefix(source.tokens, prompt) if source is not None else 0
    own = max(free, key=lambda s: (common_prefix(s.tokens, prompt), -s.last_used))
    kept = common_prefix(own.tokens, prompt)
    last = len(prompt) - 1  # the last prompt token is evaluated again, for its logits
    if kept > from_pinned:
        return Plan(own, None, max(0, min(kept, last)))
    oldest = min(free, key=lambda s: s.last_used)
    if from_pinned > common_prefix(oldest.tokens, prompt):
        return Plan(oldest, source, max(0, min(from_pinned, last)))
    return Plan(oldest, None, max(0, min(common_prefix(oldest.tokens, prompt), last)))
