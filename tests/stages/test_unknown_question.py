"""A question about a thing none of the persona's facts mention, told from questions the facts, the
call's own talk or the model answer."""

from __future__ import annotations

import pytest

from voiceagent.personas import relevant_facts
from voiceagent.personas.model import Business
from voiceagent.stages.unknown_question import unknown_thing


@pytest.mark.parametrize(("said", "thing"), [
    ("Is there a waiting room with Wi-Fi?", "room"),
    ("Do you sell tickets for the football?", "sell"),
    ("How much does a new battery cost?", "new"),  # every price comes in as context: it answers nothing
    ("Can I order a pizza", "order"),  # a question by its first word, without the mark
    ("How much do you charge to fit a new sunroof?", "sunroof"),  # "fit" and "new" are words of the garage's facts
    ("What would a new sunroof cost to fit?", "sunroof"),  # a verb after "to" names nothing
])
def test_a_question_about_something_no_fact_mentions(garage: Business, said: str, thing: str) -> None:
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == thing


@pytest.mark.parametrize("said", [
    "How much is an oil change?",  # a fact answers it
    "Can you service my motorcycle?",  # not done: that fact answers it
    "Do you have a courtesy car?",  # a word of a fact: the model answers with the facts beside it
    "My car broke down on the highway, can you tow it?",
    "What time do you start on a weekday morning?",  # the words ask the hours, though no day is named
    "Do you offer a discount for seniors?",  # "offer" asks what the business does: the list is beside it
    "How long will it take?",  # nothing named: it points back at what was said
    "Is that for both?",
    "Can you hear me?",  # about the call itself
    "Could you repeat that?",
    "Are you a robot?",
    "How are you?",
    "I want a pizza.",  # no question
    "How much would it cost to sort out my brakes?",  # the thing priced is known
    "My car is making a squeaky noise, how much to look at it?",  # the clause that asks the price names nothing
    "I've had a quote for new brakes, what would it cost to swap?",
    "What's the earliest you could take me?",  # "earliest" asks when
])
def test_questions_the_facts_the_call_or_the_model_answer(garage: Business, said: str) -> None:
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == ""


def test_no_business_no_unknown_thing() -> None:
    assert unknown_thing(None, "Who won the football game?", ()) == ""


@pytest.mark.parametrize(("said", "who"), [
    ("Is Megan working this Saturday?", "Megan"),  # a day's hours match, but the question is about her
    ("Will Dave be in on Monday morning?", "Dave"),
    ("Hi, does Dr. Patel work on Fridays?", "Patel"),
])
def test_a_question_about_someone_is_one_no_fact_answers(garage: Business, said: str, who: str) -> None:
    assert relevant_facts(garage, said)
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == who


@pytest.mark.parametrize("said", [
    "Is Saturday any good for an oil change?",  # a day, not a person
    "Is Oak Street Garage open on Sunday?",  # the business's own name
    "Can I bring it in on Monday?",
    "Is it going to take long?",
])
def test_a_capitalised_day_or_the_business_is_nobody(garage: Business, said: str) -> None:
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == ""


@pytest.mark.parametrize(("said", "thing"), [
    # The clause that asks names a thing no fact mentions; a fact matches only the detail after it.
    ("Do you do jet skis, my outboard needs an oil change?", "jet"),
    ("Do you do jet skis? My outboard needs an oil change.", "jet"),  # a question, then a statement
    ("Hi, do you sell bicycle helmets? My son needs new brakes.", "sell"),
])
def test_the_clause_that_asks_decides_beside_a_fact_matched_elsewhere(garage: Business, said: str, thing: str) -> None:
    assert relevant_facts(garage, said)  # a fact answers the words: the whole sentence would not count
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == thing


@pytest.mark.parametrize("said", [
    "Do you do brakes, my car squeals when I stop?",  # the clause names a service
    "Could you tell me, how much is an oil change?",  # two clauses ask: the sentence is not about one
    "Do you have parking, I'm coming for an oil change?",  # one word named: too little to go on
    "Do you do jet skis and oil changes?",  # one clause: a fact answers it
    "Could I bring Max round, and on Sunday morning?",  # a comma at a pause: the day goes on with the question
])
def test_a_clause_that_asks_about_a_known_thing_or_too_little(garage: Business, said: str) -> None:
    assert unknown_thing(garage, said, relevant_facts(garage, said)) == ""
