"""What a caller's turn asks of the action desk, read from its words against the persona: an action asked
for outright, one the model may be asked to choose, a booking on a closed day or at an hour the business
never opens. Pure logic: the desk (:mod:`voiceagent.pipeline.action_desk`) acts on what this reads.
"""

from __future__ import annotations

import datetime
import re

from voiceagent.actions.slots import party_in, service_in
from voiceagent.actions.when import resolve_day, resolve_time
from voiceagent.personas import Persona
from voiceagent.personas.facts import days_named
from voiceagent.personas.model import WEEKDAYS
from voiceagent.personas.render import vocabulary
from voiceagent.personas.words import Heard, stem
from voiceagent.pipeline.desk_cues import (
    ASKED_FOR,
    ASKING,
    BOOKING_NOUN,
    BOOKING_VERB,
    CHANGING,
    HOW_MUCH,
    MISHEARD_BOOKING,
    MUST_I,
    REQUESTED,
    WANTING,
    WHAT_IF,
)


class Requests:
    """Reads what a turn asks for, against ``persona``'s actions and facts."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona

    def requested(self, turn: str) -> str:
        """The built-in action the caller asks for outright in ``turn`` ("I need to move my appointment",
        "Can I leave a message?"), if the persona has it; "" for anything else, questions for the agent
        included ("How do I cancel my booking?" goes to the model)."""
        if ASKING.search(turn):
            return ""
        original = turn
        moved = self._service_moved(turn)  # "I'd like to move my check-up to Wednesday."
        if moved:
            return moved
        turn = self._without_services(turn)  # "I have a booking for an oil change." moves nothing
        for name, pattern in REQUESTED:
            if self.built_in(name) and pattern.search(turn):
                return name
        return self._misheard_booking(turn) or self._wants_a_service(original)

    def _wants_a_service(self, turn: str) -> str:
        """``book_appointment`` when ``turn`` wants one of the persona's services on a day, at a time or for
        a number of people ("I'd like a table for four", see :data:`WANTING`); "" otherwise."""
        wanted = WANTING.search(turn)
        if wanted is None or not self.built_in("book_appointment") or CHANGING.search(self._without_services(turn)):
            return ""
        # any date will do to tell whether a day is named at all
        when = resolve_day(turn, datetime.date(2026, 1, 1)) or resolve_time(turn) or party_in(turn)
        return "book_appointment" if when and service_in(self.persona.business, wanted["what"]) else ""

    def never_open_then(self, turn: str) -> bool:
        """Whether ``turn`` names a time of day no day's hours hold ("It's 11 at night, can I bring him in
        now?"): no booking is started; the policies for when the business is closed answer."""
        business = self.persona.business
        at = resolve_time(turn, business.open_at_some_time) if business is not None else None
        return at is not None and business is not None and not business.open_at_some_time(at)

    def _service_moved(self, turn: str) -> str:
        """The move or cancellation ``turn`` asks for by the service booked ("move my check-up", "cancel
        the oil change"), if the persona has it built in; "" otherwise."""
        names = self._service_names()
        said = re.search(r"\b(?P<verb>move|reschedule|rebook|push back|bring forward|cancel)\s+(?:my|our|the|his|her)\s+"
                         rf"(?:{'|'.join(re.escape(n) for n in names)})\b", turn, re.IGNORECASE) if names else None
        return self._moved_or_cancelled(said["verb"]) if said is not None else ""

    def _misheard_booking(self, turn: str) -> str:
        """The move or the cancellation ``turn`` asks for when its booking was misheard as another word
        ending in -ing ("I need to change my working."); "" otherwise (see :data:`MISHEARD_BOOKING`)."""
        said = MISHEARD_BOOKING.search(turn)
        business = self.persona.business
        if said is None or business is None or stem(said["word"]) in vocabulary(business):
            return ""
        return self._moved_or_cancelled(said["verb"])

    def _moved_or_cancelled(self, verb: str) -> str:
        """The built-in action ``verb`` asks for: a cancellation for "cancel", else a move ("" if the
        persona does not have it)."""
        return self.built_in("cancel_appointment" if verb.lower() == "cancel" else "move_appointment")

    def built_in(self, name: str) -> str:
        """``name`` when the persona has that built-in action, else ""."""
        spec = self.persona.action(name)
        return name if spec is not None and spec.builtin else ""

    def books_a_closed_day(self, turn: str, today: datetime.date) -> bool:
        """Whether ``turn`` asks to come in (in a booking's words) on a day the business never opens, and
        on no other ("Can I bring my car in on Sunday?"). The desk answers it as it would the model's call
        of the booking: why not and the days it opens, the day asked for again; the model is not needed."""
        business = self.persona.business
        if business is None or not self.built_in("book_appointment") or not ASKED_FOR["book_appointment"].search(turn):
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
        for me to cancel?"), nor one of what happens if ("What if we miss the appointment?")."""
        if WHAT_IF.search(turn):  # "What happens if we miss the appointment?"
            return False
        turn = self._without_services(turn)  # "oil change" moves nothing
        heard = Heard(turn)
        for spec in self.persona.actions:
            if not spec.builtin:
                if heard.shares_word(spec.description):
                    return True
            elif (cue := ASKED_FOR.get(spec.name)) is not None and cue.search(turn) and not (
                    spec.name == "book_appointment" and self.asks_about_booking(turn)) and not (
                    spec.name in ("cancel_appointment", "move_appointment") and HOW_MUCH.search(turn)):
                return True
        return False

    def _without_services(self, turn: str) -> str:
        """``turn`` with the persona's service names (and their aliases) taken out: their words ask for
        no action ("How much is an oil change?"). A name that is itself a word of booking ("booking",
        "reservation", which a restaurant may list as a service) stays."""
        for name in self._service_names():
            if ASKED_FOR["book_appointment"].fullmatch(name) or BOOKING_NOUN.fullmatch(name):
                continue
            turn = re.sub(rf"\b{re.escape(name)}\b", " ", turn, flags=re.IGNORECASE)
        return turn

    def _service_names(self) -> list[str]:
        """Every name and alias of the persona's services."""
        business = self.persona.business
        return [n for s in business.services for n in (s.name, *s.aliases)] if business else []

    @staticmethod
    def asks_about_booking(turn: str) -> bool:
        """Whether ``turn`` is a question about the business with no booking verb ("what does a check-up
        cost?"), or one whether something must be done to book ("Do I have to put a deposit down to book?";
        not "Do I have to book?", which the model hears): it asks for no booking."""
        return bool(ASKING.search(turn) and not BOOKING_VERB.search(turn) or MUST_I.search(turn))

