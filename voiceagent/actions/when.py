"""A caller's words to a day and a time of day, and back: pure functions, no clock, no I/O.

Everything is relative to a ``today`` or ``now`` the caller of these functions passes in (the business's
local time, naive). Text is speech-to-text output, so case, punctuation and filler words are ignored:
``"Tuesday at 10 a.m."``, ``"next Tuesday, 10 AM"`` and ``"tuesday 10am"`` are the same.

Days (:func:`resolve_day`):

* ``"today"``, ``"tomorrow"``, ``"the day after tomorrow"``.
* A weekday: ``"Tuesday"``, ``"next Tuesday"`` and ``"on Tuesday"`` mean the next Tuesday strictly after
  today (said on a Tuesday: a week later). ``"this Tuesday"`` is the same, except that said on a
  Tuesday it means today. The agent should say the date back, so a caller who meant otherwise can say so.
* A date: ``"December 3"``, ``"3 December"``, ``"the 3rd of December"``, ``"December third"``,
  ``"2026-12-03"``, with an optional year (``"December 3 2027"``). Without a year: this year's, or next
  year's once this year's has passed.
* A day of the month: ``"the 3rd"``, ``"on the third"``: this month's, or the next month that has one.
* A weekday with a date (``"Tuesday the 8th"``) must agree, and so must two ways of saying the day:
  anything contradictory or ambiguous (``"Monday or Tuesday"``) gives None, so the agent asks again.

Times (:func:`resolve_time`): ``"10 am"``, ``"10am"``, ``"10:30"``, ``"10.30 am"``, ``"2 pm"``, ``"14:00"``,
``"noon"``, ``"midday"``, ``"midnight"``, ``"ten o'clock"``, ``"ten thirty"``, ``"ten forty five"``,
``"half past two"``, ``"half two"``, ``"quarter to three"``, ``"twenty past ten"``, ``"at 10"``, ``"at ten"``,
``"make it 830"`` (speech-to-text writes "eight thirty" as one figure).
Without am/pm, an hour of 1 to 6 means the afternoon (nobody books a 3 am oil change) and 7 to 11 the
morning; ``"in the morning"`` / ``"in the afternoon"`` / ``"this evening"`` settle it instead. An hour
written with a leading zero (``"06:00"``) or above 12 is on the 24-hour clock. Given the hours a business
opens (``opens``), an hour said without am/pm is the one of the two it is open at: "a table at seven" is
7 pm at a restaurant that opens for dinner, "at eight" 8 am at a garage that closes at 6.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from voiceagent.personas.model import WEEKDAYS
from voiceagent.personas.times import say_time

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_NUMBERS = {word: n for n, word in enumerate(_UNITS + _TEENS, 1)} | _TENS
_ORDINALS = {word: n for n, word in enumerate((
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
    "twentieth"), 1)} | {"thirtieth": 30}

_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_ORDINAL_WORD = ("(?:(?:twenty|thirty)\\s+)?(?:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + ")")
_DAY_NUMBER = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORD})(?!\s*(?:am|pm|oclock)\b|:)"
_YEAR = r"(?:\s+(?P<year>\d{4}))?"
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY_NUMBER}\b{_YEAR}")
_DAY_MONTH = re.compile(rf"\b(?:the\s+)?{_DAY_NUMBER}\s+(?:of\s+)?{_MONTH}\b{_YEAR}")
_ORDINAL_DAY = re.compile(rf"\b(?:(?P<digits>\d{{1,2}})(?:st|nd|rd|th)|on\s+the\s+(?P<word>{_ORDINAL_WORD}))\b")
_WEEKDAY = re.compile(r"\b(?:(?P<which>this|next|coming)\s+)?(?P<weekday>" + "|".join(WEEKDAYS) + r")\b")
_RELATIVE = re.compile(r"\b(?:(?P<after>day\s+after\s+tomorrow)|(?P<tomorrow>tomorrow)"
                       r"|(?P<today>today|tonight|this\s+(?:morning|afternoon|evening)))\b")

_UNIT = "(?:" + "|".join(_UNITS) + ")"
_HOUR_WORD = "(?:" + "|".join(_UNITS + ("ten", "eleven", "twelve")) + ")"
_MINUTE_WORD = (rf"(?:(?:twenty|thirty|forty|fifty)(?:\s+{_UNIT})?|" + "|".join(_TEENS) + rf"|oh\s+{_UNIT})")
_HOUR = rf"(?P<hour>\d{{1,2}}|{_HOUR_WORD})"
_TIMES = tuple(re.compile(pattern) for pattern in (
    rf"\b{_HOUR}(?::(?P<minute>\d{{2}})|\s+(?P<minute_word>{_MINUTE_WORD}))?\s*(?P<half>am|pm)\b",
    rf"\b{_HOUR}:(?P<minute>\d{{2}})\b",
    (rf"\b(?:(?P<half_past>half)|(?P<quarter>quarter)|(?P<minute>\d{{1,2}})|(?P<minute_word>{_MINUTE_WORD}|{_UNIT}))"
     rf"(?:\s+minutes?)?\s+(?P<direction>past|after|to|before)\s+{_HOUR}\b"),
    rf"\bhalf\s+(?P<half_past>){_HOUR}\b",
    rf"\b{_HOUR}\s*oclock\b",
    (rf"\b{_HOUR}(?::(?P<minute>\d{{2}})|\s+(?P<minute_word>{_MINUTE_WORD}))?"
     r"\s+(?:(?:in\s+the|this)\s+(?:morning|afternoon|evening)|tonight|at\s+night)\b"),
    r"\b(?:12\s+|twelve\s+)?(?:(?P<noon>noon|midday)|(?P<midnight>midnight))\b",
    rf"\b(?P<hour>{_HOUR_WORD})\s+(?P<minute_word>{_MINUTE_WORD})\b",
    rf"\b(?:at|around|about)\s+{_HOUR}\b",
    rf"^{_HOUR}$",
))
_MORNING = re.compile(r"\b(?<!good\s)morning\b")  # "good morning" is a greeting, not a time
_AFTERNOON = re.compile(r"\b(?<!good\s)(?:afternoon|evening|tonight|night)\b")
# "make it 830", "at 1030": speech-to-text writes a time said as "eight thirty" as one figure
_CLOCK_FIGURES = re.compile(r"\b(at|make it|around|by|until|till)\s+([1-9]|1[0-2])([0-5]\d)\b(?![:.]?\d|\s+(?:people|persons|guests|of us|dollars|pounds|euros|miles))",
                            re.IGNORECASE)
_RANGE = re.compile(r"\b(?:from|between)\s+\S+(?:\s+\S+){0,2}?\s+(?:to|and|till|until)\b")


def _clean(text: str) -> str:
    """Lower case, "a.m." -> "am", "o'clock" -> "oclock", "10.30" -> "10:30", other punctuation -> spaces."""
    cleaned = text.lower().replace("\u2019", "'")
    cleaned = re.sub(r"(?<![a-z])([ap])\s?\.?\s?m\b\.?", r"\1m", cleaned)
    cleaned = re.sub(r"\bo\s*'?\s*clock\b", " oclock", cleaned)
    cleaned = re.sub(r"(\d)[.:](\d\d)(?!\d)", r"\1:\2", cleaned)
    cleaned = re.sub(r"[^a-z0-9:]+", " ", cleaned)
    cleaned = re.sub(r"\bafter (noon|midday)\b", "afternoon", cleaned)  # the recogniser's "Thursday after noon"
    return " ".join(cleaned.split())


def number_value(words: str) -> int:
    """The value of a number in words or digits: "forty five" -> 45, "oh five" -> 5, "3rd" -> 3."""
    digits = re.match(r"\d+", words)
    if digits:
        return int(digits.group())
    return sum(_NUMBERS.get(w, 0) or _ORDINALS.get(w, 0) for w in words.split() if w != "oh")


def _on_or_after(year: int, month: int, day: int, today: date, *, years: int = 1) -> date | None:
    """That day of that month in ``year`` or one of the next ``years`` years, whichever is first not past."""
    for candidate_year in range(year, year + years + 1):
        try:
            found = date(candidate_year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _dated(text: str, today: date) -> set[date | None]:
    """The days named by a date in ``text``: "December 3", "3rd of December", "the 3rd" (None: invalid)."""
    days: set[date | None] = set()
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for found in pattern.finditer(text):
            month, day = _MONTHS[found["month"]], number_value(found["day"])
            if found["year"]:
                days.add(_on_or_after(int(found["year"]), month, day, date.min, years=0))
            else:
                days.add(_on_or_after(today.year, month, day, today, years=4))
    if days:
        return days
    for found in _ORDINAL_DAY.finditer(text):
        day = number_value(found["digits"] or found["word"])
        months = ((today.year * 12 + today.month - 1 + n) for n in range(13))
        days.add(next((d for m in months if (d := _on_or_after(m // 12, m % 12 + 1, day, today, years=0))), None))
    return days


def _relative(text: str, today: date) -> set[date]:
    """The days named by "today", "tomorrow" and "the day after tomorrow"."""
    days: set[date] = set()
    for found in _RELATIVE.finditer(text):
        ahead = 2 if found["after"] else 1 if found["tomorrow"] else 0
        days.add(today + timedelta(days=ahead))
    return days


def _weekday(text: str, today: date) -> tuple[set[int], set[date]]:
    """The weekdays named (0 = Monday) and the days they mean on their own."""
    weekdays: set[int] = set()
    days: set[date] = set()
    for found in _WEEKDAY.finditer(text):
        weekday = WEEKDAYS.index(found["weekday"])
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 and found["which"] != "this":
            ahead = 7
        weekdays.add(weekday)
        days.add(today + timedelta(days=ahead))
    return weekdays, days


def resolve_day(text: str, today: date) -> date | None:
    """The day a caller means by ``text``, relative to ``today``; None when there is none or it is ambiguous.

    See the module documentation for what is understood. A weekday said with a date must agree with it.
    """
    iso = {_on_or_after(int(y), int(m), int(d), date.min, years=0) for y, m, d in _ISO.findall(text)}
    cleaned = _clean(_ISO.sub(" ", text))
    named = iso | _dated(cleaned, today) | _relative(cleaned, today)
    weekdays, by_weekday = _weekday(cleaned, today)
    if not named:
        named = set(by_weekday)
    elif weekdays and any(d is None or d.weekday() not in weekdays for d in named):
        return None
    if len(named) != 1 or len(weekdays) > 1:
        return None
    return named.pop()


def _without_dates(text: str) -> str:
    """``text`` with its days taken out: what is left of "December 3, 10" or "Tuesday, 10" is the time."""
    text = _ISO.sub(" ", text)
    cleaned = _clean(text)
    for pattern in (_MONTH_DAY, _DAY_MONTH, _ORDINAL_DAY, _WEEKDAY, _RELATIVE):
        cleaned = pattern.sub(" ", cleaned)
    return " ".join(re.sub(r"\b\d{3,}\b", " ", cleaned).split())


def _hour_of_day(hour_text: str, half: str | None, text: str) -> int | None:
    """The hour on the 24-hour clock from how it was said (see the module documentation), or None."""
    hour = number_value(hour_text)
    if half:
        if hour > 12:
            return hour if half == "pm" and hour < 24 else None
        return hour % 12 + (12 if half == "pm" else 0) if hour else None
    if hour_text.startswith("0") or hour > 12:
        return hour if hour < 24 else None
    if _MORNING.search(text):
        return hour % 12
    if _AFTERNOON.search(text):
        return hour % 12 + 12
    return hour + 12 if 1 <= hour <= 6 else hour


def _time_from(found: re.Match[str], text: str) -> time | None:
    """The time of day a matched pattern of ``_TIMES`` names (``text``: all that was said), or None."""
    groups = found.groupdict()
    if groups.get("noon") or groups.get("midnight"):
        return time(12, 0) if groups.get("noon") else time(0, 0)
    if groups.get("half_past") is not None:
        minute = 30
    elif groups.get("quarter"):
        minute = 15
    else:
        minute_text = groups.get("minute") or groups.get("minute_word")
        minute = number_value(minute_text) if minute_text else 0
    hour = _hour_of_day(found["hour"], groups.get("half"), text)
    if groups.get("direction") in ("to", "before") and hour is not None:
        hour, minute = hour - 1, 60 - minute
    if hour is None or not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return time(hour, minute)


def resolve_time(text: str, opens: Callable[[time], bool] | None = None) -> time | None:
    """The time of day a caller means by ``text``, or None when no time is said or it is not a real one.

    Hours 1 to 6 without am/pm (or "morning") mean the afternoon; a range ("from 2 to 4") gives None.
    ``opens``: whether the business is open at a time (on some day); an hour said without am/pm is then
    the one of its two readings the business is open at, when only the other is not. See the module
    documentation.
    """
    cleaned = _without_dates(_CLOCK_FIGURES.sub(r"\1 \2:\3", text))
    if _RANGE.search(cleaned):
        return None  # "between 2 and 4" is not one time: the agent asks which
    for pattern in _TIMES:
        found = pattern.search(cleaned)
        if found:
            at = _time_from(found, _clean(text))
            if at is not None and opens is not None and _either_half(found, _clean(text)) and not opens(at):
                other = time((at.hour + 12) % 24, at.minute)
                return other if opens(other) else at
            return at
    return None


def _either_half(found: re.Match[str], text: str) -> bool:
    """Whether the hour matched was said without am/pm or a part of the day ("at seven", "half eight")."""
    groups = found.groupdict()
    hour_text = groups.get("hour") or ""
    if groups.get("noon") or groups.get("midnight") or groups.get("half") or not hour_text:
        return False
    if hour_text.startswith("0") or number_value(hour_text) > 12:
        return False
    return not (_MORNING.search(text) or _AFTERNOON.search(text))


def resolve_when(text: str, now: datetime) -> datetime | None:
    """The start a caller means, when ``text`` says both a day and a time; else None (ask for what is missing)."""
    day, at = resolve_day(text, now.date()), resolve_time(text)
    if day is None or at is None:
        return None
    return datetime.combine(day, at)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def say_day(day: date, today: date) -> str:
    """A day as the agent says it: "today, Wednesday", "tomorrow, Thursday", "Tuesday the 8th of December" (a
    year when not this one). The weekday is said with "today" and "tomorrow" too: a caller who said "Sunday"
    hears "Sunday" back, which is what the read-back is for (a phone line turns one weekday into another)."""
    if day == today:
        return f"today, {day.strftime('%A')}"
    if day == today + timedelta(days=1):
        return f"tomorrow, {day.strftime('%A')}"
    said = f"{day.strftime('%A')} the {_ordinal(day.day)} of {day.strftime('%B')}"
    return said if day.year == today.year else f"{said} {day.year}"


def say_when(start: datetime, now: datetime) -> str:
    """A start as the agent says it: "tomorrow at 10 am", "Tuesday the 8th of December at 2:30 pm"."""
    return f"{say_day(start.date(), now.date())} at {say_time(start.hour * 60 + start.minute)}"
