"""Whether a reply speaks of a weekday as the persona's hours have it (the reply check's ``closed_day``
and ``open_day``): a closed day spoken of as open ("open", "come in", "see you", or its hours: "we do
Sunday at 9 am"), an open day spoken of as closed, and, when the caller asked about one day, "open" or
"closed" said without naming it ("We are open" and "on Sunday." may reach the check as two clauses).

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voiceagent.personas.facts import Fact, days_named
from voiceagent.personas.model import WEEKDAYS, Business
from voiceagent.stages.reply_problem import Problem

_OPEN_WORDS = re.compile(
    r"\b(open|available|come in|come by|drop (it |your \w+ )?(off|in)|see you|book(ed)?|works|fine|free|slot|"
    r"appointment|schedule[d]?|yes|yeah|sure|of course|certainly|we can|we do|can do|squeeze|"
    r"fit (you|him|her|it|them) in)\b")  # "Yes, we can do Sunday." says it is open as surely
_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\bnoon\b")  # "does Sunday at 9 am"
NEGATION = re.compile(r"\b(closed|not|n't|no|don't|aren't|isn't|can't|cannot|never|unfortunately|sorry)\b")


class DayCheck:
    """The day checks for one reply to what the caller said (``facts``: the persona's facts matched to it)."""

    def __init__(self, business: Business, facts: Sequence[Fact]) -> None:
        self._business = business
        self._facts = tuple(facts)

    def check(self, sentence: str, clause: str) -> Problem | None:
        """Check ``clause``, the newest piece of ``sentence`` (the sentence so far, which a long one reaches
        the check in pieces: "Yes, we do Sunday" + "at 9 am to 12 noon.")."""
        return self._closed_day(sentence) or self._open_day(sentence) or self._undated(clause)

    def _asked_day(self) -> tuple[str, bool] | None:
        """The one weekday the caller asked about (by its hours fact) and whether it is closed."""
        days = [f.day for f in self._facts if f.kind == "hours" and f.day is not None]
        if len(days) != 1:
            return None
        return days[0], self._business.hours_on(days[0]).closed

    def _undated(self, text: str) -> Problem | None:
        """A clause that says open (or closed) without naming a day, to a question about one day: it
        answers for that day ("We are open" | "on Sunday." reaches the check as two clauses)."""
        asked = self._asked_day()
        lower = text.lower()
        if asked is None or days_named(lower):
            return None
        day, closed = asked
        says_open = bool(_OPEN_WORDS.search(lower)) and not NEGATION.search(lower)
        if closed and says_open:
            return Problem("closed_day", f"speaks of {day.title()} (asked about) as open; it is closed")
        if not closed and re.search(r"\b(?:we are|we're|is|are) closed\b", lower) and not _OPEN_WORDS.search(lower):
            return Problem("open_day", f"speaks of {day.title()} (asked about) as closed; it is open")
        return None

    def _closed_day(self, text: str) -> Problem | None:
        lower = text.lower()
        for day in WEEKDAYS:
            if not self._business.hours_on(day).closed or not re.search(rf"\b{day}s?\b", lower):
                continue
            if (_OPEN_WORDS.search(lower) or _CLOCK.search(lower)) and not NEGATION.search(lower):
                return Problem("closed_day", f"speaks of {day.title()} as open; it is closed")
        return None

    def _open_day(self, text: str) -> Problem | None:
        lower = text.lower()
        for day in WEEKDAYS:
            if self._business.hours_on(day).closed:
                continue
            if re.search(rf"\bclosed (on |every |all day )*{day}s?\b|\b{day}s? (we are|we're|is|are) closed\b", lower):
                return Problem("open_day", f"speaks of {day.title()} as closed; it is open")
        return None
