"""Arguments from the caller's own words: names, numbers, days, times and messages read from speech-to-text
output, and the model's values kept only when the caller said them."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from tests.actions.quick_lube import QUICK_LUBE, hours
from voiceagent.actions.slots import (
    grounded,
    message_text,
    name_in,
    names_in,
    party_in,
    phone_in,
    value_from_words,
    without_current_booking,
)
from voiceagent.personas.model import WEEKDAYS

TODAY = datetime.date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(("said", "name"), [
    ("My name is peter brown.", "Peter Brown"),
    ("It's Mary Jones, 555 0199.", "Mary Jones"),
    ("John Smith, Tuesday at 10 am.", "John Smith"),
    ("Hi, this is Anna.", "Anna"),
    ("I'm calling about my car.", ""),
    ("Can I book for Tuesday?", ""),
])
def test_names_are_read_when_the_caller_gives_one(said: str, name: str) -> None:
    assert name_in(said) == name


def test_numbers_are_read_in_figures_and_in_words() -> None:
    assert phone_in("It's 555 0199.") == "5550199"
    assert phone_in("five five five, oh one nine nine") == "5550199"
    assert phone_in("Tuesday at 10") == ""


@pytest.mark.parametrize(("said", "party"), [
    ("a table for four at seven", "4"), ("six people on Friday", "6"), ("there'll be 5 of us", "5"),
    ("a party of 8, please", "8"), ("book for 2 pm", ""), ("a table for 2 pm", ""),
    ("a check-up for my two dogs", ""), ("Friday for four", ""),
])
def test_how_many_people_a_booking_is_for(said: str, party: str) -> None:
    assert party_in(said) == party


def test_the_message_is_what_is_left_after_the_name_and_number() -> None:
    assert message_text("It's Mary Jones, 555 0199, please call me about my brakes.") == "please call me about my brakes"
    assert message_text("It's Mary.") == ""


def test_days_and_times_become_dates_and_clock_times() -> None:
    assert value_from_words("day", None, "Tuesday at 10 am", TODAY) == "2026-12-01"
    assert value_from_words("time", None, "Tuesday at 10 am", TODAY) == "10:00"
    assert value_from_words("day", None, "as soon as you can", TODAY) == ""
    evenings = dataclasses.replace(QUICK_LUBE, hours={day: hours("5 pm - 11 pm") for day in WEEKDAYS})
    assert value_from_words("time", evenings, "Tuesday at half seven", TODAY) == "19:30"
    assert value_from_words("time", QUICK_LUBE, "Tuesday at half seven", TODAY) == "07:30"


@pytest.mark.parametrize(("arg", "value", "said", "kept"), [
    ("name", "mechanic", "Can I leave a message for the mechanic?", False),
    ("name", "Mary Jones", "It's Mary Jones.", True),
    ("day", "Friday", "I'd like to book an oil change.", False),
    ("day", "Tuesday", "Tuesday would be good.", True),
    ("time", "7:30 am", "Tuesday please.", False),
    ("phone", "555 0199", "call me on 555 0199", True),
    ("phone", "555 0100", "call me on 555 0199", False),
])
def test_the_models_values_are_kept_only_when_the_caller_said_them(arg: str, value: str, said: str, kept: bool) -> None:
    assert grounded(arg, value, said, None, TODAY) is kept


@pytest.mark.parametrize("said", ["Hello. This is the bright smile, Ben.", "Thanks, Can't.", "How much you are now?"])
def test_a_lone_capitalised_word_in_a_sentence_is_not_taken_for_a_name(said: str) -> None:
    assert name_in(said) == ""


def test_a_name_said_on_its_own_is_a_name() -> None:
    assert name_in("Anna.") == "Anna"


def test_a_number_or_filler_words_are_no_message() -> None:
    assert message_text("5, 5, 5, 0, 1, 9, 9") == ""
    assert message_text("Bye, bye, bye. five five five 0 1 9 9") == ""
    assert message_text("Yes, okay, thanks, bye.") == ""
    assert message_text("My number is 5550199, tell her I'll be late") == "tell her I'll be late"
    assert message_text("One of my fillings fell out two days ago.") == "One of my fillings fell out two days ago"


@pytest.mark.parametrize(("said", "left"), [
    ("It's Mike, I'm in on Monday for brakes. Can we make it Thursday?", "It's Mike, . Can we make it Thursday?"),
    ("I'm book for Wednesday at 10, could we do Friday", ", could we do Friday"),  # the line lost "-ed"
    ("Move my appointment on Monday to Friday at 2 pm", "Move my to Friday at 2 pm"),
    ("The name's Priya Shah, it's for Tuesday.", "The name's Priya Shah, ."),  # "it": the visit to be moved
    ("It was on Monday, can we do Friday?", ", can we do Friday?"),
    ("It's at 3 pm on Friday.", "It's at 3 pm on Friday."),  # a time said for the new booking stays
    ("Can I change Tuesday to Friday?", "Can I to Friday?"),
    ("I need to change today.", "I need to ."),  # "change the day", as the phone line heard it
    ("Can we move to Thursday?", "Can we move to Thursday?"),
])
def test_the_appointment_the_caller_has_now_is_left_out_of_a_move(said: str, left: str) -> None:
    assert " ".join(without_current_booking(said).split()) == left


@pytest.mark.parametrize("text", [
    "Can I leave a message for Dr Patel?", "Can I leave a message for Megan Price?", "Could I speak to John Smith?",
    "Could you tell Megan Price I called?", "Is Dr. Patel in on Thursday?"])
def test_the_person_a_message_or_a_call_is_for_is_not_the_callers_name(text: str) -> None:
    assert names_in(text) == []


def test_a_name_given_for_a_booking_is_still_the_callers() -> None:
    assert names_in("Book it for John Smith, please.") == ["John Smith"]
    assert names_in("It's Sarah Jones for Dr Patel.")[0] == "Sarah Jones"


def test_the_booking_a_move_starts_from_is_not_the_day_it_moves_to() -> None:
    said = "I booked an MOT for Tuesday but I need to move it to Thursday at 9."
    assert "Tuesday" not in without_current_booking(said) and "Thursday" in without_current_booking(said)
    assert without_current_booking("move my appointment to Thursday for a check") == (
        "move my appointment to Thursday for a check")  # the day it moves to stays
