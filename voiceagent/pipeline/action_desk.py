"""What a call does with the actions its persona declares: the model's tool call checked, missing
arguments asked for and read from the caller's next words, and a read-back before what cannot be undone.

Sans-I/O: the desk decides (:class:`Say`, :class:`Run`, :class:`Reconsider`), the reply carries it out. The
model only chooses *which* action; every argument must be found in what the caller said (see
:mod:`voiceagent.actions.slots`), so nothing the caller did not say is ever stored or claimed.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import jsonschema

from voiceagent.actions.slots import (
    DAY_ARGS,
    NAME_ARGS,
    PHONE_ARGS,
    TIME_ARGS,
    digits,
    grounded,
    introduction_only,
    is_free_text,
    message_text,
    value_from_words,
    without_current_booking,
)
from voiceagent.actions.when import resolve_day, resolve_time, say_day
from voiceagent.engines.llm import Tool
from voiceagent.personas import Persona
from voiceagent.personas.actions import ActionSpec
from voiceagent.personas.facts import days_named, relevant_facts
from voiceagent.personas.model import WEEKDAYS
from voiceagent.personas.render import vocabulary, week_sentence
from voiceagent.personas.times import say_time
from voiceagent.personas.words import Heard, stem, tokens
from voiceagent.stages.fact_answer import fact_sentence, is_question
from voiceagent.stages.thanks import thanks_only

_YES = frozenset(tokens("yes yeah yep yup sure correct right please ok okay fine absolutely definitely go ahead"))
_NO = frozenset(tokens("no nope don't dont not never leave keep wait stop"))
# What a caller says when they ask for each built-in action (generic English). The model chooses; an
# action the caller's words do not ask for is set aside and the model answers in words instead.
_ASKED_FOR: dict[str, re.Pattern[str]] = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in {
    "book_appointment": r"\b(?:book|booking|appointment|schedule|come in|bring (?:\w+ ){1,3}in|slot|"
                        r"available|availability|reserve|fit me in|see (?:the|a) \w+|check-?up|come by|come (?:a?round|over|out)|"
                        r"(?:pop|drop|stop|swing) (?:in|by|round)|drop (?:\w+ ){1,3}off)\b",
    "move_appointment": r"\b(?:move|change|reschedule|different (?:day|time)|another (?:day|time)|instead|"
                        r"push (?:it|my))\b",
    "cancel_appointment": r"\b(?:cancel|call off|can't make it|cannot make it|won't make it)\b",
    "find_appointment": r"\b(?:appointment|booking|booked|when am i|my time)\b",
    "take_message": r"\b(?:message|tell (?:him|her|them|the \w+)|let (?:him|her|them|the \w+) know|pass (?:on|it|that)|"
                    r"call me back|ring me back|get back to me|note)\b",
    "transfer_to_human": r"\b(?:person|human|someone|somebody|anyone|staff|manager|operator|receptionist|agent|"
                         r"real|transfer|put me through|connect me|speak (?:to|with)|talk (?:to|with))\b",
    "end_call": r"\b(?:bye|goodbye|good bye|that's all|that is all|that's it|nothing else|hang up|"
                r"have a (?:good|nice|great) (?:day|one|evening))\b",
}.items()}
# A question for the agent ("how much is a check-up?"); "how about Tuesday?" is an answer, not a question.
_ASKING = re.compile(r"^\W*(?:how(?! about)|what|when|where|why|which|who|whose)\b|^\W*(?:do|does|are) you\b",
                     re.IGNORECASE)
# Words that ask for a booking even inside a question ("how do I book a check-up?").
_BOOKING_VERB = re.compile(r"\b(?:book|schedule|reserve|fit me in|make an appointment)\b", re.IGNORECASE)
# A question of how much, how long or how soon asks about a rule of moving or cancelling, not for either:
# "If something comes up, how much notice do you need for me to cancel?" (the facts say how much).
_HOW_MUCH = re.compile(r"\bhow\s+(?:much|long|far|many|soon|early|late)\b", re.IGNORECASE)
# A question whether something must be done to book: it asks about a rule, not for a booking ("Do I have
# to put a deposit down to book highlights?"). "Do I have to book?" is left to the model.
_MUST_I = re.compile(r"^\W*(?:do|does|is|are)\s+(?:i|we|you|one|it|there)\b.*\b(?:have|need|got)\s+to\s+(?!book\b)",
                     re.IGNORECASE)
# A caller who asks outright for one of these gets the action's first question at once, without the model:
# a 0.5B model answered "I need to change my booking." with "Appointments are needed for all services."
# A verb of the action with its object, or "I'd like to" before it; questions for the agent (_ASKING) excepted.
_APPOINTMENT = r"(?:my|our|the|an?|his|her|this|that)\s+(?:\w+\s+){0,2}(?:appointment|booking|reservation|visit)\b"
_REQUESTED: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("move_appointment", (rf"\b(?:move|change|reschedule|rebook|push back|bring forward)\s+{_APPOINTMENT}"
                          r"|\b(?:change|move)\s+(?:the|its|my)\s+(?:day|date|time)\b"
                          r"|\b(?:move|push|switch)\s+it\s+(?:to|till|until)\b")),  # "Can we move it to Thursday?"
    ("cancel_appointment", rf"\bcancel\s+{_APPOINTMENT}"),
    ("take_message", (r"\b(?:leave|pass|give|take)\s+(?:a|an|the|him a|her a|them a)\s+message\b"
                      r"|\bpass\s+(?:on\s+)?(?:a|the)\s+message\b")),
    ("book_appointment", (r"\b(?:i'd like|i would like|i want|i need|i'd love|i wanna|can i|could i|may i)\s+(?:to\s+)?"
                          r"(?:book|make an appointment|make a booking|schedule)\b")),
))
# A phone line turns "my booking" into "my walking" or "my working" (tiny.en, every voice of the benchmark):
# a verb of moving or cancelling on a word ending in -ing that no fact of the persona says ("tyre
# fitting" is a service) asks for the booking all the same.
_MISHEARD_BOOKING = re.compile(r"\b(?P<verb>move|change|reschedule|cancel)\s+(?:my|our|the)\s+(?P<word>[a-z]+ing)s?\b",
                               re.IGNORECASE)
NOT_CAUGHT_WORDS = 4  # an answer this long with nothing asked for in it was garbled (see _not_caught)
# Words that change what the caller said before ("Friday instead", "actually, make it 2 pm").
_CORRECTION = re.compile(r"\b(?:instead|actually|rather|make it|change it|move it|switch it)\b", re.IGNORECASE)
_QUESTION = re.compile(r"\?\s*$|^\W*(?:how|what|when|where|why|which|who|do|does|is|are)\b", re.IGNORECASE)
_BYES = re.compile(r"(?:\W*\b(?:bye|by|buy)\b)+\W*", re.IGNORECASE)
_ASK = {"name": "your name", "phone": "a number to call you back on", "day": "the day", "date": "the day",
        "time": "the time", "service": "what it's for", "text": "your message"}


@dataclasses.dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` (a question for what is missing, a read-back, a refusal): no model this turn."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    """Carry out ``spec`` with ``arguments`` (every one of them found in the caller's words)."""

    spec: ActionSpec
    arguments: dict[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Reconsider:
    """The model called an action the caller did not ask for: answer in words instead. ``why`` is recorded."""

    why: str


Decision = Say | Run | Reconsider


@dataclasses.dataclass(slots=True)
class PendingAction:
    """An action waiting for arguments (or a yes): what is known of it so far."""

    spec: ActionSpec
    arguments: dict[str, str]
    confirming: bool = False  # read back; waiting for a yes
    asked_again: bool = False  # a number was asked for again (too few digits, or only "bye"s, were heard)
    asked: tuple[str, ...] = ()  # what the desk's last question asked for

    def copy(self) -> PendingAction:
        """A copy whose arguments can change without changing these."""
        return dataclasses.replace(self, arguments=dict(self.arguments))


class ActionDesk:
    """One call's actions: offered to the model, checked when called, completed over the next turns."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self._pending: PendingAction | None = None

    @property
    def pending(self) -> str | None:
        """The action waiting for arguments or a yes, if any."""
        return self._pending.spec.name if self._pending is not None else None

    @property
    def awaits_dictation(self) -> bool:
        """True while the action waiting asks the caller for a phone number or a message: words a caller
        pauses inside ("five five five ... zero one", "It's about my ... bill from last month")."""
        return self._pending is not None and not self._pending.confirming and any(
            arg in PHONE_ARGS or is_free_text(arg) for arg in self._missing(self._pending))

    @property
    def awaits_message(self) -> bool:
        """True while all the waiting action still needs is free words (the message itself), which a
        caller pauses inside for longer than between a number's groups."""
        missing = self._missing(self._pending) if self._pending is not None and not self._pending.confirming else []
        return bool(missing) and all(is_free_text(arg) for arg in missing)

    @staticmethod
    def asks_instead(turn: str) -> bool:
        """Whether ``turn``, said while the desk waits for a number or a message, asks the agent a question
        ("Is there a warranty on your repairs?", "What time do you close?") rather than giving it: the desk
        does not take such words as a message (see :meth:`before_model`)."""
        return bool(_ASKING.search(turn) or _QUESTION.search(turn))

    def tools(self) -> list[Tool]:
        """The persona's actions, as tools for the model."""
        return [Tool(a.name, a.description, a.json_schema()) for a in self.persona.actions]

    def named_only(self) -> frozenset[str]:
        """The actions whose arguments the desk reads from the caller's words itself (the built-ins): the
        model need only name them."""
        return frozenset(a.name for a in self.persona.actions if a.builtin)

    def checkpoint(self) -> PendingAction | None:
        """The desk's state now (a copy), to go back to with :meth:`rewind`."""
        return None if self._pending is None else self._pending.copy()

    def rewind(self, state: PendingAction | None) -> None:
        """Go back to ``state`` (from :meth:`checkpoint`): the turn that changed the desk since was taken
        back (the caller was not finished), and its whole sentence is read again in the next turn."""
        self._pending = None if state is None else state.copy()

    def before_model(self, turn: str, today: datetime.date) -> Decision | None:
        """A caller turn while an action waits: its missing arguments read from ``turn``, or the yes or no
        to a read-back. None: the turn is about something else (the model answers it; the action is dropped).
        With no action waiting, a caller who only gives their name is thanked by it and asked what they need
        (a small model answered "My name is Tom" with "I don't have that information"), and one who asks
        outright for an action (:meth:`requested`) gets its first question. A turn that drops the waiting
        action is then read as if none had waited ("Can I come in on Sunday?", asked instead of the message
        the desk asked for, is answered as a closed day)."""
        pending = self._pending
        decision = self._continued(pending, turn, today) if pending is not None else None
        return decision if decision is not None else self._fresh(turn, today)

    def _fresh(self, turn: str, today: datetime.date) -> Decision | None:
        """A caller turn with no action waiting (see :meth:`before_model`)."""
        name = introduction_only(turn)  # a caller who only says who they are has asked nothing yet
        if name:
            return Say(f"Thanks, {name}. How can I help you?")
        asked = self.requested(turn)
        if not asked and self._books_a_closed_day(turn, today):
            decision = self.on_call("book_appointment", {}, turn, today)
            return decision if isinstance(decision, Say) else None
        return self.on_call(asked, {}, turn, today) if asked else None

    def _continued(self, pending: PendingAction, turn: str, today: datetime.date) -> Decision | None:
        """A caller turn while ``pending`` waits; None when the turn drops it (see :meth:`before_model`)."""
        if pending.confirming:
            self._pending = None
            words = set(tokens(turn))
            if words & _NO:
                return Say("All right, I've left it as it is. Is there anything else?")
            return Run(pending.spec, pending.arguments) if words & _YES else None
        if _ASKING.search(turn):  # "what time do you open?" is a question for the agent, not an answer
            self._pending = None
            return None
        missing = self._missing(pending)
        spec = pending.spec
        found = {arg: value for arg in missing
                 if not is_free_text(arg) and (value := self._read(spec, arg, turn, today))}
        if found or not (_QUESTION.search(turn) or _BYES.fullmatch(turn)):  # a question (or "bye") is no message
            found |= {arg: value for arg in missing if is_free_text(arg) and (value := self._read(spec, arg, turn, today))}
        if _CORRECTION.search(turn):  # "Could we make it Friday instead?": a day or time given earlier is changed
            found |= {arg: value for arg in spec.argument_names if arg not in missing and arg in DAY_ARGS | TIME_ARGS
                      and (value := self._read(spec, arg, turn, today)) and value != pending.arguments[arg]}
        if not found:
            return self._short_number(pending, missing, turn) or self._not_caught(pending, missing, turn)
        pending.arguments.update(found)
        return self._next_step(pending, found, today)

    def answers_in_part(self, turn: str, today: datetime.date) -> bool:
        """Whether ``turn`` gives some, not all, of two or more things the desk's last question asked for
        ("It's Mike Ross," to "your name, the day and the time"): a caller who pauses after the first one
        often goes on, and an answer then would cut in. Nothing is changed."""
        pending = self._pending
        if pending is None or pending.confirming or _ASKING.search(turn):
            return False
        missing = [arg for arg in pending.asked if not is_free_text(arg) and not pending.arguments.get(arg)]
        found = [arg for arg in missing if self._read(pending.spec, arg, turn, today)]
        return len(missing) >= 2 and 0 < len(found) < len(missing)

    def requested(self, turn: str) -> str:
        """The built-in action the caller asks for outright in ``turn`` ("I need to move my appointment",
        "Can I leave a message?"), if the persona has it; "" for anything else, questions for the agent
        included ("How do I cancel my booking?" goes to the model)."""
        if _ASKING.search(turn):
            return ""
        for name, pattern in _REQUESTED:
            spec = self.persona.action(name)
            if spec is not None and spec.builtin and pattern.search(turn):
                return name
        return self._misheard_booking(turn)

    def _misheard_booking(self, turn: str) -> str:
        """The move or the cancellation ``turn`` asks for when its booking was misheard as another word
        ending in -ing ("I need to change my working."); "" otherwise (see :data:`_MISHEARD_BOOKING`)."""
        said = _MISHEARD_BOOKING.search(turn)
        business = self.persona.business
        if said is None or business is None or stem(said["word"]) in vocabulary(business):
            return ""
        name = "cancel_appointment" if said["verb"].lower() == "cancel" else "move_appointment"
        spec = self.persona.action(name)
        return name if spec is not None and spec.builtin else ""

    def goodbye(self) -> Decision:
        """A caller who thanks and says goodbye ("Lovely, that's all I needed. Cheers, bye!"): the call
        ends, if the persona has the built-in ``end_call``; else the caller is only said goodbye to."""
        self._pending = None
        spec = self.persona.action("end_call")
        return Run(spec, {}) if spec is not None and spec.builtin else Say("You're welcome. Goodbye!")

    def _books_a_closed_day(self, turn: str, today: datetime.date) -> bool:
        """Whether ``turn`` asks to come in (in a booking's words) on a day the business never opens, and
        on no other ("Can I bring my car in on Sunday?"). The desk answers it as it would the model's call
        of the booking: why not and the days it opens, the day asked for again; the model is not needed."""
        business, spec = self.persona.business, self.persona.action("book_appointment")
        if business is None or spec is None or not spec.builtin or not _ASKED_FOR["book_appointment"].search(turn):
            return False
        days = days_named(turn, WEEKDAYS[today.weekday()])
        return bool(days) and all(business.hours_on(day).closed for day in days)

    def may_act(self, turn: str) -> bool:
        """Whether ``turn`` may ask for one of the persona's actions (so the model, which can call them,
        should hear it): a built-in action's words ("slot", "message", "speak to"; a question about the
        business with no booking verb asks for no booking), or a word of a custom action's description. The
        persona's service names are no such words ("How much is an oil change?"), a question whether
        something must be done asks for no booking ("Do I have to put a deposit down to book highlights?"),
        and one of how much or how soon asks for no move or cancellation ("How much notice do you need
        for me to cancel?")."""
        business = self.persona.business
        for name in [n for s in business.services for n in (s.name, *s.aliases)] if business else []:
            turn = re.sub(rf"\b{re.escape(name)}\b", " ", turn, flags=re.IGNORECASE)  # "oil change" moves nothing
        heard = Heard(turn)
        for spec in self.persona.actions:
            if not spec.builtin:
                if heard.shares_word(spec.description):
                    return True
            elif (cue := _ASKED_FOR.get(spec.name)) is not None and cue.search(turn) and not (
                    spec.name == "book_appointment" and self._asks_about_booking(turn)) and not (
                    spec.name in ("cancel_appointment", "move_appointment") and _HOW_MUCH.search(turn)):
                return True
        return False

    @staticmethod
    def _asks_about_booking(turn: str) -> bool:
        """Whether ``turn`` is a question about the business with no booking verb ("what does a check-up
        cost?"), or one whether something must be done to book ("Do I have to put a deposit down to book?";
        not "Do I have to book?", which the model hears): it asks for no booking."""
        return bool(_ASKING.search(turn) and not _BOOKING_VERB.search(turn) or _MUST_I.search(turn))

    def on_call(self, name: str, arguments: dict[str, object], turn: str, today: datetime.date) -> Decision:
        """The model called ``name``: keep only the arguments the caller said in this turn (a day asked
        about earlier in the call is not a day asked for now); ask for the rest."""
        spec = self.persona.action(name)
        if spec is None:
            return Reconsider(f"no action {name!r}")
        arguments = {**dict.fromkeys(spec.argument_names, ""), **arguments}  # left out: to be asked for
        try:
            jsonschema.validate(arguments, spec.json_schema())
        except jsonschema.ValidationError as exc:
            return Reconsider(f"bad arguments for {name}: {exc.message}")
        cue = _ASKED_FOR.get(name) if spec.builtin else None
        if cue is not None and not cue.search(turn):
            return Reconsider(f"the caller's words do not ask for {name}")
        if name == "book_appointment" and spec.builtin and self._asks_about_booking(turn):
            return Reconsider("a question about the business, not a request to book")  # "what does a check-up cost?"
        refusal = self._not_done(turn) if name == "book_appointment" and spec.builtin else None
        if refusal is not None and not refusal[1]:  # "Can I book a manicure?" at a hair salon
            self._pending = None
            return Say(refusal[0])
        kept = {arg: str(value).strip() for arg, value in arguments.items()
                if grounded(arg, str(value), _words_for(spec, arg, turn), self.persona.business, today)}
        pending = PendingAction(spec, kept)
        for arg in self._missing(pending):  # the model may have left out what the caller did say
            if not is_free_text(arg) and (value := self._read(spec, arg, turn, today)):
                pending.arguments[arg] = value
        decision = self._next_step(pending, dict(pending.arguments), today)
        if refusal is not None and isinstance(decision, Say):  # "a manicure while my colour is processing"
            return Say(f"{refusal[0]} {decision.text.removeprefix('Sure. ')}")
        return decision

    def _not_done(self, turn: str) -> tuple[str, bool] | None:
        """What ``turn`` asks to book that the business does not do: the refusal to say, and whether a
        service the business does do was named beside it. None when nothing named is refused."""
        business = self.persona.business
        if business is None:
            return None
        facts = relevant_facts(business, turn)
        refused = [fact for fact in facts if fact.kind == "not_offered"]
        if not refused:
            return None
        return " ".join(fact_sentence(business, fact) for fact in refused), any(f.kind == "service" for f in facts)

    def _next_step(self, pending: PendingAction, found: dict[str, str], today: datetime.date) -> Decision:
        """Ask for what is still missing (saying back what was just understood), read back before an
        action that needs a yes, or run it."""
        closed = self._closed_day(pending, today)
        if closed:
            self._pending = pending
            return Say(closed)
        missing = self._missing(pending)
        if missing:
            self._pending = pending
            pending.asked = tuple(missing)
            asked = _join([_ASK.get(arg, _described(pending.spec, arg)) for arg in missing])
            return Say(f"{acknowledge(found, today) or 'Sure.'} Could you give me {asked}?")
        if pending.spec.confirm:
            pending.confirming = True
            self._pending = pending
            return Say(f"Just to be sure: {read_back(pending.spec, pending.arguments)}? Please say yes or no.")
        self._pending = None
        return Run(pending.spec, pending.arguments)

    def _closed_day(self, pending: PendingAction, today: datetime.date) -> str:
        """When the day asked for is one the business never opens: why, and the day is asked again."""
        business, day_arg = self.persona.business, next((a for a in pending.spec.argument_names if a in DAY_ARGS), "")
        day = resolve_day(pending.arguments.get(day_arg, ""), today) if day_arg else None
        if business is None or day is None or not business.hours_on(WEEKDAYS[day.weekday()]).closed:
            return ""
        pending.arguments.pop(day_arg)
        pending.asked = (day_arg,)
        return (f"Sorry, we're closed on {WEEKDAYS[day.weekday()].title()}s. {week_sentence(business, closed_days=False)} "
                f"Which day would suit you?")

    def _short_number(self, pending: PendingAction, missing: list[str], turn: str) -> Decision | None:
        """Asked for a number, the caller's answer held a few digits but too few for one (the phone line
        lost some), or only "bye"s (speech-to-text hears "five" as "bye" on a phone line): say what was
        heard and ask once more, rather than drop the action or hang up. None for any other answer."""
        heard, byes = digits(turn), _BYES.fullmatch(turn) is not None
        if pending.asked_again or not (heard or byes) or not any(arg in PHONE_ARGS for arg in missing):
            return None
        pending.asked_again = True
        pending.asked = tuple(arg for arg in missing if arg in PHONE_ARGS)
        caught = f"I only caught {' '.join(heard)}" if heard else "I didn't catch the number"
        return Say(f"Sorry, {caught}. Could you say the whole number again?")

    def _not_caught(self, pending: PendingAction, missing: list[str], turn: str) -> Decision | None:
        """Nothing asked for was heard in a statement that is no question and no "no" ("If you stay with
        Ken, I booked for Wednesday.": the line garbled a name): ask once more for what is missing, rather
        than drop the action and leave the caller's next answer to the model. A question (in any clause: "I've
        got a dripping pipe under the sink, how much to fix it."), a no, a thank you, a second miss, or a few
        words ("Yes.", "Okay, so": the caller may be going on) drop it (None)."""
        words = tokens(turn)
        if (pending.asked_again or _QUESTION.search(turn) or is_question(turn) or set(words) & _NO
                or len(words) < NOT_CAUGHT_WORDS
                or thanks_only(turn, self.persona.business)):  # "That's all, thank you very much.": the caller is done with it
            self._pending = None
            return None
        pending.asked_again = True
        pending.asked = tuple(missing)
        asked = _join([_ASK.get(arg, _described(pending.spec, arg)) for arg in missing])
        return Say(f"Sorry, I didn't catch that. Could you give me {asked}?")

    @staticmethod
    def _missing(pending: PendingAction) -> list[str]:
        return [arg for arg in pending.spec.argument_names if not pending.arguments.get(arg)]

    def _read(self, spec: ActionSpec, arg: str, turn: str, today: datetime.date) -> str:
        if is_free_text(arg):
            return message_text(turn)
        return value_from_words(arg, self.persona.business, _words_for(spec, arg, turn), today)


def _words_for(spec: ActionSpec, arg: str, turn: str) -> str:
    """The caller's words ``arg`` is read from: for a move, the day and time wanted, not the ones the
    caller is booked for now ("I'm booked for Wednesday" gives no new day)."""
    if spec.name == "move_appointment" and (arg in DAY_ARGS or arg in TIME_ARGS):
        return without_current_booking(turn)
    return turn


def acknowledge(found: dict[str, str], today: datetime.date) -> str:
    """What was just understood, said back so a misheard name or day can be put right: ``"Thanks, Maria
    Lopez. Tuesday the 1st of December at 10 am, noted."`` ("" when nothing worth saying back)."""
    name = next((v for a, v in found.items() if a in NAME_ARGS), "")
    day = next((resolve_day(v, today) for a, v in found.items() if a in DAY_ARGS), None)
    at = next((resolve_time(v) for a, v in found.items() if a in TIME_ARGS), None)
    when = " ".join(filter(None, [say_day(day, today) if day else "",
                                  f"at {say_time(at.hour * 60 + at.minute)}" if at else ""]))
    parts = [f"Thanks, {name}." if name else "", f"{when[:1].upper()}{when[1:]}, noted." if when else ""]
    return " ".join(p for p in parts if p)


def read_back(spec: ActionSpec, arguments: dict[str, str]) -> str:
    """What the action will do, in words: ``"cancel the appointment for Peter Brown"``."""
    what = spec.name.replace("_", " ")
    if spec.name == "cancel_appointment":
        what = "cancel the appointment"
    details = ", ".join(f"{arguments[a]}" for a in spec.argument_names if a in NAME_ARGS and arguments.get(a))
    return f"{what} for {details}" if details else what


def _described(spec: ActionSpec, arg: str) -> str:
    return dict(spec.parameters).get(arg, arg.replace("_", " "))


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
