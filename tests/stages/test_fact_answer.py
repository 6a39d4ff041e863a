"""Questions the persona's facts answer whole are answered from them; everything else is left to the model."""

from __future__ import annotations

import dataclasses

import pytest

from tests.stages.conftest import PROMPTS
from voiceagent.personas import load_persona, relevant_facts
from voiceagent.personas.model import Business
from voiceagent.stages.fact_answer import fact_answer


def _answer(business: Business, said: str) -> str | None:
    return fact_answer(business, said, relevant_facts(business, said))


@pytest.mark.parametrize(("said", "answer"), [
    ("Are you open on Sunday?",
     "Sorry, we're closed on Sunday. We're open Monday to Friday 7:30 am to 5:30 pm, Saturday 8 am to 12 noon."),
    ("What time do you close on Saturday", "On Saturday we're open 8 am to 12 noon."),  # no question mark heard
    ("Are you open on Saturday afternoon?", "On Saturday we're open 8 am to 12 noon."),  # no "yes" to get wrong
    ("How much is an oil change?", "An oil change is 45 dollars and takes about 30 minutes."),
    ("Where are you?", "We're at 48 Oak Street."),
    ("What are your opening hours?",
     "We're open Monday to Friday 7:30 am to 5:30 pm, Saturday 8 am to 12 noon; closed on Sunday."),
    ("Can you tow my car?", ("Sorry, we don't do towing. We offer oil change, brake pad replacement, tyre fitting, "
                            "engine diagnostic check, annual safety inspection.")),
    ("Do you take cash?", "Payment is by card or cash."),
    ("Hello, is this Oak Street Garage?", "This is Oak Street Garage, a car repair garage."),  # named: who answers
    ("Hi, is that Oak Street?", "This is Oak Street Garage, a car repair garage."),  # the name's own part: no address
    ("If I come by on Saturday, what time do you close", "On Saturday we're open 8 am to 12 noon."),  # a later clause asks
    ("Do you do Saturdays at all?", "On Saturday we're open 8 am to 12 noon."),  # asked of the business, a day named
    ("Are you guys around on Sundays?",
     "Sorry, we're closed on Sunday. We're open Monday to Friday 7:30 am to 5:30 pm, Saturday 8 am to 12 noon."),
])
def test_a_question_the_facts_answer_is_answered_from_them(garage: Business, said: str, answer: str) -> None:
    assert _answer(garage, said) == answer


@pytest.mark.parametrize("said", [
    "Thanks, that's great.",  # not a question
    "I'm open on Saturday.",  # nor this
    "Thanks, have a good Saturday.",  # a later clause that asks nothing
    "Who won the football game last night?",  # no fact answers it
    "Am I talking to a real person?",  # who answers, the business not named: the model says
    "How much do you charge?",  # every price matches as context only: which one is meant?
    "Are you open on Saturday, how much is an oil change, and where are you?",  # three things at once
    "Is it going to snow this weekend, do you know?",  # days named, but no question about the hours
    "Is Megan working this Saturday?",  # asked of someone, not of the business's hours
])
def test_anything_else_is_left_to_the_model(garage: Business, said: str) -> None:
    assert _answer(garage, said) is None


@pytest.mark.parametrize(("persona", "said", "refused"), [
    ("garage", "How much to fit tyres on my motorcycle?", "Sorry, we don't do motorcycles."),
    ("salon", "Could I get a manicure while my colour is processing?", "Sorry, we don't do nails or manicures."),
])
def test_something_not_done_named_beside_a_service_is_refused_with_what_is_done(
        persona: str, said: str, refused: str) -> None:
    business = load_persona(PROMPTS / f"{persona}.toml").business
    assert business is not None
    answer = _answer(business, said) or ""
    assert answer.startswith(refused + " We offer ") and "dollars" not in answer


def test_a_price_several_services_share_is_said_for_each() -> None:
    business = load_persona(PROMPTS / "salon.toml").business
    assert business is not None
    assert _answer(business, "How much is a cut?") == (
        "A women's haircut is 55 dollars and takes about 1 hour. A men's haircut is 30 dollars and takes about 30 minutes.")


def test_a_service_named_in_the_plural_is_said_in_the_plural() -> None:
    business = load_persona(PROMPTS / "salon.toml").business
    assert business is not None
    answer = _answer(business, "How much are highlights?") or ""
    assert answer.startswith("Highlights are 120 dollars and take about 2 hours 30 minutes.")


def test_without_a_business_nothing_is_composed() -> None:
    assert fact_answer(None, "Are you open on Sunday?", ()) is None


def test_words_that_read_as_no_question_are_answered_only_when_asked_for(garage: Business) -> None:
    """"I'll open on Saturday." (a misheard "Are you open on Saturday?") is left to the model; once the model
    has taken it for an action nobody asked for, the facts answer it (``questions_only=False``)."""
    said = "I'll open on Saturday."
    assert _answer(garage, said) is None
    assert fact_answer(garage, said, relevant_facts(garage, said), questions_only=False) == (
        "On Saturday we're open 8 am to 12 noon.")


def test_a_price_the_business_gives_none_for_is_not_made_up(garage: Business) -> None:
    unpriced = dataclasses.replace(garage, services=tuple(
        dataclasses.replace(s, price=None) if s.name == "oil change" else s for s in garage.services))
    said = "How much is an oil change?"
    answer = fact_answer(unpriced, said, relevant_facts(unpriced, said))
    assert answer is not None and answer.startswith("We do oil change, but I don't have a price for it.")
    assert "message" in answer
