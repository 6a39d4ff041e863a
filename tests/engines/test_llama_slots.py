"""Which KV sequence a request of the batched engine runs in, and what of it is kept (no model)."""

from __future__ import annotations

from voiceagent.engines.llama_slots import Slot, common_prefix, plan


def test_common_prefix_counts_the_shared_leading_tokens() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0


def test_a_conversation_goes_back_to_the_slot_that_holds_its_last_turn() -> None:
    mine, other, empty = Slot(0, [1, 2, 3, 4, 5]), Slot(1, [1, 2, 9]), Slot(2)
    where = plan([1, 2, 3, 4, 5, 6, 7], [other, mine, empty], [])
    assert where is not None and where.slot is mine and where.copy_from is None and where.keep == 5


def test_a_busy_slot_is_not_taken_and_none_is_given_when_all_are_busy() -> None:
    mine, other = Slot(0, [1, 2, 3], busy=True), Slot(1, [1, 7])
    where = plan([1, 2, 3, 4], [mine, other], [])
    assert where is not None and where.slot is other and where.keep == 1
    other.busy = True
    assert plan([1, 2, 3, 4], [mine, other], []) is None


def test_a_persona_prompt_that_shares_more_is_copied_into_the_least_recently_used_slot() -> None:
    recent, old = Slot(0, [5, 6], last_used=2.0), Slot(1, [7, 8], last_used=1.0)
    persona = Slot(9, [1, 2, 3, 4])
    where = plan([1, 2, 3, 4, 10, 11], [recent, old], [persona])
    assert where is not None and where.slot is old and where.copy_from is persona and where.keep == 4


def test_the_last_prompt_token_is_always_evaluated_again_for_its_logits() -> None:
    done = Slot(0, [1, 2, 3])
    where = plan([1, 2, 3], [done], [Slot(5, [1, 2, 3])])
    assert where is not None and where.keep == 2 and where.copy_from is None


def test_a_new_call_of_a_persona_starts_from_its_prompt_in_a_free_slot_not_over_another_call() -> None:
    persona = Slot(9, [1, 2, 3])
    other_call, empty = Slot(0, [1, 2, 3, 40, 41], last_used=5.0), Slot(1)
    where = plan([1, 2, 3, 50, 51], [other_call, empty], [persona])
    assert where is not None and where.slot is empty and where.copy_from is persona and where.keep == 3
