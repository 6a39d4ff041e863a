"""Words that cannot end what a caller meant to say, and ends that can."""

from __future__ import annotations

import pytest

from voiceagent.stages.unfinished import sounds_unfinished


@pytest.mark.parametrize("text", [
    "Can I bring my car in on?",  # the recogniser puts a question mark on a fragment too
    "Can I pop in on Monday for a",
    "I'd like to book the",
    "It's about my...",
    "Could I book a manicure while, my-",
    "My car broke down on the highway,",
    "Yes, my name is",
    "The number's",
    "I need a plumber and",
    "I was wondering, um",
    "Could someone come out to",
])
def test_words_that_need_more_sound_unfinished(text: str) -> None:
    assert sounds_unfinished(text)


@pytest.mark.parametrize("text", [
    "Can I bring my car in on Sunday?",
    "What is it for?",  # a question strands its preposition
    "Which day are you open on?",
    "Do you have a courtesy car I can use while mine is in?",  # "in" ends a sentence as often as not
    "Lovely, that's all I needed. Cheers by.",  # "bye", misheard
    "Open on Saturday 8 am to 5.",
    "Yes, it is.",
    "My name is Peter Brown.",
    "5, 5, 5.",
    "",
    "...",
])
def test_complete_sentences_do_not(text: str) -> None:
    assert not sounds_unfinished(text)
