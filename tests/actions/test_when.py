"""A caller's words to a day and a time: the ways people (and speech-to-text) say them."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from voiceagent.actions.when import resolve_day, resolve_time, resolve_when, say_day, say_when

TODAY = date(2026, 12, 2)  # a Wednesday


@pytest.mark.parametrize(("text", "day"), [
    ("today", date(2026, 12, 2)),
    ("tomorrow", date(2026, 12, 3)),
    ("the day after tomorrow", date(2026, 12, 4)),
    ("Tuesday", date(2026, 12, 8)),
    ("next Tuesday", date(2026, 12, 8)),
    ("Wednesday", date(2026, 12, 9)),  # today's weekday, bare: a week on
    ("this Wednesday", date(2026, 12, 2)),  # "this": today
    ("this Friday", date(2026, 12, 4)),
    ("December 3", date(2026, 12, 3)),
    ("3 December", date(2026, 12, 3)),
    ("the 3rd of December", date(2026, 12, 3)),
    ("december third", date(2026, 12, 3)),
    ("the 3rd", date(2026, 12, 3)),
    ("on the third", date(2026, 12, 3)),
    ("the 1st", date(2027, 1, 1)),  # this month's has passed: next month's
    ("the 31st", date(2026, 12, 31)),
    ("March 5", date(2027, 3, 5)),  # this year's has passed: next year's
    ("December 3 2027", date(2027, 12, 3)),
    ("2026-12-03", date(2026, 12, 3)),
    ("Tuesday at 10 a.m.", date(2026, 12, 8)),
    ("Um, next Tuesday, 10 AM?", date(2026, 12, 8)),
    ("3rd December, 10 am.", date(2026, 12, 3)),
    ("Tuesday the 8th", date(2026, 12, 8)),
    ("THURSDAY", date(2026, 12, 3)),
])
def test_days_as_callers_say_them(text: str, day: date) -> None:
    assert resolve_day(text, TODAY) == day


@pytest.mark.parametrize("text", [
    "Monday the 8th",  # the 8th is a Tuesday: contradictory
    "Monday or Tuesday",  # two days
    "tomorrow, Friday",  # tomorrow is Thursday
    "February 30", "2026-13-01", "the 32nd",  # no such day
    "sometime soon", "", "at 10 am",
])
def test_no_day_when_none_is_said_or_it_is_ambiguous(text: str) -> None:
    assert resolve_day(text, TODAY) is None


@pytest.mark.parametrize(("text", "at"), [
    ("10 am", time(10)), ("10am", time(10)), ("10 AM", time(10)), ("10 a.m.", time(10)),
    ("10:30", time(10, 30)), ("10.30 am", time(10, 30)), ("2 pm", time(14)), ("2 p.m.", time(14)),
    ("14:00", time(14)), ("noon", time(12)), ("midday", time(12)), ("12 noon", time(12)),
    ("half past two", time(14, 30)), ("half two", time(14, 30)), ("quarter to three", time(14, 45)),
    ("twenty past ten", time(10, 20)), ("ten o'clock", time(10)), ("Ten o’clock.", time(10)),
    ("ten thirty", time(10, 30)), ("ten forty-five", time(10, 45)), ("ten fifteen", time(10, 15)),
    ("one fifteen", time(13, 15)),
    ("at 3", time(15)), ("at ten", time(10)), ("3", time(15)), ("two tyres at ten", time(10)),
    ("06:00", time(6)), ("12 am", time(0)),
    ("ten in the morning", time(10)), ("5 in the morning", time(5)), ("seven tonight", time(19)),
    ("Good morning, can I come at 3?", time(15)),  # a greeting, not "in the morning"
    ("Tuesday at 10 a.m.", time(10)), ("December 3 at 10", time(10)), ("the 3rd at half past two", time(14, 30)),
    ("Uh, next Tuesday, ten thirty, please.", time(10, 30)),
    ("December 3, 10.", time(10)), ("Tuesday, 2", time(14)), ("tomorrow, 10:30", time(10, 30)),
    ("seven this evening", time(19)), ("7 tonight", time(19)),
    ("It's 11 at night and my dog's eaten chocolate", time(23)), ("eleven at night", time(23)),
])
def test_times_as_callers_say_them(text: str, at: time) -> None:
    assert resolve_time(text) == at


@pytest.mark.parametrize("text", ["tomorrow", "13 am", "25:00", "10:75", "between 2 and 4", "from ten to three",
                                  "as soon as possible", "",
                                  "Thursday after noon"])  # the afternoon, written apart: no time yet, not 12 noon
def test_no_time_when_none_is_said_or_it_is_not_one(text: str) -> None:
    assert resolve_time(text) is None


def test_a_time_written_as_one_figure_is_read() -> None:
    """Speech-to-text writes "make it eight thirty" as "make it 830"."""
    assert resolve_time("Could we make it 830 instead?") == time(8, 30)
    assert resolve_time("at 1045 on Friday") == time(10, 45)
    assert resolve_time("at 230") == time(14, 30)
    assert resolve_time("around 700 people") is None  # a count, not a time
    assert resolve_time("call me on 555 0199") is None


def test_an_hour_without_am_or_pm_is_the_one_the_business_is_open_at() -> None:
    def dinner(at: time) -> bool:  # open 12 to 3 and 5:30 to 10 pm
        return time(12) <= at < time(15) or time(17, 30) <= at < time(22)

    assert resolve_time("a table for four at seven", dinner) == time(19, 0)
    assert resolve_time("Friday at half eight", dinner) == time(20, 30)
    assert resolve_time("at one", dinner) == time(13, 0)  # already an hour it opens
    assert resolve_time("at seven in the morning", dinner) == time(7, 0)  # said: not changed
    assert resolve_time("at 7 am", dinner) == time(7, 0)
    assert resolve_time("at eleven", dinner) == time(11, 0)  # 11 pm is closed too: as said
    assert resolve_time("a table at seven") == time(7, 0)  # without the hours: the morning


def test_a_start_needs_both_a_day_and_a_time() -> None:
    now = datetime(2026, 12, 2, 9, 0)
    assert resolve_when("next Tuesday at half past two", now) == datetime(2026, 12, 8, 14, 30)
    assert resolve_when("next Tuesday", now) is None
    assert resolve_when("at half past two", now) is None


def test_days_and_starts_are_said_back_plainly() -> None:
    now = datetime(2026, 12, 2, 9, 0)
    assert say_day(TODAY, TODAY) == "today, Wednesday"
    assert say_when(datetime(2026, 12, 3, 10), now) == "tomorrow, Thursday at 10 am"
    assert say_when(datetime(2026, 12, 8, 14, 30), now) == "Tuesday the 8th of December at 2:30 pm"
    assert say_when(datetime(2027, 1, 1, 12), now) == "Friday the 1st of January 2027 at 12 noon"
