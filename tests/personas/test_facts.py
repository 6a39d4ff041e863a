"""Matching a caller's words to the persona's facts, on a made-up business and on the bundled garage."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.personas.conftest import BAKERY
from voiceagent.config import DEFAULT_PROMPTS_DIR
from voiceagent.personas import Business, days_named, load_persona, relevant_facts
from voiceagent.personas.facts import alternatives

Write = Callable[..., Path]


@pytest.fixture
def bakery(write_persona: Write) -> Business:
    business = load_persona(write_persona(BAKERY)).business
    assert business is not None
    return business


def _kinds(business: Business, said: str) -> list[str]:
    return [fact.kind for fact in relevant_facts(business, said)]


def test_a_named_weekday_gives_that_days_hours(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "Are you open on Saturdays?")
    assert (fact.kind, fact.day, fact.text) == ("hours", "saturday", "Saturday: open 10 am to 2 pm.")


def test_a_closed_day_comes_with_the_open_days(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "can I come sunday")
    assert fact.day == "sunday" and fact.text.startswith("Sunday: closed. Open Monday")
    assert "Saturday 10 am to 2 pm" in fact.text and "closed on" not in fact.text


def test_hours_without_a_day_give_the_week(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "What time do you close?")
    assert fact.kind == "week" and fact.text.endswith("; closed on Sunday.")


@pytest.mark.parametrize(("said", "asked"), [
    ("What are your opening hours?", True), ("When do you close?", True), ("When can I come in?", False),
    ("What are your prices?", True), ("What are your fees?", True), ("Thanks very much", False),
    ("How much does a new battery cost?", False),  # one thing, maybe one not sold: not the whole list
    ("What services do you have?", True), ("Do you offer anything else?", False),
])
def test_a_list_counts_as_asked_for_only_when_named(bakery: Business, said: str, asked: bool) -> None:
    """A list (the week, every price, every service) is the answer when the caller names it; "when" or
    "how much" alone bring it in as context only."""
    [fact] = relevant_facts(bakery, said)
    assert fact.kind in ("week", "prices", "services") and fact.asked is asked


def test_relative_days_need_today() -> None:
    assert days_named("are you open today or tomorrow") == ()
    assert days_named("are you open today or tomorrow", today="sunday") == ("sunday", "monday")
    assert days_named("this weekend, or Monday's fine") == ("saturday", "sunday", "monday")


def test_a_service_by_name_or_alias_gives_its_price(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "How much is a sourdough?")
    assert fact.kind == "service" and fact.service is not None and fact.service.price == 6.5
    assert "6.50 dollars" in fact.text
    [fact] = relevant_facts(bakery, "could you decorate a birthday cake")  # two of three words, stemmed
    assert fact.service is not None and fact.service.name == "birthday cake decoration"


def test_a_price_question_without_a_service_gives_every_price(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "how much do you charge")
    assert fact.kind == "prices" and "Sourdough loaf: 6.50" in fact.text and "Birthday cake" in fact.text


@pytest.mark.parametrize(("said", "services"), [
    ("How much is a cut?", ["women's haircut", "men's haircut"]),  # the word both cuts share
    ("How much do you charge the relating cut?", ["women's haircut", "men's haircut"]),  # "ladies'" misheard
    ("How much for a beard trim?", ["beard trim"]),  # a service named whole is that one alone
])
def test_a_price_asked_of_a_word_several_services_share_gives_those_services(said: str, services: list[str]) -> None:
    salon = load_persona(DEFAULT_PROMPTS_DIR / "salon.toml").business
    assert salon is not None
    assert [f.service.name for f in relevant_facts(salon, said) if f.service is not None] == services


@pytest.mark.parametrize("said", [
    "How much do you charge to fit a new radiator?",  # "fit", "new": words of other services, not the thing priced
    "How much is a repair?",  # one service holds the word: part of its name is not that service
])
def test_a_priced_word_that_one_service_or_none_holds_gives_every_price(said: str) -> None:
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    assert _kinds(plumber, said)[:1] == ["prices"]


def test_where_gives_the_address_and_phone_the_number(bakery: Business) -> None:
    assert [(f.kind, f.text) for f in relevant_facts(bakery, "Where are you?")] == [("address", "Address: 3 Mill Lane.")]
    assert _kinds(bakery, "what's your phone number") == ["phone"]


def test_something_not_done_is_matched_with_what_is_done(bakery: Business) -> None:
    [fact] = relevant_facts(bakery, "Do you make wedding cakes?")
    assert fact.kind == "not_offered" and "We do not do wedding cakes." in fact.text
    assert "sourdough loaf, birthday cake decoration" in fact.text


def test_policies_and_what_the_agent_can_do_match_their_words(bakery: Business) -> None:
    assert _kinds(bakery, "Can I pay by card?") == ["policy"]
    assert _kinds(bakery, "I want to order 30 loaves") == ["policy", "agent_can"]
    assert _kinds(bakery, "can I leave a message") == ["agent_can"]


def test_words_of_the_business_name_alone_pick_nothing(bakery: Business) -> None:
    assert relevant_facts(bakery, "Hello, is this the bakery?") == ()
    assert relevant_facts(bakery, "thanks, that's all, goodbye") == ()


def test_the_garage_matches_the_way_callers_ask() -> None:
    garage = load_persona(DEFAULT_PROMPTS_DIR / "garage.toml").business
    assert garage is not None
    [brakes] = relevant_facts(garage, "how much are new brake pads")
    assert brakes.service is not None and brakes.service.price == 180
    [tyres] = relevant_facts(garage, "what do you charge to fit tires")
    assert tyres.service is not None and tyres.service.name == "tyre fitting"
    [towing] = relevant_facts(garage, "can you tow my car")
    assert towing.kind == "not_offered"
    facts = relevant_facts(garage, "I'd like to book an oil change for Saturday morning")
    assert [f.kind for f in facts] == ["hours", "service", "agent_can"]


def test_naming_the_business_or_asking_who_answers_gives_who_we_are(bakery: Business) -> None:
    for said in ("Hello, is this Crumb and Crust?", "Who am I speaking to?", "Who is this?", "Sorry, who are you?"):
        assert [f.text for f in relevant_facts(bakery, said)][:1] == ["This is Crumb and Crust, a bakery."]
    for said in ("How much is a sourdough loaf?", "Who won the football game last night?", "Who is the baker?"):
        assert "identity" not in _kinds(bakery, said)


@pytest.mark.parametrize(("persona", "said"), [
    ("garage", "Hi, is this Oak Street?"),  # "street" is part of the name here, no question of where
    ("plumber", "Hello, is that Riverside plumbers?"),  # one word of three: the one that is its own
    ("receptionist", "Is this the Bright Smile dentist?"),
])
def test_the_part_of_the_name_that_is_the_business_own_names_it(persona: str, said: str) -> None:
    business = load_persona(DEFAULT_PROMPTS_DIR / f"{persona}.toml").business
    assert business is not None
    kinds = _kinds(business, said)
    assert kinds[:1] == ["identity"] and "address" not in kinds
    assert "identity" not in _kinds(business, "Is it bright outside?")  # one word of "Bright Smile" is no name


def test_where_the_business_is_asked_in_other_words_gives_the_address(bakery: Business) -> None:
    for said in ("Whereabouts are you?", "Where are you based?", "Whereabouts are you based?"):
        assert "address" in _kinds(bakery, said), said


def test_a_service_heard_one_letter_off_is_still_named() -> None:
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    facts = relevant_facts(plumber, "What's the price of an oiler service?")
    assert [f.service.name for f in facts if f.service is not None] == ["boiler service"]
    assert [f.kind for f in relevant_facts(plumber, "Do you fix air conditioners?")] == ["not_offered"]


def test_a_shared_last_word_is_part_of_each_thing_not_done() -> None:
    assert alternatives("kitchen or bathroom remodeling") == ["kitchen remodeling", "bathroom remodeling"]
    assert alternatives("bodywork or paint") == ["bodywork", "paint"]
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    assert "not_offered" not in _kinds(plumber, "Could someone fix a leaking kitchen tap?")
    assert "not_offered" in _kinds(plumber, "I want my bathroom remodeled.")


def test_a_word_of_cost_alone_names_no_policy() -> None:
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    assert "policy" not in _kinds(plumber, "How much do you charge for the price of a new tap?")
    assert "policy" in _kinds(plumber, "How much do you charge for a call-out?")


@pytest.mark.parametrize("said", ["Do you charge anything just to come out to the house?",
                                  "Is there a charge for a house call?"])
def test_plain_words_for_a_policys_words_name_it(said: str) -> None:
    """The plumber's policy says "call-out fee" and "home visit"; callers say "come out" and "house"."""
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    assert any(f.kind == "policy" and "call-out fee" in f.text for f in relevant_facts(plumber, said))


def test_a_word_of_when_alone_names_no_policy() -> None:
    """"pm", "night" and "day" say when, not what: "Can I book for 7 pm?" is no question about "no food
    after 10 pm the night before", nor "Have a good day" about a policy "open 24 hours a day"."""
    vet = load_persona(DEFAULT_PROMPTS_DIR / "vet.toml").business
    assert vet is not None
    for said in ("Can I book for 7 pm?", "It's 11 at night, my dog is ill.", "Okay, thank you. Have a good day.",
                 "What time do you open on Monday?"):  # not the hospital "open 24 hours a day"
        assert "policy" not in _kinds(vet, said), said
    assert "policy" in _kinds(vet, "Can he eat before his dental cleaning?")  # words of what still name it


def test_a_time_no_day_is_open_at_gives_the_policies_for_when_the_business_is_closed() -> None:
    vet = load_persona(DEFAULT_PROMPTS_DIR / "vet.toml").business
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert vet is not None and plumber is not None
    said = "It's 11 at night and my dog's eaten chocolate, can I bring him in?"
    [policy] = [f.text for f in relevant_facts(vet, said, at=datetime.time(23)) if f.kind == "policy"]
    assert "when we are closed" in policy and "Northgate" in policy
    [policy] = [f.text for f in relevant_facts(plumber, said, at=datetime.time(23)) if f.kind == "policy"]
    assert "out-of-hours" in policy
    # a time some day's hours hold, or no time at all, brings in no such policy
    for at in (datetime.time(10), datetime.time(18, 30), None):
        assert not any("closed" in f.text for f in relevant_facts(vet, said, at=at)), at


def test_one_shared_word_names_no_policy_when_the_caller_asks_about_something_else() -> None:
    """"Do you sell prescription dog food?" shares "food" with "no food after 10 pm before a dental
    cleaning", but two of its words are nothing the vet knows: it asks about something else. A number
    names no policy ("5 miles"); "what if" asks a policy's own question, and one word is enough."""
    vet = load_persona(DEFAULT_PROMPTS_DIR / "vet.toml").business
    salon = load_persona(DEFAULT_PROMPTS_DIR / "salon.toml").business
    garage = load_persona(DEFAULT_PROMPTS_DIR / "garage.toml").business
    assert vet is not None and salon is not None and garage is not None
    assert "policy" not in _kinds(vet, "Do you sell prescription dog food at the clinic?")
    assert "policy" not in _kinds(garage, "5, 5, 5, 0, 1, 9, 9.")
    assert "policy" in _kinds(vet, "Can my dog eat before his dental cleaning?")
    assert "policy" in _kinds(garage, "Do you take cards?")
    # a number in words is no unknown thing: "a group of ten" asks about the deposit for groups
    groups = dataclasses.replace(garage, policies=("Parties of 8 or more pay a 10-dollar deposit per person.",))
    assert "policy" in _kinds(groups, "We're a group of ten, do you need a deposit?")
    assert any("late" in f.text for f in relevant_facts(salon, "What if I'm running a bit late?") if f.kind == "policy")


def test_a_question_of_what_happens_when_the_business_is_closed_gives_those_policies() -> None:
    plumber = load_persona(DEFAULT_PROMPTS_DIR / "plumber.toml").business
    assert plumber is not None
    for said in ("What if I need a plumber at the weekend when you're closed?", "Do you do after-hours call-outs?"):
        policies = [f.text for f in relevant_facts(plumber, said) if f.kind == "policy"]
        assert any("out-of-hours" in p for p in policies), said
    assert not any("out-of-hours" in f.text for f in relevant_facts(plumber, "Are you closed on Sunday?"))
