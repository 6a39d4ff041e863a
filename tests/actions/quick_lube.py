"""A made-up business for the action tests, so that nothing leans on the bundled personas' words."""

from __future__ import annotations

from datetime import datetime

from voiceagent.personas.model import Business, DayHours, Opening, Service
from voiceagent.personas.times import parse_day_hours


def hours(text: str) -> DayHours:
    """A day's hours as a persona file writes them: "8 am - 5 pm", "closed"."""
    return DayHours(tuple(Opening(opens, closes) for opens, closes in parse_day_hours(text)))


QUICK_LUBE = Business(
    name="Quick Lube",
    kind="car repair garage",
    agent_name="Jo",
    hours={
        "monday": hours("8 am - 5 pm"),
        "tuesday": hours("8 am - 5 pm"),
        "wednesday": hours("8 am - 12 noon, 1 pm - 5 pm"),  # a lunch break
        "thursday": hours("8 am - 5 pm"),
        "friday": hours("8 am - 5:30 pm"),
        "saturday": hours("9 am - 12 noon"),
        "sunday": hours("closed"),
    },
    services=(
        Service(name="oil change", duration_minutes=30, aliases=("oil",)),
        Service(name="brake job", duration_minutes=120, aliases=("brakes", "brake pads")),
        Service(name="inspection"),  # no duration: the default 30 minutes
    ),
    not_offered=("bodywork or paint", "towing"),
)

# Wednesday 2 December 2026, 9 am: the "now" of every test unless it says otherwise.
NOW = datetime(2026, 12, 2, 9, 0)
