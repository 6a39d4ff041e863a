"""Checks of what the agent is about to say, clause by clause, before it is spoken.

A small model answers fluently and often wrongly. Each clause is checked against the persona's facts and
the conversation before it goes to speech synthesis:

- ``invented_number``: a number that is in no fact of the persona and was not said by the caller;
- ``closed_day``: a closed weekday spoken of as open (open, available, come in, see you ..., or hours:
  "we do Sunday at 9 am", judged on the whole sentence, which may reach the check in pieces), or, when the
  caller asked about one closed day, "open" said without a day (the model's "We are open" and "on
  Sunday." reach the check as two clauses);
- ``open_day``: a weekday the business opens spoken of as closed (or "we are closed" without a day, when
  the caller asked about one open day);
- ``wrong_price``: a price said for something that is not the service with that price (neither the
  clause nor the caller named it);
- ``unasked_price``: the price of a service the caller did not name, to a caller who asked about something
  no fact of the persona mentions ("How much would a perm cost?" answered "A ladies' cut is 55 dollars.":
  a small model gives the nearest price it knows);
- ``wrong_place``: asked where the business is, the reply places something ("is in the garage", "is
  located near ...") with no word of the persona's address (a small model answers "Where's the garage?"
  misheard as "Where's the brush?" with "The brush is in the garage.");
- ``unsupported_yes``: the reply opens with a yes to something the business does not do, or to a
  question no fact of the persona answers (a small model says yes to whatever it is asked);
- ``unsupported_no``: the reply opens by denying the business has or allows something ("No, no walk-ins.",
  "Sorry, we don't offer discounts for seniors.") to a question no fact of the persona answers: a small
  model says no to what it does not know as readily as yes. A refusal of work ("we don't do tattoos", "we
  can't fix cars") is no such denial: it is what an out-of-scope request should get;
- ``denies_fact``: the reply's first sentence denies something a fact of the persona that answers the
  caller says it has ("There are no warranties on your repairs." when parts and labour have a 12-month
  warranty; "we don't do brake pads" when brake pads are a service), or denies what the business is or
  sells, whatever was asked ("Sorry, we don't do plumbing or heating." from a plumbing and heating
  company, to "Are your plumbers licensed?");
- ``identity_only``: the reply's first sentence says only who answers ("Bright Smile Dental, This is Bright
  Smile Dental, a dental practice.") to a caller who asked something else: a 0.5B model said it to a
  football question and then to every question after it;
- ``closed_only``: the reply's first sentence says only that the business is closed ("Sorry, we're
  closed.", no day, no hours) to a caller who asked nothing of the hours, a day or now: a 0.5B model, after
  hours, said it to "Who won the football game last night?" and then to "Is there parking near the
  practice?";
- ``asks_details``: the reply asks for what an action needs in the action desk's own words ("Thanks,
  Megan. Could you give me the day and the time?" to "Is Megan working this Saturday?"): a small model
  copies the desk's questions from the call's history, and no action waits for the answer (the desk asks
  its questions itself, once an action is called);
- ``instructions``: the reply says words the prompt wrote for the agent ("On this call you can: book, move
  or cancel appointments (ask for the caller's name and a preferred day)"), which a small model copies;
- ``unasked_refusal``: the reply's first sentence lists two or more of the things the business does not
  do, none of which the caller named ("Sorry, we don't do electrical work, roofing or gutters, ..." to
  "Are your plumbers licensed and insured?"): a small model copies that list from its facts;
- ``unknown_name``: the reply opens by thanking the caller by a name they never gave ("Thanks, Megan." to
  "Is Megan working this Saturday?"): a small model copies the desk's "Thanks, <name>." from the call's
  history, and takes whatever name it hears;
- ``agent_as_someone``: asked who someone is ("Who's the head chef?"), the reply gives the agent's own
  name to them ("The head chef is Marco."), the one name a small model knows;
- ``echo``: the first clause repeats the caller's sentence back instead of answering it;
- ``repeat``: the reply opens with the same words as an earlier reply of this call (or a worked example
  of the persona), to a different question (a small model copies its own history and its examples);
- ``bare_number``: the reply opens with a number alone ("60", or digits in a row: "55.0.3.4.8."), which
  a caller cannot place: a small model copies a number from its facts, its last reply or the caller's
  phone number to whatever it is asked next;
- ``dont_know``: the reply opens with "I don't have that information" (or "I don't know that") while
  the persona's facts answer the caller's words (a small model gives up on a question it could answer;
  the fallback says those facts);
- ``bare_refusal``: the reply's first sentence is a chatbot's refusal and nothing else ("Sorry, I can't
  assist with that."): a caller hears neither what the business does nor what they can do next (the
  fallback says both, and offers a message).

The day checks live in :mod:`voiceagent.stages.day_check`, the price checks in
:mod:`voiceagent.stages.price_check`.

Pure logic: no engine, no I/O. A failed check makes the reply stop there; the call then says a
fact-based answer instead (see :func:`fallback_reply`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence

from voiceagent.personas.actions import claimed_action
from voiceagent.personas.facts import (
    HOURS_CUES,
    Fact,
    alternatives,
    days_named,
    identity_sentence,
)
from voiceagent.personas.model import Business
from voiceagent.personas.render import fact_lines
from voiceagent.personas.words import Heard, content_stems, stem, tokens
from voiceagent.stages.chunker import ends_sentence
from voiceagent.stages.day_check import NEGATION, DayCheck
from voiceagent.stages.price_check import PriceCheck
from voiceagent.stages.reply_problem import Problem

_NUMBER = re.compile(r"\d+")
# "Thanks, Megan." or "Thank you, John Smith," at the start of a reply: a caller thanked by name (up to four
# words: the model also thanked a caller by the business's name, "Thanks, Silver Birch Hair Studio.").
_THANKS_NAME = re.compile(r"^\W*(?:[Tt]hanks|[Tt]hank you)(?: (?:so|very) much)?,\s+(?P<name>[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+){0,3})"
                          r"(?=[.!,]|$)")
# The action desk's question for what an action still needs (see voiceagent.pipeline.action_desk).
_ASKS_DETAILS = re.compile(r"\bcould you give me (?:your (?:full )?name|a number|your (?:phone )?number|the day|the date|"
                           r"the time|your message|what it's for)\b", re.IGNORECASE)
# Words written for the agent, never to a caller: the prompt's "On this call you can: ... (ask for the
# caller's name and a preferred day)", copied into a reply
_INSTRUCTIONS = re.compile(r"\bthe caller(?:'s|s)?\b|\bon this call you can\b", re.IGNORECASE)
_BARE_REFUSAL = re.compile(
    r"\W*(?:(?:i'?m |i am |we'?re |we are )?(?:very |so |really )?sorry,? (?:but )?)?(?:i|we)(?:'m| am|'re| are)?"
    r" (?:(?:can'?t|cannot|can not|unable to|not able to) (?:assist|help|do)|(?:don'?t|do not) know how to (?:do|help with))"
    r"(?: you)?(?: with)?(?: that| this| it)?"
    r"(?: request)?(?: right now| at the moment)?\W*", re.IGNORECASE)
_DONT_KNOW = re.compile(
    r"\b(?:i|we) (?:do not|don'?t) (?:have (?:that|this|any|the|those)(?: \w+)? (?:information|details)|know (?:that|this)\b)"
    r"|\b(?:i'?m|i am) not sure\b|\bno information\b", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:located|based|(?:is|are|we're|it's|you'll find us|find us) (?:in|at|on|near|behind|next to))\b",
                    re.IGNORECASE)
# A denial and the words it denies: "there are no warranties", "we don't offer card payment", "no parking".
_DENIAL = re.compile(r"\b(?:there (?:is|are|'s) no|(?:we|i) (?:do not|don't|can't|cannot|have no)(?: (?:offer|have|do|"
                     r"provide|give|accept|take|fit|fix|sell))?|no(?!,))\s+(?P<what>[a-z][a-z' -]*)", re.IGNORECASE)
_AGENT_DOES = frozenset(stem(w) for w in ("book", "booking", "appointment", "visit", "move", "cancel", "reschedule",
                                            "message", "transfer", "speak", "talk", "call"))
# A denial that the business has or allows something: "No, no walk-ins.", "We don't offer discounts for
# seniors.", "There is no parking." (not "No problem", nor "I don't have that information").
_HAS_VERB = r"(?:offer|have(?! (?:that|this|the|any) information)|take|accept|allow|give|provide)\b"
_SAYS_NO = re.compile(
    rf"^\W*(?:(?:i'?m |i am )?sorry,?\s*)?(?:no,?\s+(?:we\s+(?:do not|don'?t)\s+{_HAS_VERB}|there (?:is|are|'s) no\b"
    rf"|(?!problem|worries|trouble)[a-z])|(?:we|i)\s+(?:do not|don'?t)\s+{_HAS_VERB}|there (?:is|are|'s) no\b)",
    re.IGNORECASE)
REFUSED_ITEMS = 2  # a refusal that names this many things not done, none of them asked about, is a copied list
_DENIABLE = frozenset({"policy", "service"})  # kinds of answering fact that say the business has something
_BARE_NUMBER = re.compile(r"\W*\d+(?:[\s.,:-]+\d+)*\W*")  # "60", "7:30", "55.0.3.4.8." (a caller's number, copied)
# A sentence of these words says only that the business is closed ("Sorry, we're closed right now.").
_CLOSED_ONLY = frozenset(tokens("sorry I'm I am afraid unfortunately but we we're are it's is closed right now at the "
                                "moment currently today tonight for the day"))
# Words by which a caller asks about now, or whether anyone is there: "we're closed" may answer them.
_ASKS_NOW = frozenset(stem(w) for w in ("now", "today", "tonight", "tomorrow", "still", "anyone", "anybody", "someone", "somebody"))
# A yes, in a word or in what the reply says someone will do ("The vet is able to look at your corn snake.")
_YES = re.compile(r"^\W*(yes|yeah|yep|sure|of course|certainly|absolutely|definitely)\b|^\W*(we|i) (do|can|have|will|offer|accept|take)\b"
                  r"|^\W*(?:the|our) \w+ (?:is|are|will be|would be) (?:able|happy|glad) to\b"
                  r"|^\W*(?:we|i|they|he|she) (?:are|am|will be|would be) (?:able|happy|glad) to\b")
_QUESTION = re.compile(r"\?|^\W*(can|could|do|does|is|are|will|would|have|has|may)\b")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}


# A question of who someone is, or of their name; the agent naming itself ("This is Marco", "I'm Marco").
_WHO = re.compile(r"\bwho(?:'s|’s|\s+is|\s+are|\s+will|\s+would)?\b|\bname of\b", re.IGNORECASE)
_SELF = re.compile(r"(?:this is|i'm|i am|my name is|my name's|name is|it's|speaking to|talking to|with)\s*$", re.IGNORECASE)


def numbers_in(text: str) -> set[int]:
    """Every number written in ``text``, as digits ("7:30" gives 7 and 30; "0142" gives 142) or as
    a plain number word ("sixty")."""
    found = {int(n) for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in tokens(text) if w in _NUMBER_WORDS}
    return found


class ReplyCheck:
    """The checks for one reply: built with what the caller said this turn and earlier in the call."""

    def __init__(
        self, business: Business | None, said: str, *, facts: Sequence[Fact] = (), earlier_said: Iterable[str] = (),
        earlier_replies: Sequence[tuple[str, str]] = (), caller_names: Iterable[str] = (),
    ) -> None:
        """``facts``: the persona's facts that match ``said``; ``earlier_replies``: (what the caller said,
        what the agent replied) for earlier turns; ``caller_names``: the names the caller gave as theirs in
        this call."""
        self._business = business
        self._said = said
        self._facts = tuple(facts)
        self._answers = answering(self._facts)
        self._allowed = numbers_in(said) | {n for text in earlier_said for n in numbers_in(text)}
        self._allowed |= {0, 1, 2}  # "one of our", "a couple": too common to be a claimed fact
        if business is not None:
            self._allowed |= {n for line in fact_lines(business) for n in numbers_in(line)}
        self._earlier = [(q, r) for q, r in earlier_replies if r]
        self._last_exchange = self._earlier[-1] if self._earlier else ()
        self._names = {word for name in caller_names for word in tokens(name)}
        self._clauses = 0
        self._opening = ""  # the reply so far, until its first sentence ends
        self._opening_done = False
        self._sentence = ""  # the sentence in progress (a long one reaches the check in pieces)
        self._days = DayCheck(business, self._facts) if business is not None else None
        self._prices = PriceCheck(business, said, self._facts, self._last_exchange) if business is not None else None

    def clause(self, text: str) -> Problem | None:
        """Check the next clause of the reply (in order). Echo and repeat are judged on the reply so far
        while its first sentence lasts (the first clause may be a lone "Sure,")."""
        first = self._clauses == 0
        self._clauses += 1
        if first and _BARE_NUMBER.fullmatch(text):
            return Problem("bare_number", "a number alone, with nothing to say what it is")
        if not self._opening_done:
            self._opening = f"{self._opening} {text}".strip()
            self._opening_done = ends_sentence(text)
            if problem := self._echo(self._opening) or self._repeat(self._opening):
                return problem
            if (thanked := _THANKS_NAME.search(self._opening)) and not set(tokens(thanked["name"])) <= self._names:
                return Problem("unknown_name", f"thanks {thanked['name']!r}, a name the caller never gave")
            if self._opening_done and _BARE_REFUSAL.fullmatch(self._opening):
                return Problem("bare_refusal", "a refusal with nothing a caller can use")
            if self._opening_done and self._identity_only(self._opening):
                return Problem("identity_only", "says only who answers; the caller asked something else")
            if self._opening_done and self._closed_only(self._opening):
                return Problem("closed_only", "says only that the business is closed; the caller asked nothing of "
                                              "the hours")
            if self._answers and _DONT_KNOW.search(self._opening):
                return Problem("dont_know", f"says it does not know; the facts answer ({self._answers[0].kind})")
            if problem := (self._wrong_place(self._opening) or self._denies_fact(self._opening)
                           or self._unasked_refusal(self._opening)):
                return problem
        if claimed := claimed_action(text) or claimed_action(self._opening):  # "Friday," + "noted."
            return Problem("claims_action", f"says {claimed} was done (or will be), which no action did", claimed)
        if _INSTRUCTIONS.search(text):
            return Problem("instructions", "says the prompt's instructions to the agent to the caller")
        if _ASKS_DETAILS.search(text):
            return Problem("asks_details", "asks in the desk's words for what an action needs; no action waits")
        if self._business is None:
            return None
        if first and (problem := self._unsupported_yes(text)):
            return problem
        if problem := self._agent_as_someone(text):
            return problem
        if problem := self._unsupported_no(self._opening):
            return problem
        invented = sorted(numbers_in(text) - self._allowed)
        if invented:
            return Problem("invented_number", f"{invented[0]} is in no fact and was not said by the caller")
        sentence = self._sentence = f"{self._sentence} {text}".strip()
        if ends_sentence(text):
            self._sentence = ""
        # a day and its hours may come in two pieces: "Yes, we do Sunday" + "at 9 am to 12 noon."
        assert self._days is not None and self._prices is not None  # made with the business
        return self._days.check(sentence, text) or self._prices.check(text)

    def _echo(self, text: str) -> Problem | None:
        """Most of the caller's sentence said back word for word (a run of at least four words; numbers
        do not count: reading back a phone number or a date to confirm it is good practice)."""
        words, said = _words(text), _words(self._said)
        if len(words) < 4 or len(said) < 4:
            return None
        run = difflib.SequenceMatcher(None, said, words, autojunk=False).find_longest_match(
            0, len(said), 0, len(words)).size
        if run >= max(4, math.ceil(0.6 * len(said))):
            return Problem("echo", f"repeats {run} of the caller's {len(said)} words in a row")
        return None

    def _unsupported_yes(self, text: str) -> Problem | None:
        if not _YES.search(text.lower()):
            return None
        if any(f.kind == "not_offered" for f in self._facts):
            return Problem("unsupported_yes", "says yes to something the business does not do")
        if not self._answers and not self._asks_what_agent_can() and _QUESTION.search(self._said.lower()):
            return Problem("unsupported_yes", "says yes to a question no fact answers")
        return None

    def _agent_as_someone(self, text: str) -> Problem | None:
        """Asked who someone is ("Who's the head chef?"), a small model gives the one name it knows, the
        agent's own ("The head chef is Marco."): the agent's name said other than as who is speaking."""
        assert self._business is not None
        if not _WHO.search(self._said):
            return None
        for said in re.finditer(rf"\b{re.escape(self._business.agent_name)}\b", text, re.IGNORECASE):
            if not _SELF.search(text[: said.start()]):
                return Problem("agent_as_someone", f"names the agent, {self._business.agent_name}, as someone asked about")
        return None

    def _unsupported_no(self, text: str) -> Problem | None:
        if self._answers or any(f.kind == "not_offered" for f in self._facts) or not _SAYS_NO.search(text):
            return None
        if _QUESTION.search(self._said.lower()):
            return Problem("unsupported_no", "says no to a question no fact answers")
        return None

    def _repeat(self, text: str) -> Problem | None:
        """An earlier reply's claim said again to a different question. Only a claim counts (a number, a
        day, a service or something not offered, a yes): "I don't know that, shall I take a message?" may
        be said to many questions, but not to one the facts answer. (A 0.5B model that once said "This is
        Bright Smile Dental, a dental practice." said it again to every question that followed, "What time
        do you close on Friday?" included.)"""
        words = tokens(text)
        if len(words) < 5 or not (self._claims(text) or self._answers):
            return None
        for question, reply in self._earlier:
            before = tokens(reply)[: len(words)]
            if before == words and difflib.SequenceMatcher(None, tokens(question), tokens(self._said)).ratio() < 0.8:
                return Problem("repeat", "opens like an earlier reply to a different question")
        return None

    def _claims(self, text: str) -> bool:
        lower = text.lower()
        if numbers_in(lower) or _YES.search(lower) or days_named(lower):
            return True
        if self._business is None:
            return False
        heard = Heard(text)
        things = [n for v in self._business.services for n in (v.name, *v.aliases)]
        return any(heard.says_phrase(n) for n in [*things, *self._business.not_offered])

    def _identity_only(self, text: str) -> bool:
        """Every word of ``text`` is the business's name, its kind or "this is" (and the caller did not ask
        who answers, or name the business)."""
        business = self._business
        if business is None or any(f.kind == "identity" for f in self._facts):
            return False
        who = set(tokens(f"{identity_sentence(business)} {business.agent_name} sorry hello hi yes I'm we're it's"))
        words = tokens(text)
        return bool(words) and all(word in who for word in words)

    def _closed_only(self, text: str) -> bool:
        """Every word of ``text`` says the business is closed (no day, no hours: see :data:`_CLOSED_ONLY`), and
        the caller's words name no day and ask nothing of the hours, now or whether anyone is there."""
        words = tokens(text)
        if "closed" not in words or not set(words) <= _CLOSED_ONLY:
            return False
        heard = Heard(self._said)
        return not (heard.has_any(HOURS_CUES | _ASKS_NOW) or days_named(self._said))

    def _asks_what_agent_can(self) -> bool:
        """The caller asks for something the agent does on a call (a booking, a message ...), which the
        persona's ``agent_can`` fact supports; "Are your mechanics licensed?" matches that fact on
        "mechanic" alone and asks nothing of the kind."""
        return any(f.kind == "agent_can" for f in self._facts) and Heard(self._said).has_any(_AGENT_DOES)

    def _denies_fact(self, text: str) -> Problem | None:
        """A denial whose object is a word of an answering fact that has the thing, not one that denies it
        itself ("There are no courtesy cars, but ..." may be said back), or whose words are all the
        business's kind ("plumbing or heating") or name a service of it."""
        if problem := self._denies_business(text):
            return problem
        positive = [f for f in self._answers if f.kind in _DENIABLE and not NEGATION.search(f.text.lower())]
        for match in _DENIAL.finditer(text) if positive else ():
            denied = set(content_stems(" ".join(match.group("what").split()[:4])))
            fact = next((f for f in positive if denied & set(content_stems(f.text))), None)
            if fact is not None:
                return Problem("denies_fact", f"denies {match.group('what').strip()!r}; a fact has it: {fact.text}")
        return None

    def _denies_business(self, text: str) -> Problem | None:
        business = self._business
        if business is None:
            return None
        kind = set(content_stems(business.kind))
        for match in _DENIAL.finditer(text):
            what = " ".join(match.group("what").split()[:4])
            denied = set(content_stems(what))
            named = Heard(what)
            if (denied and denied <= kind) or any(named.says_phrase(s.name) for s in business.services):
                return Problem("denies_fact", f"denies {what!r}, which the business is or sells")
        return None

    def _unasked_refusal(self, text: str) -> Problem | None:
        """A refusal that lists :data:`REFUSED_ITEMS` or more of the things the business does not do, when the
        caller's words named none of them: the model copied the list from its facts."""
        business = self._business
        if business is None or any(f.kind == "not_offered" for f in self._facts) or not _DENIAL.search(text):
            return None
        heard = Heard(text)
        named = [item for item in business.not_offered if any(heard.says_phrase(a) for a in alternatives(item))]
        if len(named) < REFUSED_ITEMS:
            return None
        return Problem("unasked_refusal", f"refuses {', '.join(named)}; the caller asked about none of them")

    def _wrong_place(self, text: str) -> Problem | None:
        address = self._business.address if self._business is not None else ""
        if not address or not any(f.kind == "address" for f in self._facts) or not _PLACE.search(text):
            return None
        if Heard(text).shares_word(address):
            return None
        return Problem("wrong_place", f"places something, with no word of the address ({address})")

def _words(text: str) -> list[str]:
    return [t for t in tokens(text) if not t.isdigit()]


_LISTINGS = frozenset({"agent_can", "prices", "services", "week"})


def fallback_reply(facts: Sequence[Fact], dont_know: str, business: Business | None = None) -> str:
    """What to say instead of a reply that failed a check: the facts that answer the caller's words (a
    day's hours, a service, the address ...), or, when none does, the persona's "I don't know, shall I
    take a message" line with what the business is in the middle (so a caller who asked for something
    it does not do hears what it does)."""
    answers = answering(facts)
    if answers:
        return " ".join(speakable(f.text) for f in answers[:2])
    if business is None or business.name.lower() in dont_know.lower():
        return dont_know
    first, _, rest = dont_know.partition(". ")
    return f"{first}. {identity_sentence(business)} {rest}".strip() if rest else f"{dont_know} {identity_sentence(business)}"


def answering(facts: Sequence[Fact]) -> list[Fact]:
    """The facts that answer the caller's words. A list of everything ("our prices: ...", "on this call
    you can ...") answers no particular question, unless the caller asked for that list by name ("what
    are your opening hours?")."""
    return [f for f in facts if f.kind not in _LISTINGS or f.asked]


def speakable(text: str) -> str:
    """A fact line as a spoken sentence ("We offer: oil change" -> "We offer oil change"; "Sunday:
    closed." -> "Sunday, closed.")."""
    text = re.sub(r"\b(offer|do not do|can): ", r"\1 ", text)
    return text.replace(": ", ", ")
