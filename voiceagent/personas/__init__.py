"""Personas: who the agent is on a call, the business facts it answers from, and how it sounds.

One TOML file per persona (the bundled ones are in ``voiceagent/prompts/``). A file gives its facts
under ``[business]`` (hours per weekday, services and prices, what it does not do, policies, what the
agent can do), which are validated and rendered into the system prompt, or a free-text ``system``
prompt, or both. ``voiceagent persona check FILE`` lints a file and prints the prompt it becomes.
"""

from voiceagent.personas.facts import Fact, days_named, relevant_facts
from voiceagent.personas.load import PersonaError, Problem, load_persona, load_personas
from voiceagent.personas.model import (
    WEEKDAYS,
    Business,
    DayHours,
    Exchange,
    Opening,
    Persona,
    Service,
    Weekday,
)

__all__ = [
    "WEEKDAYS",
    "Business",
    "DayHours",
    "Exchange",
    "Fact",
    "Opening",
    "Persona",
    "PersonaError",
    "Problem",
    "Service",
    "Weekday",
    "days_named",
    "load_persona",
    "load_personas",
    "relevant_facts",
]
