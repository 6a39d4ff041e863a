"""Matching a caller's words to a business's terms: stems, a term heard one letter off, other endings."""

from __future__ import annotations

import pytest

from voiceagent.personas.words import Heard, content_stems


@pytest.mark.parametrize(("said", "term"), [
    ("What's the price of an oiler service?", "boiler service"),  # the phone line lost the b
    ("Do you fix air conditioners?", "air conditioning"),  # another ending than the stemmer knows
    ("a tap replacement, please", "tap replacement fitting"),  # all but one of three words
    ("Do you deliver to Hillside?", "delivery"),  # the verb of a noun the stemmer cuts otherwise
])
def test_a_term_heard_nearly_is_named(said: str, term: str) -> None:
    assert Heard(said).says_phrase(term)


@pytest.mark.parametrize(("said", "term"), [
    ("I need a new top", "tap"),  # short words are too close to others to match one letter off
    ("Is the toilet serviced?", "boiler service"),  # two letters off
    ("Can I come later?", "water heater installation"),  # one near word is not two of three
    ("Is the community hall near you?", "communication"),  # a shared start that is not one stem
    ("Is my car ready?", "carpets"),  # a short stem that begins another word is not that word
    ("Can you order me a cab to the train station?", "drain"),  # a near word alone names nothing
    ("Is the oiler fixed?", "boiler"),
    ("How do I get there?", "gutters"),
    ("Is the deli open?", "delivery"),  # too short a start to be the same word
])
def test_other_words_name_nothing(said: str, term: str) -> None:
    assert not Heard(said).says_phrase(term)


def test_contractions_carry_no_meaning() -> None:
    """"I've", "don't", "can't" are written without their apostrophe ("ive", "dont"): no content word,
    so none is an unknown thing ("I've got ..." was "ive") or a word shared with a policy."""
    assert content_stems("I've you've they'll don't can't isn't won't that's there's") == []
