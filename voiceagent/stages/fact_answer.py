"""A question the persona's facts answer whole, answered from them without the model.

"Are you open on Sunday?", "How much is a boiler service?", "Where are you?", "Do you take cash?": the
facts matched to the caller's words (:func:`voiceagent.personas.relevant_facts`) already hold the answer,
and the reply the model would write from them is at best the same sentence, at worst a wrong number or
"You're welcome!". Composing it from the facts skips the model (its prompt evaluation and first token,
about half the time to a reply on a 2-core machine) and cannot contradict them.

Only a question is answered so, and only when every fact that answers it is of a kind that can be said
whole (who answers, to a caller who names the business: "Hello, is this Bright Smile Dental?"; a day's
hours, the week, a service's price, the address, the phone number, something not done, a policy), at most
:data:`MOST_FACTS` of them; a day's hours only to a question about the hours ("open", "close", "when",
"time" ..., or "do you do", "are you around": "Is it going to snow this weekend?" names days too). A
service named beside something not done ("tyres for my motorcycle", "a manicure while my colour's on") gets
the refusal with what is done: the owner wrote that thing down as not done, and the caller said it (a
"kitchen tap" names no kitchen remodeling: see :func:`voiceagent.personas.facts.alternatives`).
Anything else (small talk, a question no fact answers, a fact that only comes as context, who answers
when the business is not named, a request the call's actions handle) is left to the model.

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voiceagent.personas.facts import HOURS_CUES, PRICE_CUES, Fact, names_business
from voiceagent.personas.model import Business
from voiceagent.personas.render import say_day_hours, say_duration, say_price, week_sentence
from voiceagent.personas.words import Heard
from voiceagent.stages.reply_check import answering, speakable

MOST_FACTS = 2  # more than this and the question was not about one thing: the model answers
_SAYABLE = frozenset({"identity", "hours", "week", "service", "prices", "services", "address", "phone", "not_offered",
                      "policy"})
# A question opens with one of these words, or ends with a question mark (the recogniser may leave it out).
_OPENS_AS_QUESTION = re.compile(r"^\W*(?:how|what|when|where|which|do|does|did|is|are|can|could|will|would|have|has)\b",
                                re.IGNORECASE)


# Asked of the business, with a day named, these ask its hours as surely as "open" does: "Do you do
# Saturdays?", "Are you guys around on Sunday?", "Do you work weekends?" (not "Is Megan working Saturday?").
_AT_WORK = re.compile(r"\b(?:do|are|will|would)\s+you(?:\s+(?:guys|lot|folks|all))?\s+"
                      r"(?:do|work|working|around|available|in)\b", re.IGNORECASE)

_CLAUSE_END = re.compile(r"(?<=[,;:.?!])\s+")
# A clause after the first asks when it opens with a word of asking, or a verb before who it asks about.
_CLAUSE_ASKS = re.compile(r"^\W*(?:how|what|when|where|which|(?:do|does|did|is|are|can|could|will|would|have|has)"
                          r"\s+(?:you|i|we|it|there|they|he|she|my|your))\b", re.IGNORECASE)


def clauses(said: str) -> list[str]:
    """``said`` cut after each comma, semicolon, colon or sentence end."""
    return [c for c in _CLAUSE_END.split(said.strip()) if c]


def is_question(said: str) -> bool:
    """Whether ``said`` is a question: it ends with a question mark, opens as one, or a later clause asks
    ("If something comes up, how much notice do you need", where the recogniser left out the mark; but
    not "Thank you, have a good day.")."""
    return (said.strip().endswith("?") or opens_as_question(said)
            or any(_CLAUSE_ASKS.search(c) for c in clauses(said)[1:]))


def opens_as_question(said: str) -> bool:
    """Whether ``said`` opens with a word of asking ("how", "do", "can" ...)."""
    return bool(_OPENS_AS_QUESTION.search(said))


def fact_answer(business: Business | None, said: str, facts: Sequence[Fact], *,
                questions_only: bool = True) -> str | None:
    """The reply to ``said`` composed from ``facts`` (those matched to it), or None when the model should
    answer (see the module's description). ``questions_only`` False: ``said`` need not read as a question
    (the model took it for a request of an action it does not ask for: "I'll open on Saturday?", a
    misheard "Are you open on Saturday?")."""
    if business is None or questions_only and not is_question(said):
        return None
    answers = answering(facts)
    kinds = {f.kind for f in answers}
    if {"service", "not_offered"} <= kinds:  # "tyres for my motorcycle", "a manicure while my colour's on"
        answers = [f for f in answers if f.kind == "not_offered"]
    if not answers or len(answers) > MOST_FACTS or any(f.kind not in _SAYABLE for f in answers):
        return None
    asks_hours = Heard(said).has_any(HOURS_CUES) or _AT_WORK.search(said) is not None
    if any(f.kind == "hours" for f in answers) and not asks_hours:
        return None  # a day named in another question: "Is it going to snow this weekend?"
    if any(f.kind == "identity" for f in answers) and not names_business(business, Heard(said)):
        return None  # "Am I talking to a real person?" asks who answers, which the model says
    asks_price = Heard(said).has_any(PRICE_CUES)
    return " ".join(_no_price(fact) if asks_price and _unpriced(fact) else fact_sentence(business, fact)
                    for fact in answers)


def _unpriced(fact: Fact) -> bool:
    return fact.kind == "service" and fact.service is not None and fact.service.price is None


def _no_price(fact: Fact) -> str:
    """A price asked of a service the business gives none for: it is done, no price is made up, and a
    message offered ("We do a table reservation, but I don't have a price for it. ...")."""
    assert fact.service is not None
    return (f"We do {fact.service.name}, but I don't have a price for it. "
            "I can take a message and have someone call you back.")


def fact_sentence(business: Business, fact: Fact) -> str:
    """One fact as the agent says it. No "yes" in front: "Are you open on Saturday afternoon?" is
    answered right by the hours alone, wrongly by "Yes, ..."."""
    if fact.kind == "hours" and fact.day is not None:
        day = fact.day.title()
        hours = business.hours_on(fact.day)
        if hours.closed:
            return f"Sorry, we're closed on {day}. We're {_lower_first(week_sentence(business, closed_days=False))}"
        return f"On {day} we're open {say_day_hours(hours)}."
    if fact.kind == "week":
        return f"We're {_lower_first(week_sentence(business))}"
    if fact.kind == "service" and fact.service is not None:
        service = fact.service
        if service.price is None:
            return f"We do {service.name}. {service.notes}".strip()
        plural = re.search(r"[^su]s$", service.name) is not None  # "highlights", "brake pads"; not "glass"
        if plural:
            text = f"{service.name[:1].upper()}{service.name[1:]} are {say_price(service, business.currency)}"
        else:
            article = "An" if service.name[:1].lower() in "aeiou" else "A"
            text = f"{article} {service.name} is {say_price(service, business.currency)}"
        if service.duration_minutes:
            text += f" and take{'' if plural else 's'} about {say_duration(service.duration_minutes)}"
        return f"{text}. {service.notes}".strip() if service.notes else f"{text}."
    if fact.kind == "address":
        return f"We're at {business.address}."
    if fact.kind == "phone":
        return f"Our number is {business.phone}."
    if fact.kind == "not_offered":
        return "Sorry, " + speakable(fact.text.replace("We do not do", "we don't do", 1))
    if fact.kind in ("prices", "services"):
        return speakable(fact.text)
    return fact.text  # a policy, as the owner wrote it


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
