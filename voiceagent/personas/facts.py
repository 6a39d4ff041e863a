"""Which of a persona's facts a caller's words are about: for grounding a turn and checking a reply.

Generic: the only vocabulary that is not plain English question words comes from the persona itself
(weekday names, service names and their aliases, the things it does not do, its policies).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Literal

from voiceagent.personas.model import WEEKDAYS, Business, Service, Weekday
from voiceagent.personas.render import (
    agent_can_sentence,
    hours_sentence,
    service_sentence,
    services_sentence,
    vocabulary,
    week_sentence,
)
from voiceagent.personas.words import NUMBER_WORDS, STOPWORDS, Heard, content_stems, stem, tokens

FactKind = Literal["identity", "address", "phone", "hours", "week", "service", "prices", "services", "not_offered",
                   "policy", "agent_can"]

def _stems(*words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


# Plain English cues (as stems) for the kinds of question a caller asks.
# (HOURS_CUES: a question about the hours uses one of these.)
HOURS_CUES = _stems("open", "opening", "close", "closing", "hours", "time", "when", "late", "early", "shut")
PRICE_CUES = _stems("price", "cost", "charge", "fee", "much", "expensive", "cheap", "quote")
_SERVICES = _stems("services", "offer", "provide")
# The words that ask for a whole list by name ("your prices", "opening hours", "what services"): then the
# list is the answer. "When", "time" or "how much" alone also match a list, but as context only.
_ASKS_WEEK = _stems("open", "opening", "close", "closing", "hours", "shut")
# Only the plural asks for every price: "How much does a new battery cost?" asks about one thing, which
# may be one the business does not sell ("I don't know" is then the right answer, not the price list).
_ASKS_PRICES = frozenset({"prices", "pricing", "rates", "fees", "charges", "costs"})
_ASKS_SERVICES = _stems("services")
_ADDRESS = _stems("where", "whereabouts", "address", "located", "location", "directions", "street", "find", "based")
_PHONE = _stems("phone", "number")
_IDENTITY = _stems("reached", "speaking", "talking")  # "who am I speaking to?", "have I reached ...?"
# "who" asks who answers only about the one answering: "who is this?", "who are you?", not "who won the game?"
_WHO_ANSWERS = frozenset(("this", "you", "are"))
_WEEKEND: tuple[Weekday, ...] = ("saturday", "sunday")
_DAY_BY_WORD: dict[str, Weekday] = {**{d: d for d in WEEKDAYS}, **{f"{d}s": d for d in WEEKDAYS}}
# Words of asking a price, which name no thing ("roughly how much would it cost me?")
ASKS_PRICE = PRICE_CUES | {stem("pay")}
PRICE_WORDS = ASKS_PRICE | frozenset(stem(w) for w in tokens(
    "costs prices priced charges fees rate rates dollars pounds euros roughly approximately"))
# Words that say when, not what: they name no policy alone (the hours answer them: "What time do you open?"
# is no question about a hospital "open 24 hours a day")
_WHEN = frozenset(content_stems("open opens opening am pm night nights tonight morning mornings afternoon evening evenings "
                                "day days daily "
                                "hour hours week weeks weekly weekend month months year years minute minutes "
                                "today tomorrow time times before after"))
_COST = frozenset(content_stems("charge charged charges cost costs price prices"))  # name no policy alone
# Every word above that points at a kind of fact, and the times of a day or week a caller asks the hours
# by ("what time do you start on a weekday morning?"): a question using one is about the business's facts.
FACT_CUES = (HOURS_CUES | PRICE_CUES | _SERVICES | _ADDRESS | _PHONE | _IDENTITY | _ASKS_PRICES
             | _stems("start", "starting", "finish", "weekday", "weekdays", "weekend", "morning", "afternoon",
                      "evening", "night", "tonight", "today", "tomorrow", *WEEKDAYS))
MOST_SHARING = 3  # more services than this share the word: it names none of them, the price list answers
_ALTERNATIVES = re.compile(r"\s*(?:,|/|\bor\b|\band\b)\s*")


@dataclasses.dataclass(frozen=True, slots=True)
class Fact:
    """One fact that bears on what the caller said, as the sentence to put beside the question.

    ``day`` is set for a weekday's hours and ``service`` for one service, so that a reply can be
    checked against the fact itself (open or closed that day, the price). ``asked`` is set on a list
    (the week, every price, every service) that the caller asked for by its own words.
    """

    kind: FactKind
    text: str
    day: Weekday | None = None
    service: Service | None = None
    asked: bool = False


def identity_sentence(business: Business) -> str:
    """Who answers: ``"This is Oak Street Garage, a car repair garage."``."""
    kind = business.kind
    return f"This is {business.name}, {'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}."


def relevant_facts(business: Business, said: str, today: Weekday | None = None,
                   at: datetime.time | None = None) -> tuple[Fact, ...]:
    """The facts that match the caller's words ``said``, in the order the prompt lists them.

    Weekday names (or "today", "tomorrow" when ``today`` is given, "weekend") give that day's hours;
    "open", "hours", "when" without a day give the week; a service's name or alias gives that service
    with its price; "price", "how much" without one give every price; "where", "address" the address;
    what the business does not do, its policies and what the agent can do match on their own words.
    ``at``: the time of day the caller named, if any (read by the caller of this function); one at which
    the business opens on no day ("It's 11 at night and my dog's eaten chocolate"), or a question of what
    happens when it is closed, gives the policies that say what happens then.
    """
    heard = Heard(said)
    facts: list[Fact] = []
    named = names_business(business, heard)
    if named or heard.has_any(_IDENTITY) or ("who" in heard.words and not _WHO_ANSWERS.isdisjoint(heard.words)):
        facts.append(Fact("identity", identity_sentence(business)))
    # "Is this Oak Street Garage?" asks who answers, not where: the name's own words are no cue
    cues = Heard(re.sub(re.escape(business.name), " ", said, flags=re.IGNORECASE))
    if named:  # "Is this Oak Street?"
        cues.stems -= set(content_stems(business.name))
    if business.address and cues.has_any(_ADDRESS):
        facts.append(Fact("address", f"Address: {business.address}."))
    if business.phone and cues.has_any(_PHONE):
        facts.append(Fact("phone", f"Phone: {business.phone}."))
    facts += _hours_facts(business, heard, today)
    facts += _service_facts(business, heard, said)
    facts += _word_facts(business, heard)
    facts += [f for f in _out_of_hours_facts(business, said, at) if f not in facts]
    return tuple(facts)


_OUT_OF_HOURS = r"out[ -]of[ -]hours|after[ -]hours|outside (?:of )?(?:our |your |opening |business )?hours"
# A policy that says what happens when the business is closed ("when we are closed, call ...", "no
# out-of-hours call-outs")
_WHEN_CLOSED = re.compile(rf"\b(?:closed|{_OUT_OF_HOURS}|overnight|emergenc(?:y|ies))\b", re.IGNORECASE)
# A caller asking what happens out of hours ("What if I need a plumber when you're closed?")
_ASKS_WHEN_CLOSED = re.compile(r"\b(?:when|if|while|after)\s+(?:you're|you are|you|they're|it's|it is|the \w+ is)\s+"
                               rf"(?:closed|shut)\b|\b(?:{_OUT_OF_HOURS})\b", re.IGNORECASE)


def _out_of_hours_facts(business: Business, said: str, at: datetime.time | None) -> list[Fact]:
    """The policies about being closed, when the caller asks what happens then, or names a time of day
    (``at``) no day's hours hold."""
    if not _ASKS_WHEN_CLOSED.search(said) and (at is None or business.open_at_some_time(at)):
        return []
    return [Fact("policy", p) for p in business.policies if _WHEN_CLOSED.search(p)]


def short_name(business: Business) -> str:
    """The words of the business's name that are not words of what it is: "Meadowbrook" of Meadowbrook
    Veterinary Clinic (a veterinary clinic), "Oak Street" of Oak Street Garage (a car repair garage); ""
    when every word of the name says what it is."""
    kind = set(content_stems(business.kind))
    return " ".join(w for w in tokens(business.name) if w not in STOPWORDS and stem(w) not in kind)


def names_business(business: Business, heard: Heard) -> bool:
    """Whether the caller named the business: its whole name, or the part of it that is its own (see
    :func:`short_name`; "Is that Meadowbrook vets?")."""
    short = short_name(business)
    return heard.says_phrase(business.name) or bool(short) and heard.says_phrase(short)


def days_named(said: str, today: Weekday | None = None) -> tuple[Weekday, ...]:
    """The weekdays the caller named, in the order said: "Mondays" counts, "today" needs ``today``."""
    return _days(Heard(said).words, today)


def _days(words: list[str], today: Weekday | None) -> tuple[Weekday, ...]:
    days: list[Weekday] = []
    for word in words:
        named: tuple[Weekday, ...] = ()
        if word in _DAY_BY_WORD:
            named = (_DAY_BY_WORD[word],)
        elif word in ("weekend", "weekends"):
            named = _WEEKEND
        elif today is not None and word in ("today", "tonight", "tomorrow"):
            named = (WEEKDAYS[(WEEKDAYS.index(today) + (word == "tomorrow")) % 7],)
        days += [day for day in named if day not in days]
    return tuple(days)


def _hours_facts(business: Business, heard: Heard, today: Weekday | None) -> list[Fact]:
    days = _days(heard.words, today)
    if days:
        return [Fact("hours", hours_sentence(business, day), day=day) for day in days]
    if heard.has_any(HOURS_CUES) or any(w.startswith("weekday") for w in heard.words):
        return [Fact("week", week_sentence(business), asked=heard.has_any(_ASKS_WEEK))]
    return []


def _service_facts(business: Business, heard: Heard, said: str) -> list[Fact]:
    named = named_services(business, heard)
    if not named:
        named = sharing_the_priced_word(business, said)
    if named:
        return [Fact("service", service_sentence(s, business.currency), service=s) for s in named]
    if business.services and heard.has_any(PRICE_CUES):
        text = " ".join(service_sentence(s, business.currency) for s in business.services)
        return [Fact("prices", text, asked=not _ASKS_PRICES.isdisjoint(heard.words))]
    if business.services and heard.has_any(_SERVICES):
        return [Fact("services", services_sentence(business), asked=heard.has_any(_ASKS_SERVICES))]
    return []


def named_services(business: Business, heard: Heard) -> list[Service]:
    """The services the caller named by a name or alias, but for one named only by words that are part
    of another's longer name the caller said: "a beard trim" names the beard trim, not the men's haircut
    ("trim")."""
    phrases = [[frozenset(content_stems(p)) for p in (s.name, *s.aliases) if heard.says_phrase(p)]
               for s in business.services]  # each service's phrases the caller said, as their words
    longer = [theirs for said in phrases for theirs in said]
    return [s for s, said in zip(business.services, phrases, strict=True) if said and not any(
        all(mine < theirs for mine in said) for theirs in longer)]


def sharing_the_priced_word(business: Business, said: str) -> list[Service]:
    """The services whose names (or aliases) hold the word whose price ``said`` asks (:func:`priced_thing`),
    when several of them share it: "How much is a cut?" at a salon with a women's and a men's cut gets
    both, not the whole price list. At most :data:`MOST_SHARING` of them; none when only one holds the
    word (part of one name is not that service: a "new radiator" is no new water heater), or when the word
    is one of the business's name or kind ("hair" at a hair salon)."""
    priced = {stem(w) for w in priced_thing(said)} - set(content_stems(f"{business.name} {business.kind}"))
    sharing = [s for s in business.services
               if not priced.isdisjoint(w for p in (s.name, *s.aliases) for w in content_stems(p))]
    return sharing if 2 <= len(sharing) <= MOST_SHARING else []


def alternatives(item: str) -> list[str]:
    """The things one "not offered" entry names: "nails or manicures" names nails and manicures; in "kitchen
    or bathroom remodeling" the last word is shared, so it names kitchen remodeling (a kitchen tap is no
    kitchen remodeling) and bathroom remodeling."""
    parts = [part for part in _ALTERNATIVES.split(item) if part]
    last = parts[-1].split() if parts else []
    if len(parts) > 1 and len(last) > 1 and all(len(part.split()) == 1 for part in parts[:-1]):
        return [f"{part} {last[-1]}" for part in parts[:-1]] + [parts[-1]]
    return parts


def _word_facts(business: Business, heard: Heard) -> list[Fact]:
    """Things not done, policies and what the agent can do, matched on their own words.

    Words of the business's own name and kind ("garage", "dental") are too general to pick a fact.
    """
    general = set(content_stems(f"{business.name} {business.kind}"))
    facts: list[Fact] = []
    for item in business.not_offered:
        if any(heard.says_phrase(alt) for alt in alternatives(item)):
            facts.append(Fact("not_offered", f"We do not do {item}. {services_sentence(business)}".strip()))
    # "How much do you charge for a cut?" asks a price, not about the policy on what no-shows are charged;
    # "Can I book for 7 pm?" or "It's 11 at night" is no question about "no food after 10 pm the night before"
    facts += [Fact("policy", p) for p in business.policies if _names_policy(business, heard, p, general)]
    if any(heard.shares_word(item, general) for item in business.agent_can):
        facts.append(Fact("agent_can", agent_can_sentence(business)))
    return facts


_CONDITION = frozenset(("if", "unless", "happens"))


def _names_policy(business: Business, heard: Heard, policy: str, general: set[str]) -> bool:
    """Whether the caller's words name ``policy``: a word of it (not a number, nor a word of the
    business's name or kind, of cost or of when), and, when only one is shared, no more than one word
    the business knows nothing of ("Do you sell prescription dog food?" shares "food" with "no food after 10 pm before a dental
    cleaning", but "sell" and "prescription" say it asks about something else). A caller who asks what
    happens if (a policy's own question: "What if I'm running a bit late?") needs only the one word."""
    shared = {w for w in heard.stems & set(content_stems(policy)) if not w.isdigit()} - general - _COST - _WHEN
    if len(shared) != 1 or not _CONDITION.isdisjoint(heard.words):  # "What if I'm running a bit late?"
        return bool(shared)
    known = vocabulary(business) | FACT_CUES
    return sum(1 for w in set(heard.words)
               if w not in STOPWORDS and w not in NUMBER_WORDS and not w.isdigit() and stem(w) not in known) < 2


def priced_thing(said: str) -> list[str]:
    """The last word of meaning in the clause of ``said`` that asks a price (a list of one, or empty), which
    names what is priced: "radiator" in "How much do you charge to fit a new radiator?", where "fit" and
    "new" may be words the persona knows; "softener" in "What would a water softener cost to fit?" (a verb
    after "to" names nothing); none in "how much to look at it?" after "My car is making a squeaky noise"."""
    for clause in re.split(r"[,;:.?!]", said):
        words = tokens(clause)
        if any(stem(w) in ASKS_PRICE for w in words):  # a verb after "to" names no thing ("cost to fit?")
            return naming([w for w, before in zip(words, ["", *words], strict=False) if before != "to"])[-1:]
    return []


def naming(words: list[str]) -> list[str]:
    """The ``words`` that may name a thing: no common word, number or word of price."""
    return [w for w in words if w not in STOPWORDS and not w.isdigit() and stem(w) not in PRICE_WORDS]
