"""The business rules of a booking, checked in code against the persona's facts: pure functions, no I/O.

Every refusal is a short sentence the agent can say as it is ("we're closed on Sundays"), so what the
caller hears is what the rules decided, never what a model guessed. Times are the business's local wall
clock, as naive datetimes; an appointment must fit inside one opening span of its day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from voiceagent.personas.model import WEEKDAYS, Business, DayHours, Service
from voiceagent.personas.times import say_time

DEFAULT_MINUTES = 30  # an appointment for a service with no duration, or none named
SLOT_STEP_MINUTES = 15  # free start times offered instead of a taken one are on the quarter hour


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def find_service(business: Business, name: str) -> Service | None:
    """The service called ``name`` or one of its aliases (case and spacing ignored), or None."""
    found = business.service_named(name)
    if found is not None:
        return found
    key = _key(name)
    return next((s for s in business.services if key in {_key(alias) for alias in s.aliases}), None)


def service_minutes(business: Business, service_name: str) -> int:
    """How long ``service_name`` takes, in minutes: its ``duration_minutes``, else :data:`DEFAULT_MINUTES`."""
    found = find_service(business, service_name) if service_name.strip() else None
    return found.duration_minutes if found and found.duration_minutes else DEFAULT_MINUTES


def not_offered(business: Business, service_name: str) -> str | None:
    """A spoken refusal when ``service_name`` is something the business does not do, else None.

    It matches when every word of the name is in one of ``business.not_offered`` ("paint" matches
    "bodywork or paint"), unless the name is one of the services the business does offer.
    """
    words = set(_key(service_name).split())
    if not words or find_service(business, service_name) is not None:
        return None
    item = next((item for item in business.not_offered if words <= set(_key(item).split())), None)
    return f"sorry, we don't do {item}" if item else None


def say_duration(minutes: int) -> str:
    """A duration as it is said: "30 minutes", "an hour", "an hour and a half", "2 hours and 15 minutes"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} minutes"
    said = "an hour" if hours == 1 else f"{hours} hours"
    if rest == 30:
        return "an hour and a half" if hours == 1 else f"{hours} and a half hours"
    return said if not rest else f"{said} and {rest} minutes"


def say_hours(hours: DayHours) -> str:
    """A day's opening hours as said: "from 8 am to 12 noon", "from 9 am to 12 noon and from 1 pm to 5 pm"."""
    return " and ".join(f"from {say_time(o.opens)} to {say_time(o.closes)}" for o in hours.openings)


def _days(day: date) -> str:
    """The weekday of ``day`` as said of every such day: "Sundays"."""
    return WEEKDAYS[day.weekday()].capitalize() + "s"


def _subject(service: str) -> str:
    """What takes the time, as said: "an oil change", "a brake pad replacement", "the appointment"."""
    if not service.strip():
        return "the appointment"
    return f"{'an' if service.strip()[0].lower() in 'aeiou' else 'a'} {service.strip()}"


def check_slot(business: Business, start: datetime, minutes: int, now: datetime, *,
               service: str = "") -> str | None:
    """None when an appointment of ``minutes`` from ``start`` is bookable, else why not, said plainly.

    It must start after ``now``, on a day the business opens, and begin and end inside one opening span.
    ``service`` (its name) is only used in the sentence: "an oil change takes 30 minutes and we close
    at 5:30 pm". Raises ValueError when ``minutes`` is not positive.
    """
    if minutes <= 0:
        raise ValueError(f"an appointment takes a positive number of minutes, not {minutes}")
    if start < now:
        return "that time has already passed"
    hours = business.hours_on(WEEKDAYS[start.weekday()])
    days = _days(start.date())
    if hours.closed:
        return f"we're closed on {days}"
    at = start.hour * 60 + start.minute
    span = next((o for o in hours.openings if o.opens <= at < o.closes), None)
    if span is None:
        if at < hours.openings[0].opens:
            return f"that's before we open: on {days} we're open {say_hours(hours)}"
        if at >= hours.openings[-1].closes:
            return f"that's after we close: on {days} we're open {say_hours(hours)}"
        return f"we're closed at that time: on {days} we're open {say_hours(hours)}"
    if at + minutes > span.closes:
        reason = f"{_subject(service)} takes {say_duration(minutes)} and we close at {say_time(span.closes)}"
        latest = span.closes - minutes
        return f"{reason}; the latest it can start is {say_time(latest)}" if latest >= span.opens else reason
    return None


def _overlaps(start: datetime, end: datetime, taken: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(s < end and start < e for s, e in taken)


def full_spans(booked: Sequence[tuple[datetime, datetime]], at_once: int) -> list[tuple[datetime, datetime]]:
    """The spans of time in which ``at_once`` or more of the ``booked`` spans overlap: no booking may
    touch them. With ``at_once`` 1 that is every booked span."""
    edges = sorted([(s, 1) for s, _ in booked] + [(e, -1) for _, e in booked], key=lambda edge: (edge[0], edge[1]))
    full: list[tuple[datetime, datetime]] = []
    running, since = 0, None
    for at, step in edges:  # ends sort before starts at the same instant: back-to-back spans do not overlap
        running += step
        if running >= at_once and since is None:
            since = at
        elif running < at_once and since is not None:
            if at > since:
                full.append((since, at))
            since = None
    return full


def free_starts(business: Business, day: date, minutes: int, taken: Sequence[tuple[datetime, datetime]],
                now: datetime, *, step: int = SLOT_STEP_MINUTES) -> list[datetime]:
    """Every bookable start on ``day``, on the ``step``-minute grid, that overlaps no span in ``taken``."""
    found: list[datetime] = []
    midnight = datetime.combine(day, datetime.min.time())
    for opening in business.hours_on(WEEKDAYS[day.weekday()]).openings:
        first = -(-opening.opens // step) * step
        for at in range(first, opening.closes - minutes + 1, step):
            start = midnight + timedelta(minutes=at)
            end = start + timedelta(minutes=minutes)
            if check_slot(business, start, minutes, now) is None and not _overlaps(start, end, taken):
                found.append(start)
    return found


def nearest_free(business: Business, wanted: datetime, minutes: int,
                 taken: Sequence[tuple[datetime, datetime]], now: datetime, *, count: int = 2) -> list[datetime]:
    """Up to ``count`` free starts on ``wanted``'s day, in time order: the nearest before it and after it
    in turn (so a caller hears one earlier and one later choice), then more from whichever side has them."""
    free = free_starts(business, wanted.date(), minutes, taken, now)
    sides = ([s for s in reversed(free) if s < wanted], [s for s in free if s >= wanted])  # nearest first
    picked: list[datetime] = []
    while len(picked) < count and any(sides):
        for side in sides:
            if side and len(picked) < count:
                picked.append(side.pop(0))
    return sorted(picked)


def taken_reason(free: Sequence[datetime]) -> str:
    """Why a taken time is refused, with the free starts offered: "that time is taken; 11 am or 2 pm are free"."""
    said = [say_time(start.hour * 60 + start.minute) for start in free]
    if not said:
        return "that time is taken, and we're fully booked that day"
    if len(said) == 1:
        return f"that time is taken; {said[0]} is free"
    return f"that time is taken; {', '.join(said[:-1])} or {said[-1]} are free"
