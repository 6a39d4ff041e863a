"""Times of day: what an owner writes, what the agent says, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.personas.times import DAY_END, parse_day_hours, parse_time, say_time


@pytest.mark.parametrize(("text", "minute"), [
    ("8:00", 480), ("08:30", 510), ("17:30", 1050), ("7:30 am", 450), ("5:30pm", 1050), ("5.30 p.m.", 1050),
    ("12 noon", 720), ("noon", 720), ("12 pm", 720), ("12 am", 0), ("midnight", 0), ("24:00", 1440),
])
def test_times_in_the_ways_owners_write_them(text: str, minute: int) -> None:
    assert parse_time(text) == minute


def test_a_day_can_have_a_break_and_can_close_at_midnight() -> None:
    assert parse_day_hours("9 am to 12 noon and 1 pm - 5 pm") == [(540, 720), (780, 1020)]
    assert parse_day_hours("18:00-midnight") == [(1080, DAY_END)]
    assert parse_day_hours(" Closed ") == []


@pytest.mark.parametrize(("minute", "said"), [(480, "8 am"), (450, "7:30 am"), (720, "12 noon"), (1050, "5:30 pm"),
                                              (0, "midnight"), (1440, "midnight"), (780, "1 pm")])
def test_times_are_said_as_people_say_them(minute: int, said: str) -> None:
    assert say_time(minute) == said


@given(st.integers(min_value=0, max_value=DAY_END - 1))
def test_a_said_time_reads_back_as_the_same_minute(minute: int) -> None:
    assert parse_time(say_time(minute)) == minute
