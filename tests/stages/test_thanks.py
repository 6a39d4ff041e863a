"""A caller who only thanks, or thanks and says goodbye, told from one who says or asks anything more."""

from __future__ import annotations

import pytest

from voiceagent.personas.model import Business
from voiceagent.stages.thanks import CLOSING, THANKS, thanks_only


@pytest.mark.parametrize(("said", "kind"), [
    ("Great, thanks for your help.", THANKS),
    ("Great, thank you so much.", THANKS),
    ("Okay, cheers, that was really helpful.", THANKS),
    ("Brait and for your help.", THANKS),  # a phone line's "Great, thanks": one garbled word is let by
    ("That's all, thank you very much.", CLOSING),
    ("Lovely, that's all I needed. Cheers, bye!", CLOSING),
    ("Thank you, have a good day.", CLOSING),
    ("Cheers by!", CLOSING),  # the line's "bye"
    ("Lovely, that's all I needed.", CLOSING),  # the line lost "Cheers, bye!"
    ("Okay, goodbye.", CLOSING),
])
def test_thanks_and_goodbyes(said: str, kind: str) -> None:
    assert thanks_only(said) == kind


@pytest.mark.parametrize("said", [
    "Thanks, and how much is a trim?",  # a question
    "Thank you, Tuesday at 3 pm.",  # an answer to the desk
    "Thanks for that, my car is making a noise.",  # more to say
    "Thanks, my name is Tom Baker.",
    "I'll come in by",  # no thanks: "by" is no goodbye
    "Bye.",  # nor a lone "bye": a phone line hears "five" so
    "That's all I needed to know, what time do you close?",
    "I thought I needed 10 pm.",
])
def test_more_than_thanks(said: str) -> None:
    assert thanks_only(said) == ""


def test_a_word_of_the_facts_is_no_garbled_word(garage: Business) -> None:
    assert thanks_only("Thanks, and the brakes.", garage) == ""
    assert thanks_only("Thanks, and the brakes.") == THANKS  # (without the facts, one other word is let by)
    assert thanks_only("Lovely, that's all I needed. Cheers, bye!", garage) == CLOSING  # "needed" is in a policy
