"""The business's hours against the day and time a caller asks for: a day it never opens, or a time outside
that day's hours, is asked again with the hours said; a day given without a time is said back with that
day's hours, so the time the caller then picks is one the business is open.

Sans-I/O, like the desk that uses it: each function takes the day and time already resolved and returns
the words to say ("" when there is nothing to say). Nothing here stores or changes an action.
"""

from __future__ import annotations

import datetime

from voiceagent.actions.rules import check_slot, find_service, say_hours, service_minutes
from voiceagent.personas.model import WEEKDAYS, Business
from voiceagent.personas.render import week_sentence


def closed_day(business: Business, day: datetime.date) -> str:
    """Why ``day`` cannot be booked when the business never opens that weekday, and which days it does
    (then the day is asked again); "" on a day it opens."""
    weekday = WEEKDAYS[day.weekday()]
    if not business.hours_on(weekday).closed:
        return ""
    return f"Sorry, we're closed on {weekday.title()}s. {week_sentence(business, closed_days=False)} Which day would suit you?"


def outside_hours(business: Business, day: datetime.date, at: datetime.time, service: str = "") -> str:
    """Why ``service`` (or an appointment of the default length) cannot start at ``at`` on ``day``: before
    opening, after closing, between two spans, or too late to finish by closing time, with the day's hours
    (then the time is asked again). The booking's own rules say it (:func:`~voiceagent.actions.rules.check_slot`),
    as the store will when it runs; "" when it fits, or the day is closed (:func:`closed_day` says that).
    Whether the time has already passed is left to the store, which knows the clock: here "now" is the
    day's midnight."""
    if business.hours_on(WEEKDAYS[day.weekday()]).closed:
        return ""
    start, midnight = datetime.datetime.combine(day, at), datetime.datetime.combine(day, datetime.time())
    known = find_service(business, service) if service.strip() else None  # the caller's words may name none
    name = known.name if known else ""
    why = check_slot(business, start, service_minutes(business, name), midnight, service=name)
    return f"Sorry, {why}. What time would suit you?" if why else ""


def open_then(business: Business, day: datetime.date) -> str:
    """That day's hours, said when the day was just given and the time is asked next: ``"We're open from
    9 am to 6 pm that day."`` ("" on a closed day)."""
    hours = business.hours_on(WEEKDAYS[day.weekday()])
    return "" if hours.closed else f"We're open {say_hours(hours)} that day."
