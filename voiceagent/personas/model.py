"""The persona's typed facts: opening hours, services, what the business does and does not do.

These are validated dataclasses (pydantic): built from a persona file, they are known to be well formed,
so the prompt renderer, the per-turn fact matcher and reply checks can rely on them.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

from voiceagent.personas.actions import ActionSpec
from voiceagent.personas.times import parse_day_hours

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_NOT_HEARD = "Sorry, I didn't catch that. Could you say it again?"
DEFAULT_DONT_KNOW = "I'm sorry, I don't have that information. I can take a message and have someone call you back."

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)

NonEmpty = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True, config=STRICT)
class Opening:
    """One opening span of a day, in minutes after midnight (``closes`` may be 1440, midnight)."""

    opens: int
    closes: int


@dataclass(frozen=True, config=STRICT)
class DayHours:
    """A weekday's opening spans; none means closed all day."""

    openings: tuple[Opening, ...] = ()

    @property
    def closed(self) -> bool:
        """True when the business does not open at all that day."""
        return not self.openings



def _day_hours(value: Any) -> Any:
    if isinstance(value, str):
        return DayHours(tuple(Opening(opens, closes) for opens, closes in parse_day_hours(value)))
    return value


HoursText = Annotated[DayHours, BeforeValidator(_day_hours)]


@dataclass(frozen=True, config=STRICT)
class Service:
    """Something the business sells, with its price and how long it takes."""

    name: NonEmpty
    price: Annotated[float, Field(ge=0)] | None = None  # in the business's currency; None: not listed
    price_unit: str = ""  # what the price is for, e.g. "per axle" ("" = the whole service)
    duration_minutes: Annotated[int, Field(gt=0)] | None = None
    notes: str = ""  # a short sentence said with the service
    aliases: tuple[NonEmpty, ...] = ()  # other words callers use for it (matching only, not in the prompt)


@dataclass(frozen=True, config=STRICT)
class Exchange:
    """A worked example: what a caller says and what a good agent reply is."""

    caller: NonEmpty
    agent: NonEmpty


@dataclass(frozen=True, config=STRICT)
class Business:
    """The facts a caller can ask about. ``hours`` has every weekday, closed ones included."""

    name: NonEmpty
    kind: NonEmpty  # what sort of business, e.g. "dental practice"
    agent_name: NonEmpty  # the name the agent answers the phone with
    hours: dict[Weekday, HoursText]
    address: str = ""
    phone: str = ""
    currency: NonEmpty = "dollars"  # the word said after a price
    services: tuple[Service, ...] = ()
    not_offered: tuple[NonEmpty, ...] = ()  # things the business does not do
    policies: tuple[NonEmpty, ...] = ()  # short sentences, e.g. "We take card or cash."
    agent_can: tuple[NonEmpty, ...] = ()  # what the agent can do on the call, e.g. "take a message"
    bookings_at_once: Annotated[int, Field(ge=1, le=1000)] = 1  # chairs, bays, tables: bookings that may overlap

    @field_validator("hours")
    @classmethod
    def _every_weekday(cls, hours: dict[Weekday, DayHours]) -> dict[Weekday, DayHours]:
        missing = [day for day in WEEKDAYS if day not in hours]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}: give each day's hours, or \"closed\"")
        return {day: hours[day] for day in WEEKDAYS}

    @field_validator("services", mode="before")
    @classmethod
    def _unique_services(cls, services: Any) -> Any:
        seen: set[str] = set()
        for service in services if isinstance(services, list) else ():
            name = service.get("name") if isinstance(service, dict) else None
            key = " ".join(name.lower().split()) if isinstance(name, str) else None
            if key in seen:
                raise ValueError(f"service {name!r} is listed twice")
            if key:
                seen.add(key)
        return services

    def hours_on(self, day: Weekday) -> DayHours:
        """The opening hours of ``day``."""
        return self.hours[day]

    def open_at_some_time(self, at: datetime.time) -> bool:
        """Whether ``at`` falls within the hours of any day (11 pm, for most businesses, does not)."""
        minute = at.hour * 60 + at.minute
        return any(o.opens <= minute < o.closes for day in WEEKDAYS for o in self.hours[day].openings)

    def open_days(self) -> tuple[Weekday, ...]:
        """The weekdays the business opens, Monday first."""
        return tuple(day for day in WEEKDAYS if not self.hours[day].closed)

    def service_named(self, name: str) -> Service | None:
        """The service called ``name`` (case and spacing ignored), or None."""
        key = " ".join(name.lower().split())
        return next((s for s in self.services if " ".join(s.name.lower().split()) == key), None)


@dataclasses.dataclass(frozen=True, slots=True)
class Persona:
    """How the agent talks on a call, and the facts it answers from.

    ``system`` is the whole system prompt the model gets: the rendered facts and rules, the worked
    examples, and the file's own ``system`` text (all of it, for a persona without facts).
    """

    name: str
    description: str
    system: str
    greeting: str
    fillers: tuple[str, ...]
    apology: str
    business: Business | None = dataclasses.field(default=None, hash=False)  # the facts; None: free text
    dont_know: str = DEFAULT_DONT_KNOW  # said instead of a reply that failed a fact check, when no fact applies
    not_heard: str = DEFAULT_NOT_HEARD  # said when the caller spoke but no words were heard (see ask_again_after_s)
    examples: tuple[Exchange, ...] = ()  # worked exchanges (already part of ``system``)
    instructions: str = ""  # the file's free-text ``system`` (already part of ``system``)
    actions: tuple[ActionSpec, ...] = ()  # what the agent may do on the call (described in ``system``)

    def action(self, name: str) -> ActionSpec | None:
        """The declared action called ``name``, or None."""
        return next((a for a in self.actions if a.name == name), None)
