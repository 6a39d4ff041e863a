"""The booking rules against a persona's facts, and the sentences a refusal is said in."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.actions.quick_lube import NOW, QUICK_LUBE
from voiceagent.actions.rules import (
    check_slot,
    free_starts,
    nearest_free,
    not_offered,
    say_duration,
    service_minutes,
    taken_reason,
)
from voiceagent.personas.load import load_persona

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"


def test_an_open_time_that_fits_is_bookable() -> None:
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 3, 10, 0), 30, NOW) is None
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 3, 16, 30), 30, NOW) is None  # ends as they close
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 2, 13, 0), 60, NOW) is None  # after the lunch break


def test_closed_days_are_refused() -> None:
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 6, 10, 0), 30, NOW) == "we're closed on Sundays"


def test_before_opening_and_after_closing_say_the_days_hours() -> None:
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 5, 8, 0), 30, NOW) == (
        "that's before we open: on Saturdays we're open from 9 am to 12 noon")
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 5, 12, 0), 30, NOW) == (
        "that's after we close: on Saturdays we're open from 9 am to 12 noon")
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 2, 12, 15), 30, NOW) == (
        "we're closed at that time: on Wednesdays we're open from 8 am to 12 noon and from 1 pm to 5 pm")


def test_an_appointment_must_end_by_closing_time() -> None:
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 3, 16, 0), 120, NOW, service="brake job") == (
        "a brake job takes 2 hours and we close at 5 pm; the latest it can start is 3 pm")
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 2, 11, 45), 30, NOW, service="oil change") == (
        "an oil change takes 30 minutes and we close at 12 noon; the latest it can start is 11:30 am")
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 5, 9, 0), 240, NOW) == (
        "the appointment takes 4 hours and we close at 12 noon")  # it can never fit that day


def test_a_time_already_past_is_refused() -> None:
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 2, 8, 30), 30, NOW) == "that time has already passed"
    assert check_slot(QUICK_LUBE, datetime(2026, 12, 1, 10, 0), 30, NOW) == "that time has already passed"


def test_the_bundled_garage_says_its_own_hours() -> None:
    garage = load_persona(GARAGE).business
    assert garage is not None
    friday_late = datetime(2026, 12, 4, 17, 15)
    assert check_slot(garage, friday_late, service_minutes(garage, "oil change"), NOW, service="oil change") == (
        "an oil change takes 30 minutes and we close at 5:30 pm; the latest it can start is 5 pm")


@pytest.mark.parametrize(("name", "minutes"), [
    ("oil change", 30), ("Oil  Change", 30), ("OIL", 30), ("brakes", 120), ("Brake Pads", 120),
    ("inspection", 30), ("a haircut", 30), ("", 30),
])
def test_a_service_takes_its_duration_found_by_name_or_alias(name: str, minutes: int) -> None:
    assert service_minutes(QUICK_LUBE, name) == minutes


def test_things_the_business_does_not_do_are_refused_by_name() -> None:
    assert not_offered(QUICK_LUBE, "paint") == "sorry, we don't do bodywork or paint"
    assert not_offered(QUICK_LUBE, "Towing") == "sorry, we don't do towing"
    assert not_offered(QUICK_LUBE, "oil change") is None
    assert not_offered(QUICK_LUBE, "paint and towing") is None  # not one thing it does not do


def test_free_starts_skip_taken_times_closed_times_and_the_past() -> None:
    taken = [(datetime(2026, 12, 2, 10, 0), datetime(2026, 12, 2, 11, 0))]
    free = free_starts(QUICK_LUBE, date(2026, 12, 2), 30, taken, datetime(2026, 12, 2, 9, 10))
    said = [f"{s:%H:%M}" for s in free]
    assert said[:3] == ["09:15", "09:30", "11:00"]  # not 9:00 (past), 9:45 (runs into 10:00), nor 10:xx
    assert "11:45" not in said and "12:00" not in said and said[said.index("11:30") + 1] == "13:00"
    assert said[-1] == "16:30"


def test_the_nearest_free_starts_are_offered_in_words() -> None:
    taken = [(datetime(2026, 12, 3, 10, 0), datetime(2026, 12, 3, 11, 0))]
    nearest = nearest_free(QUICK_LUBE, datetime(2026, 12, 3, 10, 0), 60, taken, NOW)
    assert nearest == [datetime(2026, 12, 3, 9, 0), datetime(2026, 12, 3, 11, 0)]
    assert taken_reason(nearest) == "that time is taken; 9 am or 11 am are free"
    assert taken_reason(nearest[1:]) == "that time is taken; 11 am is free"
    assert taken_reason([]) == "that time is taken, and we're fully booked that day"
    first_thing = [(datetime(2026, 12, 3, 8, 0), datetime(2026, 12, 3, 9, 0))]  # nothing free before: two after
    assert nearest_free(QUICK_LUBE, datetime(2026, 12, 3, 8, 30), 30, first_thing, NOW) == [
        datetime(2026, 12, 3, 9, 0), datetime(2026, 12, 3, 9, 15)]


@pytest.mark.parametrize(("minutes", "said"), [(30, "30 minutes"), (60, "an hour"), (90, "an hour and a half"),
                                               (120, "2 hours"), (150, "2 and a half hours"), (75, "an hour and 15 minutes")])
def test_durations_are_said_as_people_say_them(minutes: int, said: str) -> None:
    assert say_duration(minutes) == said
