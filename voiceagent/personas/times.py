"""Times of day as a business owner writes them, and as the agent says them.

Accepted: ``"closed"``, ``"08:00-18:00"``, ``"8 am - 6 pm"``, ``"7:30am to 5:30pm"``, ``"8 am to 12 noon"``,
``"9:00-12:00, 14:00-17:30"`` (a break at lunch). A time without am/pm is on the 24-hour clock.
"""

from __future__ import annotations

import re

_TIME = re.compile(
    r"^(?:(?P<noon>(?:12\s*)?noon|midday)|(?P<midnight>(?:12\s*)?midnight)"
    r"|(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>[ap])\.?\s*m?\.?)$|"
    r"^(?P<hour24>\d{1,2})(?:[:.](?P<minute24>\d{2}))?$"
)
_SPAN = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b)\s*")
_SPANS = re.compile(r"\s*(?:,|;|\band\b)\s*")
DAY_END = 24 * 60


def parse_time(text: str) -> int:
    """Minutes after midnight for a time such as ``"7:30 am"``, ``"17:30"`` or ``"noon"``."""
    found = _TIME.match(text.strip().lower())
    if not found:
        raise ValueError(f"{text!r} is not a time; write it like \"8:30\", \"17:00\" or \"5:30 pm\"")
    if found["noon"]:
        return 12 * 60
    if found["midnight"]:
        return 0
    if found["hour"] is not None:
        hour, minute = int(found["hour"]), int(found["minute"] or 0)
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r}: with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if found["half"] == "p" else 0)
    else:
        hour, minute = int(found["hour24"]), int(found["minute24"] or 0)
        if hour > 24 or (hour == 24 and minute):
            raise ValueError(f"{text!r}: the hour is 0 to 23 (or 24:00 for midnight)")
    if minute > 59:
        raise ValueError(f"{text!r}: minutes are 00 to 59")
    return hour * 60 + minute


def parse_day_hours(text: str) -> list[tuple[int, int]]:
    """The opening spans of one day, in minutes after midnight; ``[]`` for ``"closed"``.

    Raises ValueError with what is wrong: not a time, a span that closes before it opens, overlaps.
    """
    cleaned = text.strip().lower()
    if cleaned == "closed":
        return []
    if not cleaned:
        raise ValueError('empty: give the hours, e.g. "9:00-17:00", or "closed"')
    spans: list[tuple[int, int]] = []
    for part in _SPANS.split(cleaned):
        ends = _SPAN.split(part)
        if len(ends) != 2:
            raise ValueError(f"{part!r} is not a span of time; write it like \"9:00-17:00\" or \"9 am to 5 pm\"")
        opens, closes = parse_time(ends[0]), parse_time(ends[1])
        if closes == 0:
            closes = DAY_END  # open until midnight
        if closes <= opens:
            raise ValueError(f"{part!r} closes before it opens: use the 24-hour clock (08:00-18:00) or am/pm")
        if spans and opens < spans[-1][1]:
            raise ValueError(f"{part!r} overlaps the span before it; list the spans in order")
        spans.append((opens, closes))
    return spans


def say_time(minute: int) -> str:
    """A time the way it is spoken: ``"8 am"``, ``"5:30 pm"``, ``"12 noon"``, ``"midnight"``."""
    minute %= DAY_END
    if minute == 0:
        return "midnight"
    if minute == 12 * 60:
        return "12 noon"
    hour, rest = divmod(minute, 60)
    half = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour} {half}" if rest == 0 else f"{hour}:{rest:02d} {half}"
