"""What a call does with the actions its persona declares: the model's tool call checked, missing
arguments asked for and read from the caller's next words, and a read-back before what cannot be undone.

Sans-I/O: the desk decides (:class:`Say`, :class:`Run`, :class:`Reconsider`), the reply carries it out. The
model only chooses *which* action; every argument must be found in what the caller said (see
:mod:`voiceagent.actions.slots`), so nothing the caller did not say is ever stored or claimed.
"""

from __future__ import annotations

import dataclasses
import datetime

import jsonschema

from voiceagent.actions.slots import (
    DAY_ARGS,
    NAME_ARGS,
    PARTY_ARG,
    PHONE_ARGS,
    TIME_ARGS,
    current_booking,
    digits,
    grounded,
    introduction_only,
    is_free_text,
    message_text,
    name_attempt,
    party_in,
    spaced_digits,
    value_from_words,
    without_current_booking,
)
from voiceagent.actions.when import resolve_day, resolve_time, say_day
from voiceagent.engines.llm import Tool
from voiceagent.personas import Persona
from voiceagent.personas.actions import ActionSpec
from voiceagent.personas.facts import relevant_facts
from voiceagent.personas.times import say_time
from voiceagent.personas.words import tokens
from voiceagent.pipeline.desk_cues import (
    ASKED_FOR,
    ASKING,
    BYES,
    CALL_ME_ABOUT,
    CORRECTION,
    FAREWELL,
    FOR_THE_STAFF,
    NO,
    QUESTION,
    YES,
)
from voiceagent.pipeline.desk_hours import closed_day, open_then, outside_hours
from voiceagent.pipeline.desk_requests import Requests
from voiceagent.stages.fact_answer import fact_sentence, is_question
from voiceagent.stages.thanks import thanks_only

NOT_CAUGHT_WORDS = 4  # an answer this long with nothing asked for in it was garbled (see _not_caught)
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
    then_goodbye: bool = False  # the yes that ran it also said goodbye ("Okay, thank you, have a good day.")


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
    number_again: bool = False  # a number was asked for again (too few digits, or only "bye"s, were heard)
    asked_again: bool = False  # an answer with nothing asked for in it was asked for again (see _not_caught)
    asked: tuple[str, ...] = ()  # what the desk's last question asked for
    booked_day: str = ""  # a move: the day the caller said they are booked for now (ISO), the new one if none is said

    def copy(self) -> PendingAction:
        """A copy whose arguments can change without changing these."""
        return dataclasses.replace(self, arguments=dict(self.arguments))


class ActionDesk:
    """One call's actions: offered to the model, checked when called, completed over the next turns."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self.requests = Requests(persona)  # what a turn asks of the desk, read from its words
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
        does not take such words as a message (see :meth:`before_model`). A question for the staff ("Can
        she call me about Bella's stitches?") is the message."""
        return bool(ASKING.search(turn) or QUESTION.search(turn)) and not FOR_THE_STAFF.search(turn)

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
        if asked == "book_appointment" and self.requests.never_open_then(turn):
            return None  # "It's 11 at night, can I bring him in now?": what to do when closed, not a booking
        if not asked and self.requests.books_a_closed_day(turn, today):
            decision = self.on_call("book_appointment", {}, turn, today)
            return decision if isinstance(decision, Say) else None
        return self.on_call(asked, {}, turn, today) if asked else None

    def _continued(self, pending: PendingAction, turn: str, today: datetime.date) -> Decision | None:
        """A caller turn while ``pending`` waits; None when the turn drops it (see :meth:`before_model`)."""
        if pending.confirming:
            self._pending = None
            words = set(tokens(turn))
            if words & NO:
                return Say("All right, I've left it as it is. Is there anything else?")
            return Run(pending.spec, pending.arguments, self._farewell(turn)) if words & YES else None
        if ASKING.search(turn):  # "what time do you open?" is a question for the agent, not an answer
            self._pending = None
            return None
        missing = self._missing(pending)
        spec = pending.spec
        found = {arg: value for arg in missing
                 if not is_free_text(arg) and (value := self._read(spec, arg, turn, today))}
        # A question, "bye", or a name the line garbled ("Sure, it's all it be accused.") is no message;
        # a question for the staff ("Can she call me about Bella's stitches?") is one.
        name_only = name_attempt(turn) and any(arg in NAME_ARGS for arg in missing)
        no_message = (QUESTION.search(turn) or BYES.fullmatch(turn)) and not FOR_THE_STAFF.search(turn)
        if (found or not no_message) and not name_only:
            found |= {arg: value for arg in missing if is_free_text(arg) and (value := self._read(spec, arg, turn, today))}
        if CORRECTION.search(turn):  # "Could we make it Friday instead?": a day or time given earlier is changed
            found |= {arg: value for arg in spec.argument_names if arg not in missing and arg in DAY_ARGS | TIME_ARGS
                      and (value := self._read(spec, arg, turn, today)) and value != pending.arguments[arg]}
        found |= self._party(pending, turn)  # "It's for five people." is an answer too
        if not found:
            return (self._renamed(pending, turn, today) or self._short_number(pending, missing, turn)
                    or self._not_caught(pending, missing, turn))
        pending.arguments.update(found)
        self._note_booked_day(pending, turn, today)
        return self._next_step(pending, found, today)

    def answers_in_part(self, turn: str, today: datetime.date) -> bool:
        """Whether ``turn`` gives some, not all, of two or more things the desk's last question asked for
        ("It's Mike Ross," to "your name, the day and the time"): a caller who pauses after the first one
        often goes on, and an answer then would cut in. Nothing is changed."""
        pending = self._pending
        if pending is None or pending.confirming or ASKING.search(turn):
            return False
        missing = [arg for arg in pending.asked if not is_free_text(arg) and not pending.arguments.get(arg)]
        found = [arg for arg in missing if self._read(pending.spec, arg, turn, today)]
        return len(missing) >= 2 and 0 < len(found) < len(missing)

    def requested(self, turn: str) -> str:
        """The built-in action the caller asks for outright in ``turn`` (see :meth:`Requests.requested`)."""
        return self.requests.requested(turn)

    def may_act(self, turn: str) -> bool:
        """Whether ``turn`` may ask for one of the persona's actions (see :meth:`Requests.may_act`)."""
        return self.requests.may_act(turn)

    def _farewell(self, turn: str) -> bool:
        """Whether the yes in ``turn`` also says goodbye ("Okay, thank you, have a good day."), and the
        persona may end the call: the action is done, its result said, and the call ended."""
        return bool(self.requests.built_in("end_call")) and FAREWELL.search(turn) is not None

    def goodbye(self) -> Decision:
        """A caller who thanks and says goodbye ("Lovely, that's all I needed. Cheers, bye!"): the call
        ends, if the persona has the built-in ``end_call``; else the caller is only said goodbye to."""
        self._pending = None
        spec = self.persona.action("end_call")
        return Run(spec, {}) if spec is not None and spec.builtin else Say("You're welcome. Goodbye!")

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
        cue = ASKED_FOR.get(name) if spec.builtin else None
        if cue is not None and not cue.search(turn) and self.requested(turn) != name:
            return Reconsider(f"the caller's words do not ask for {name}")
        if name == "book_appointment" and spec.builtin and self.requests.asks_about_booking(turn):
            return Reconsider("a question about the business, not a request to book")  # "what does a check-up cost?"
        if name == "book_appointment" and spec.builtin and self.requests.never_open_then(turn):
            return Reconsider("a time the business never opens at")  # what to do when it is closed answers
        refusal = self._not_done(turn) if name == "book_appointment" and spec.builtin else None
        if refusal is not None and not refusal[1]:  # "Can I book a manicure?" at a hair salon
            self._pending = None
            return Say(refusal[0])
        kept = {arg: str(value).strip() for arg, value in arguments.items()
                if grounded(arg, str(value), _words_for(spec, arg, turn), self.persona.business, today)}
        pending = PendingAction(spec, kept)
        # the model may have left out what the caller did say; a message asked for with what it is about
        # ("can you ask the mechanic to call me about my brakes?") holds the message itself
        message = CALL_ME_ABOUT.search(turn) is not None
        for arg in self._missing(pending):
            if (message or not is_free_text(arg)) and (value := self._read(spec, arg, turn, today)):
                pending.arguments[arg] = value
        pending.arguments |= self._party(pending, turn)
        self._note_booked_day(pending, turn, today)
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
        """Ask for what is still missing (saying back what was just understood, and the day's hours when
        the time is asked next), read back before an action that needs a yes, or run it. A day the business
        never opens, or a time outside the day's hours, is asked again first."""
        against = self._against_hours(pending, today)
        if against:  # what was understood is still said back, but for the day or time taken back
            self._pending = pending
            kept = acknowledge({arg: value for arg, value in found.items() if arg in pending.arguments}, today)
            return Say(f"{kept} {against}".strip())
        missing = self._missing(pending)
        if missing:
            self._pending = pending
            pending.asked = tuple(missing)
            asked = _join([_ASK.get(arg, _described(pending.spec, arg)) for arg in missing])
            business, day = self.persona.business, self._day(pending, today) if set(found) & DAY_ARGS else None
            hours = open_then(business, day) if business and day and set(missing) & TIME_ARGS else ""
            return Say(" ".join(filter(None, [acknowledge(found, today) or "Sure.", hours, f"Could you give me {asked}?"])))
        if pending.spec.confirm:
            pending.confirming = True
            self._pending = pending
            return Say(f"Just to be sure: {read_back(pending.spec, pending.arguments)}? Please say yes or no.")
        self._pending = None
        return Run(pending.spec, pending.arguments)

    @staticmethod
    def _party(pending: PendingAction, turn: str) -> dict[str, str]:
        """A booking: how many people it is for, when ``turn`` says ("a table for four"; never asked for,
        kept with the booking and said back)."""
        party = party_in(turn) if pending.spec.name == "book_appointment" and pending.spec.builtin else ""
        return {PARTY_ARG: party} if party and party != pending.arguments.get(PARTY_ARG) else {}

    @staticmethod
    def _note_booked_day(pending: PendingAction, turn: str, today: datetime.date) -> None:
        """A move: note the day the caller is booked for now ("It's Priya Shah, we're booked for Saturday
        at seven."), and once a new time is given with no new day ("Could we make it 8:30 instead?"),
        the move is to that time on the same day (said back, so a caller who meant another day says so)."""
        if pending.spec.name != "move_appointment":
            return
        booked = resolve_day(current_booking(turn), today)
        pending.booked_day = booked.isoformat() if booked is not None else pending.booked_day
        day_arg = next((a for a in pending.spec.argument_names if a in DAY_ARGS), "")
        time_arg = next((a for a in pending.spec.argument_names if a in TIME_ARGS), "")
        if pending.booked_day and day_arg and time_arg and pending.arguments.get(time_arg) and not pending.arguments.get(day_arg):
            pending.arguments[day_arg] = pending.booked_day

    def _day(self, pending: PendingAction, today: datetime.date) -> datetime.date | None:
        """The day the action is for, once given (and the persona has hours to meet it)."""
        day_arg = next((a for a in pending.spec.argument_names if a in DAY_ARGS), "")
        if self.persona.business is None or not day_arg:
            return None
        return resolve_day(pending.arguments.get(day_arg, ""), today)

    def _against_hours(self, pending: PendingAction, today: datetime.date) -> str:
        """When the day asked for is one the business never opens, or the time is outside that day's hours:
        why, with the hours, and that day or time is taken back and asked again. "" when they fit."""
        business, day = self.persona.business, self._day(pending, today)
        if business is None or day is None:
            return ""
        names = pending.spec.argument_names
        day_arg = next(a for a in names if a in DAY_ARGS)
        time_arg = next((a for a in names if a in TIME_ARGS), "")
        at = resolve_time(pending.arguments.get(time_arg, "")) if time_arg else None
        said, wrong = closed_day(business, day), day_arg
        if not said and at is not None:
            said, wrong = outside_hours(business, day, at, pending.arguments.get("service", "")), time_arg
        if said:
            pending.arguments.pop(wrong)
            pending.asked = (wrong,)
        return said

    def _renamed(self, pending: PendingAction, turn: str, today: datetime.date) -> Decision | None:
        """The caller gave their name again, in full or put right ("Yeah, it's Tom." then "Tom Baker."),
        and nothing asked for: the name is changed, and what is still missing asked for. None otherwise."""
        spec = pending.spec
        arg = next((a for a in spec.argument_names if a in NAME_ARGS and pending.arguments.get(a)), "")
        name = self._read(spec, arg, turn, today) if arg else ""
        if not name or name == pending.arguments[arg]:
            return None
        pending.arguments[arg] = name
        return self._next_step(pending, {arg: name}, today)

    def _short_number(self, pending: PendingAction, missing: list[str], turn: str) -> Decision | None:
        """Asked for a number, the caller's answer held a few digits but too few for one (the phone line
        lost some), or only "bye"s (speech-to-text hears "five" as "bye" on a phone line): say what was
        heard and ask once more, rather than drop the action or hang up. None for any other answer."""
        heard, byes = digits(turn), BYES.fullmatch(turn) is not None
        if pending.number_again or not (heard or byes) or not any(arg in PHONE_ARGS for arg in missing):
            return None
        pending.number_again = True
        pending.asked = tuple(arg for arg in missing if arg in PHONE_ARGS)
        caught = f"I only caught {' '.join(heard)}" if heard else "I didn't catch the number"
        return Say(f"Sorry, {caught}. Could you say the whole number again?")

    def _not_caught(self, pending: PendingAction, missing: list[str], turn: str) -> Decision | None:
        """Nothing asked for was heard in a statement that is no question and no "no" ("If you stay with
        Ken, I booked for Wednesday.": the line garbled a name): ask once more for what is missing, rather
        than drop the action and leave the caller's next answer to the model. A question (in any clause: "I've
        got a dripping pipe under the sink, how much to fix it."), a no, a thank you, a second miss (a number too short twice), or a few
        words ("Yes.", "Okay, so": the caller may be going on) drop it (None)."""
        words = tokens(turn)
        if (pending.asked_again or pending.number_again and digits(turn) or QUESTION.search(turn) or is_question(turn) or set(words) & NO
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
    phone = next((v for a, v in found.items() if a in PHONE_ARGS), "")
    message = any(is_free_text(a) for a in found if a != PARTY_ARG)
    party = int(found.get(PARTY_ARG) or 0)
    when = " ".join(filter(None, [say_day(day, today) if day else "",
                                  f"at {say_time(at.hour * 60 + at.minute)}" if at else ""]))
    when = ", ".join(filter(None, [f"for {party} {'person' if party == 1 else 'people'}" if party else "", when]))
    parts = [f"Thanks, {name}." if name else "Thanks." if phone or message else "",
             f"{when[:1].upper()}{when[1:]}, noted." if when else "",
             f"I have your number as {spaced_digits(phone)}." if phone else "",  # a digit the line lost is put right now
             "I have your message." if message else ""]
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
