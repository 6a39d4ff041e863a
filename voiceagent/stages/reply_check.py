"""Checks of what the agent is about to say, clause by clause, before it is spoken.

A small model answers fluently and often wrongly. Each clause is checked against the persona's facts and
the conversation before it goes to speech synthesis:

- ``invented_number``: a number that is in no fact of the persona and was not said by the caller;
- ``closed_day``: a closed weekday spoken of as open (open, available, come in, see you ...);
- ``echo``: the first clause repeats the caller's sentence back instead of answering it;
- ``repeat``: the reply opens with the same words as an earlier reply of this call, to a different
  question (a small model copies its own history).

Pure logic: no engine, no I/O. A failed check makes the reply stop there; the call then says a
fact-based answer instead (see :func:`fallback_reply`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from voiceagent.personas.facts import Fact
from voiceagent.personas.model import WEEKDAYS, Business
from voiceagent.personas.render import fact_lines
from voiceagent.personas.words import tokens

ProblemKind = Literal["invented_number", "closed_day", "echo", "repeat"]

_NUMBER = re.compile(r"\d+")
_OPEN_WORDS = re.compile(
    r"\b(open|available|come in|come by|drop (it |your \w+ )?(off|in)|see you|book(ed)?|works|fine|free|slot|"
    r"appointment|schedule[d]?)\b")
_NEGATION = re.compile(r"\b(closed|not|n't|no|don't|aren't|isn't|can't|cannot|never|unfortunately|sorry)\b")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """Why a clause must not be spoken."""

    kind: ProblemKind
    detail: str


def numbers_in(text: str) -> set[int]:
    """Every number written in ``text``, as digits ("7:30" gives 7 and 30; "0142" gives 142) or as
    a plain number word ("sixty")."""
    found = {int(n) for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in tokens(text) if w in _NUMBER_WORDS}
    return found


class ReplyCheck:
    """The checks for one reply: built with what the caller said this turn and earlier in the call."""

    def __init__(
        self, business: Business | None, said: str, *, earlier_said: Iterable[str] = (),
        earlier_replies: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``earlier_replies``: (what the caller said, what the agent replied) for earlier turns."""
        self._business = business
        self._said = said
        self._allowed = numbers_in(said) | {n for text in earlier_said for n in numbers_in(text)}
        self._allowed |= {0, 1, 2}  # "one of our", "a couple": too common to be a claimed fact
        if business is not None:
            self._allowed |= {n for line in fact_lines(business) for n in numbers_in(line)}
        self._earlier = [(q, r) for q, r in earlier_replies if r]
        self._clauses = 0

    def clause(self, text: str) -> Problem | None:
        """Check the next clause of the reply (in order)."""
        first = self._clauses == 0
        self._clauses += 1
        if first and (problem := self._echo(text) or self._repeat(text)):
            return problem
        if self._business is None:
            return None
        invented = sorted(numbers_in(text) - self._allowed)
        if invented:
            return Problem("invented_number", f"{invented[0]} is in no fact and was not said by the caller")
        return self._closed_day(text)

    def _echo(self, text: str) -> Problem | None:
        words, said = tokens(text), tokens(self._said)
        if len(words) < 4 or len(said) < 4:
            return None
        ratio = difflib.SequenceMatcher(None, words, said).ratio()
        if ratio >= 0.75:
            return Problem("echo", f"repeats the caller's words ({ratio:.2f} alike)")
        return None

    def _repeat(self, text: str) -> Problem | None:
        words = tokens(text)
        if len(words) < 5:
            return None
        for question, reply in self._earlier:
            before = tokens(reply)[: len(words)]
            if before == words and difflib.SequenceMatcher(None, tokens(question), tokens(self._said)).ratio() < 0.8:
                return Problem("repeat", "opens like an earlier reply to a different question")
        return None

    def _closed_day(self, text: str) -> Problem | None:
        assert self._business is not None
        lower = text.lower()
        for day in WEEKDAYS:
            if not self._business.hours_on(day).closed or not re.search(rf"\b{day}s?\b", lower):
                continue
            if _OPEN_WORDS.search(lower) and not _NEGATION.search(lower):
                return Problem("closed_day", f"speaks of {day.title()} as open; it is closed")
        return None


def fallback_reply(facts: Sequence[Fact], dont_know: str) -> str:
    """What to say instead of a reply that failed a check: the facts that match the caller's words,
    or the persona's "I don't know, shall I take a message" line when none does."""
    if not facts:
        return dont_know
    return " ".join(_speakable(f.text) for f in facts[:2])


def _speakable(text: str) -> str:
    """A fact line as a spoken sentence ("Sunday: closed." -> "Sunday, closed.")."""
    return text.replace(": ", ", ")
