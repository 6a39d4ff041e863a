"""An action's arguments from what the caller actually said: grounding the model's values, and reading
missing ones straight from the caller's words.

A small model fills arguments it was never told (the business's own name as the caller's, a day nobody
said). Here every value must be found in the caller's words, or it is dropped and asked for. Generic
English only: the business vocabulary (service names and aliases) comes from its persona.
"""

from __future__ import annotations

import datetime
import re

from voiceagent.actions.when import number_value, resolve_day, resolve_time
from voiceagent.personas.model import Business
from voiceagent.personas.words import STOPWORDS, Heard, tokens

# The kind of value an argument holds, from its name (custom actions: anything else is free text)
NAME_ARGS = frozenset({"name", "caller_name", "full_name"})
PHONE_ARGS = frozenset({"phone", "number", "phone_number", "callback", "call_back_number"})
DAY_ARGS = frozenset({"day", "date"})
TIME_ARGS = frozenset({"time"})
SERVICE_ARGS = frozenset({"service", "reason"})
PARTY_ARG = "party"  # how many people a booking is for: read when said, never asked for

_NUMBER_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "double": "", "triple": ""}
_NAMED = re.compile(r"\b(?:my name is|my name's|name is|name's|the name is)\s+"  # any case: "my name is peter"
                    r"([A-Za-z][A-Za-z'’-]*(?:\s+[A-Za-z][A-Za-z'’-]*){0,2})", re.IGNORECASE)
_INTRODUCED = re.compile(r"\b(?:[Tt]his is|[Ii]t's|[Ii]t is|I'm|I am)\s+"  # a capitalised name only: not "I'm calling"
                         r"([A-Z][A-Za-z'’-]*(?:\s+[A-Z][A-Za-z'’-]*){0,2})")
_CAPITALISED = re.compile(r"\b([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2})\b")
_NOT_NAMES = frozenset(tokens("""
monday tuesday wednesday thursday friday saturday sunday today tomorrow morning afternoon evening
january february march april may june july august september october november december
yes no okay sure thanks thank please hi hello hey good great fine sorry actually well so and but the
a an my it's this that i i'm can could would next week am pm noon midday o'clock
""")) | STOPWORDS


def digits(text: str) -> str:
    """Every digit said, figures and number words alike: ``"555 oh one 42"`` -> ``"55501 42"`` without spaces."""
    out: list[str] = []
    for token in re.findall(r"[a-z]+|\d+", text.lower()):
        out.append(token if token.isdigit() else _NUMBER_WORDS.get(token, ""))
    return "".join(out)


def spaced_digits(phone: str) -> str:
    """A number as it is said back, digit by digit: ``"5550199"`` -> ``"5 5 5 0 1 9 9"`` (else as it is)."""
    return " ".join(phone) if phone.isdigit() else phone


def phone_in(text: str) -> str:
    """A call-back number in ``text`` (six digits or more), or ""."""
    found = digits(text)
    return found if len(found) >= 6 else ""


def name_in(text: str) -> str:
    """A person's name the caller gave: after "my name is", "this is", "I'm" ..., or a run of capitalised
    words that are not days, months or common words (speech-to-text capitalises names). "" if none."""
    found = names_in(text)
    return found[0] if found else ""


# Words around an introduction that ask or tell nothing ("yet" and "yep": "yes" as the recogniser hears it)
_INTRODUCING = frozenset(tokens("hi hello hey yes yeah yep yup yet sure right okay ok so well um uh good morning "
                                "afternoon evening there my name is the"))


def introduction_only(text: str) -> str:
    """The caller's name when ``text`` gives it after "my name is" and says nothing else ("Hi, my name is
    Tom Wilson."); "" when it also asks or tells something ("My name is Tom, I'd like to book")."""
    if _NAMED.search(text) is None:
        return ""
    name = name_in(text)
    rest = set(tokens(text)) - set(tokens(name)) - _INTRODUCING
    return name if name and not rest else ""


# An introduction's opening and a few words after it, and nothing else ("Sure, it's all it be accused.": a
# name the line garbled). Words that open a message ("It's about my bill", "It's for the vet") are no name.
_NAME_ATTEMPT = re.compile(
    r"^\W*(?:(?:sure|yes|yeah|yep|yup|yet|okay|ok|right|hi|hello|so|well)\W+)*"
    r"(?:it's|it is|this is|i'm|i am|my name is|my name's|the name's|the name is|name's)\s+"
    r"(?!(?:about|regarding|re|for|to|that|because|my|our|his|her|their|the|a|an|not|urgent|important)\b)"
    r"[\w'’-]+(?:[\s,.-]+[\w'’-]+){0,4}[\W]*$", re.IGNORECASE)


def name_attempt(text: str) -> bool:
    """Whether ``text`` only gives the caller's name, however garbled ("It's Olivia Hughes.", "Sure, it's
    all it be accused."): an introduction's opening and at most five words after it. Such words are never
    the caller's message (see :func:`message_text`); "It's about my bill from Monday." is one."""
    return _NAME_ATTEMPT.match(text) is not None


# Words just before a name that make it someone else's: a title ("Dr Patel", "Mrs Hughes"), or the one a
# message is for or the caller wants to speak to ("a message for Megan Price", "speak to John Smith")
_SOMEONE_ELSE = re.compile(r"(?:\b(?:dr|doctor|mr|mrs|ms|miss|nurse)\.?"
                           r"|\b(?:message|note)\s+(?:for|to)|\b(?:speak|talk)\s+(?:to|with)"
                           r"|\b(?:tell|ask))\s*$", re.IGNORECASE)


def names_in(text: str) -> list[str]:
    """Every name in ``text`` found as :func:`name_in` finds one, introduced ones first."""
    names: list[str] = []
    for match in [*_NAMED.finditer(text), *_INTRODUCED.finditer(text)]:
        words = [w for w in match.group(1).split() if _name_word(w)]
        kept: list[str] = []
        for word in words:
            if tokens(word) and tokens(word)[0] in _NOT_NAMES:
                break
            kept.append(word.strip(",.'’"))
        if kept:
            names.append(" ".join(w[:1].upper() + w[1:] for w in kept))
    whole = tokens(text)
    for match in _CAPITALISED.finditer(text):
        if _SOMEONE_ELSE.search(text[:match.start()]):  # "a message for Dr Patel": not the caller
            continue
        words = [w for w in match.group(1).split() if _name_word(w) and tokens(w)[0] not in _NOT_NAMES]
        # Without a cue, a first and last name ("John Smith, Tuesday"), or a name said on its own ("Anna."):
        # a lone capitalised word in a sentence is as likely a place or a misheard word.
        if len(words) >= 2 or (words and [t for w in words for t in tokens(w)] == whole):
            names.append(" ".join(words))
    return names


def _name_word(word: str) -> bool:
    return bool(tokens(word)) and not any(ch.isdigit() for ch in word)


def service_in(business: Business | None, text: str) -> str:
    """The persona's service the caller named (by name or alias), or ""."""
    if business is None:
        return ""
    heard = Heard(text)
    for service in business.services:
        if any(heard.says_phrase(p) for p in (service.name, *service.aliases)):
            return service.name
    return ""


# "I'm booked for Wednesday", "I booked an MOT for Tuesday", "my appointment on Tuesday at 10", "it's for
# Tuesday" (the visit to be moved),
# "change Tuesday to Friday", "from Monday to Wednesday" (a day straight after the verb, or after "from", is
# the one moved from):
# the appointment the caller has now, to the end of its clause (", can we make it Friday?", " to Thursday").
# "I'm book for": the phone line lost "-ed".
_CURRENT_BOOKING = re.compile(
    r"(?:\b(?:booked|booking|appointment|reservation|scheduled|i'm book|i am book|i'm in|i am in|i'm down|i am down)"
    r"(?:\s+(?!(?:to|till|until|instead|but|and|for|on|at)\b|(?:mon|tues|wednes|thurs|fri|satur|sun)day)[\w'’-]+){0,2}?"  # "booked an MOT for"
    r"\s+(?:for|on|at)|\b(?:it's|it is|it was)\s+(?:for|on)"
    r"|\b(?:change|move|reschedule|from)(?=\s+(?:today|tomorrow|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b))\s+"
    r"[^,.;!?]*?(?=[,.;!?]|\s+(?:to|but|and|instead|can|could|would)\b|$)", re.IGNORECASE)


def without_current_booking(text: str) -> str:
    """``text`` without the words that place the caller's present appointment ("It's Mike, I'm in on Monday
    for brakes. Can we make it Thursday?" -> "It's Mike,  Can we make it Thursday?"): a move reads the
    new day and time from what is left."""
    return _CURRENT_BOOKING.sub(" ", text)


_COUNT = (r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
          r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty)")
# "a table for four", "six people", "there'll be 5 of us", "a party of 8": how many a booking is for
_PARTY = re.compile(rf"\b(?:(?:table|booking|reservation|party|room)\s+for\s+(?:the\s+)?{_COUNT}\b(?!\s*(?:am|pm|a\.m|p\.m|o'clock|:))"
                    rf"|{_COUNT}\s+(?:people|persons|guests|adults|diners|of us)\b|party of\s+{_COUNT}\b)", re.IGNORECASE)


def party_in(text: str) -> str:
    """How many people a booking is for, when the caller says ("a table for four", "six of us"), as
    digits; "" when not said."""
    found = _PARTY.search(text)
    if found is None:
        return ""
    count = number_value(next(g for g in found.groups() if g).lower())
    return str(count) if 0 < count <= 100 else ""


def current_booking(text: str) -> str:
    """The words of ``text`` that place the caller's present appointment ("booked for Saturday at seven"),
    or "": what :func:`without_current_booking` leaves out."""
    return " ".join(found.group() for found in _CURRENT_BOOKING.finditer(text))


def is_free_text(arg: str) -> bool:
    """Whether ``arg`` holds free text (a message), not a name, number, day, time or service."""
    return arg != PARTY_ARG and not any(arg in kind for kind in (NAME_ARGS, PHONE_ARGS, DAY_ARGS, TIME_ARGS, SERVICE_ARGS))


def value_from_words(arg: str, business: Business | None, text: str, today: datetime.date) -> str:
    """The value of argument ``arg`` read from the caller's ``text`` alone ("" when it is not there): a
    day as an ISO date, a time as ``HH:MM``. Free-text arguments are not read this way (see
    :func:`message_text`)."""
    if arg in NAME_ARGS:
        name = name_in(text)
        return "" if name.lower() in _business_names(business) else name
    if arg in PHONE_ARGS:
        return phone_in(text)
    if arg in DAY_ARGS:
        day = resolve_day(text, today)
        return day.isoformat() if day is not None else ""
    if arg in TIME_ARGS:
        at = resolve_time(text, business.open_at_some_time if business is not None else None)
        return at.strftime("%H:%M") if at is not None else ""
    if arg in SERVICE_ARGS:
        return service_in(business, text)
    return ""


def grounded(arg: str, value: str, said: str, business: Business | None, today: datetime.date) -> bool:
    """Whether the model's ``value`` for ``arg`` is found in what the caller ``said`` (all of the call)."""
    value = value.strip()
    if not value:
        return False
    if arg in PHONE_ARGS:
        wanted = digits(value)
        return len(wanted) >= 6 and wanted in digits(said)
    if arg in DAY_ARGS:
        day = resolve_day(value, today)
        return day is not None and day == resolve_day(said, today) or _all_words_said(value, said)
    if arg in TIME_ARGS:
        opens = business.open_at_some_time if business is not None else None
        at = resolve_time(value, opens)
        return at is not None and at == resolve_time(said, opens)
    if arg in SERVICE_ARGS and business is not None and business.services:
        return service_in(business, value) != "" and service_in(business, value) == service_in(business, said)
    if arg in NAME_ARGS:  # the caller's own words must give it as a name ("the mechanic" is not one)
        name_words = tokens(value)
        return value.lower() not in _business_names(business) and any(
            name_words and all(w in tokens(name) for w in name_words) for name in names_in(said))
    return _share_of_words_said(value, said) >= 0.6


def _all_words_said(value: str, said: str) -> bool:
    heard = set(tokens(said))
    wanted = tokens(value)
    return bool(wanted) and all(w in heard for w in wanted)


def _share_of_words_said(value: str, said: str) -> float:
    heard = Heard(said)
    wanted = [w for w in tokens(value) if w not in STOPWORDS]
    if not wanted:
        return 0.0
    return sum(1 for w in wanted if Heard(w).stems <= heard.stems) / len(wanted)


def _business_names(business: Business | None) -> set[str]:
    return set() if business is None else {business.name.lower(), business.agent_name.lower()}


# A number as said or as speech-to-text writes it: "555 0199", "5, 5, 5, 0, 1, 9, 9", "five five five. 0 1 9 9"
_DIGIT_TOKEN = r"(?:\d+|zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"
_DIGIT_RUN = re.compile(rf"\b\d[\d\s-]{{4,}}\d\b|\b{_DIGIT_TOKEN}(?:[\s,.-]+{_DIGIT_TOKEN}\b){{2,}}", re.IGNORECASE)
# Words that say nothing a member of staff could act on ("Bye, bye, bye" is "five five five" misheard)
_NOT_MESSAGE = frozenset(tokens("bye by buy yes yeah yep okay ok um uh er hmm hi hello thanks thank you please sorry"))


def message_text(text: str) -> str:
    """The message itself from a caller's turn, without the name and number given in it: "It's Mary,
    555 0199, please call me about my brakes" -> "please call me about my brakes". "" when fewer than
    three words are left, not counting words such as "yes", "bye" or "um"."""
    rest = _INTRODUCED.sub(" ", _NAMED.sub(" ", text))
    rest = re.sub(r"\b(?:my|the|our) (?:phone |call-back |callback )?number(?: is|'s)?\b", " ", rest, flags=re.IGNORECASE)
    rest = _DIGIT_RUN.sub(" ", rest)
    rest = re.sub(r"\s+", " ", rest).strip(" ,.")
    return rest if len([t for t in tokens(rest) if t not in _NOT_MESSAGE]) >= 3 else ""
