"""What a turn asks of the desk, read on its own (the desk's interface to it is tested in test_action_desk)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from voiceagent.personas import load_persona
from voiceagent.pipeline.desk_requests import Requests

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
TODAY = datetime.date(2026, 11, 25)  # a Wednesday


@pytest.fixture()
def requests() -> Requests:
    return Requests(load_persona(GARAGE))


@pytest.mark.parametrize(("turn", "never_open"), [
    ("It's 11 at night, can I bring my car in now?", True),
    ("Can I come at 5 in the morning?", True),
    ("Can I come at 10 on Friday?", False),  # open then on some day
    ("Can I bring my car in?", False),  # no time at all
])
def test_an_hour_no_day_is_open(requests: Requests, turn: str, never_open: bool) -> None:
    assert requests.never_open_then(turn) is never_open


def test_a_booking_on_a_day_never_open_and_on_no_other(requests: Requests) -> None:
    assert requests.books_a_closed_day("Can I bring my car in on Sunday?", TODAY)
    assert not requests.books_a_closed_day("Can I bring my car in on Sunday or Monday?", TODAY)
    assert not requests.books_a_closed_day("Are you open on Sunday?", TODAY)  # no booking's words


@pytest.mark.parametrize(("turn", "asked"), [
    ("Can I reserve a time for Friday?", "book_appointment"),
    ("I'd like to make a reservation, please.", "book_appointment"),
    ("I'd like an oil change on Friday at ten.", "book_appointment"),  # a service wanted, with a day
    ("Could we get a tyre fitting tomorrow?", "book_appointment"),
    ("Hiya, have you got a tyre fitting free on Friday?", "book_appointment"),
    ("I need an oil change, how much is it?", ""),  # no day or time: the price is asked
    ("I need the oil change on Friday moved.", ""),  # a change, not a new booking
])
def test_a_booking_asked_for_outright(requests: Requests, turn: str, asked: str) -> None:
    assert requests.requested(turn) == asked


def test_a_service_a_business_calls_by_a_word_of_booking_still_books() -> None:
    persona = load_persona(GARAGE)
    business = persona.business
    assert business is not None
    table = dataclasses.replace(business.services[0], name="table reservation", aliases=("reservation", "table"))
    restaurant = dataclasses.replace(persona, business=dataclasses.replace(business, services=(table,)))
    assert Requests(restaurant).requested("I'd like to make a reservation for Friday.") == "book_appointment"
    assert Requests(restaurant).may_act("Is there a reservation free on Friday?")
    # a table wanted for a number of people, the verb misheard ("book a" as "work at")
    assert Requests(restaurant).requested("Hi, I'd like to work at table for 4. Please.") == "book_appointment"
    assert Requests(restaurant).requested("Hi, I'd like to know about a table.") == ""
