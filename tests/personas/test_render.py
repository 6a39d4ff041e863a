"""The prompt a persona becomes: facts as a list, the rules, worked examples; the same every time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.personas.conftest import BAKERY
from voiceagent.config import DEFAULT_PROMPTS_DIR
from voiceagent.personas import load_persona
from voiceagent.personas.render import RULES, say_days, say_duration

Write = Callable[..., Path]


def test_facts_rules_and_examples_are_in_the_prompt(write_persona: Write) -> None:
    system = load_persona(write_persona(BAKERY)).system
    assert system.startswith("You are Robin, answering the phone for Crumb and Crust, a bakery.")
    for line in (
        "- Address: 3 Mill Lane.",
        "- Phone: 555 0199.",
        "- Monday and Tuesday: open 9 am to 5 pm.",
        "- Wednesday: open 9 am to 12 noon and 1 pm to 5 pm.",
        "- Thursday and Friday: open 9 am to 5 pm.",
        "- Saturday: open 10 am to 2 pm.",
        "- Sunday: closed.",
        "- Sourdough loaf: 6.50 dollars.",
        "- Birthday cake decoration: 25 dollars per cake, takes about 1 hour 30 minutes. Pick-up the next day.",
        "- We do not do: wedding cakes, delivery.",
        "- We accept card only.",
        "- On this call you can: take an order for collection; take a message.",
        "Caller: Are you open on Sunday?\nYou: Sorry, we're closed on Sundays.",
    ):
        assert f"\n{line}" in system, line
    assert all(f"- {rule}" in system for rule in RULES)
    assert "sourdough\"" not in system and "aliases" not in system  # aliases only help matching
    assert system.index("Facts:") < system.index("Rules:") < system.index("Examples:")


def test_rendering_is_deterministic(write_persona: Write) -> None:
    path = write_persona(BAKERY)
    assert load_persona(path).system == load_persona(path).system


def test_the_receptionist_keeps_its_facts() -> None:
    system = load_persona(DEFAULT_PROMPTS_DIR / "receptionist.toml").system
    for fact in ("You are Sam", "Bright Smile Dental", "12 Harbour Street", "Monday to Friday: open 8 am to 6 pm",
                 "Saturday: open 9 am to 1 pm", "Sunday: closed", "Check-up: 60 dollars",
                 "book, move or cancel appointments", "take a message"):
        assert fact in system, fact


def test_days_and_durations_are_said_compactly() -> None:
    assert say_days(["monday", "tuesday", "wednesday"]) == "Monday to Wednesday"
    assert say_days(["monday", "wednesday", "saturday", "sunday"]) == "Monday, Wednesday, Saturday and Sunday"
    assert [say_duration(m) for m in (30, 60, 120, 90)] == ["30 minutes", "1 hour", "2 hours", "1 hour 30 minutes"]
