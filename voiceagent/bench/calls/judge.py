"""Judge one reply the caller heard against its turn's rules: every expected group present, no forbidden
claim, no number the persona does not hold (and the caller did not say), and not the caller's own
sentence said back. Lenient on wording (normalised whole-word matching), strict on facts."""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Iterable

from voiceagent.bench.calls.script import TurnSpec
from voiceagent.bench.calls.textnorm import contains, normalize, numbers_in
from voiceagent.bench.models.scoring import Score

ALWAYS_ALLOWED = frozenset({"1"})  # "one moment", "one of our ...": the normaliser writes every "one" as 1
ECHO_MIN_WORDS = 4  # a caller sentence shorter than this cannot be echoed in a meaningful way
ECHO_SHARE = 0.6  # a run of this share of the caller's words, said back in a row, is an echo
DATE_AHEAD_DAYS = 28  # a date read back ("Friday the 4th of December") is this close to the day of the call
_DATE = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+the\s+(\d{1,2})(?:st|nd|rd|th)"
                   r"\s+of\s+(january|february|march|april|may|june|july|august|september|october|november|december)"
                   r"(?:,?\s+(\d{4}))?", re.IGNORECASE)


Verdict = Score  # the checks one reply passed and failed: the same record as the typed model benchmark's


def _label(group: tuple[str, ...]) -> str:
    shown = "/".join(group[:4])
    return f"mentions {shown}{'/...' if len(group) > 4 else ''}"


def number_allowed(number: str, allowed: Iterable[str]) -> bool:
    """A number in a reply is allowed when it is an allowed number, or (3 digits or more) part of one or
    containing one: phone numbers come out of the normaliser joined or split ("555 0142", "5550142"), and
    it drops a zero that leads a group ("555 0142" -> "555142"), so long numbers compare without zeros."""
    for a in allowed:
        if number == a:
            return True
        if len(a) >= 3 and len(number) >= 3:
            x, y = number.replace("0", ""), a.replace("0", "")
            if x and y and (x in y or y in x):
                return True
    return False


def true_dates(heard: str, today: datetime.date) -> set[str]:
    """The numbers of every correct date ``heard`` names: "Friday the 4th of December" gives 4 when the 4th
    of December, within :data:`DATE_AHEAD_DAYS` of ``today``, is a Friday. Reading back the date of a
    weekday the caller named invents nothing; a wrong date ("Friday the 2nd" on a Wednesday) still does."""
    found: set[str] = set()
    for match in _DATE.finditer(heard):
        weekday, number, month, year = match.groups()
        for candidate in (int(year),) if year else (today.year, today.year + 1):
            try:
                day = datetime.datetime.strptime(f"{number} {month} {candidate}", "%d %B %Y").date()
            except ValueError:
                continue
            if day.strftime("%A").lower() == weekday.lower() and 0 <= (day - today).days <= DATE_AHEAD_DAYS:
                found |= {number, *((year,) if year else ())}
    return found


def echoes(caller: str, reply: str) -> bool:
    """True when ``reply`` repeats a long run of the caller's sentence word for word."""
    said, heard = normalize(caller).split(), normalize(reply).split()
    if len(said) < ECHO_MIN_WORDS or not heard:
        return False
    match = difflib.SequenceMatcher(None, said, heard, autojunk=False).find_longest_match(
        0, len(said), 0, len(heard))
    return match.size >= max(ECHO_MIN_WORDS, math.ceil(ECHO_SHARE * len(said)))


def judge(turn: TurnSpec, heard: str, *, persona_numbers: Iterable[str], caller_so_far: Iterable[str],
          transcript: str = "", today: datetime.date | None = None) -> Verdict:
    """Judge ``heard`` (the reply's spoken text) for ``turn``.

    ``caller_so_far``: what the caller said in this call up to and including this turn (the numbers they
    gave may be said back); ``transcript``: what the server heard this turn (a misheard number the agent
    repeats is a recognition error, not an invented fact); ``today``: the day of the call (default: the
    day it is), against which a date read back is checked."""
    text = normalize(heard)
    passed: list[str] = []
    failed: list[str] = []

    def check(name: str, ok: bool) -> None:
        (passed if ok else failed).append(name)

    check("answered", bool(text))
    for group in turn.expect:
        check(_label(group), any(contains(text, alt) for alt in group))
    for claim in turn.forbid:
        check(f"avoids {claim!r}", not contains(text, claim))
    allowed = {normalize(n) for n in (*persona_numbers, *turn.allow_numbers)} | set(ALWAYS_ALLOWED)
    allowed |= true_dates(heard, today or datetime.date.today())
    for said in (*caller_so_far, transcript):
        allowed.update(numbers_in(normalize(said)))
    invented = [n for n in numbers_in(text) if not number_allowed(n, allowed)]
    check("invents no number" if not invented else f"invents no number (said {', '.join(invented)})",
          not invented)
    check("does not echo the caller", not echoes(turn.say, heard) and not echoes(transcript, heard))
    return Verdict(tuple(passed), tuple(failed))
