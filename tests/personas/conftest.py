"""Persona files written on the fly for the persona tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

WEEK = """
[business.hours]
monday = "9:00-17:00"
tuesday = "9:00-17:00"
wednesday = "9 am - 12 noon, 1 pm - 5 pm"
thursday = "9:00-17:00"
friday = "9:00-17:00"
saturday = "10:00-14:00"
sunday = "closed"
"""

# A made-up business, so that nothing in these tests leans on the bundled personas' words.
BAKERY = """
name = "bakery"
greeting = "Good morning, Crumb and Crust, this is Robin."

[business]
name = "Crumb and Crust"
kind = "bakery"
agent_name = "Robin"
address = "3 Mill Lane"
phone = "555 0199"
not_offered = ["wedding cakes", "delivery"]
policies = ["Orders over 20 loaves need two days' notice.", "We accept card only."]
agent_can = ["take an order for collection", "take a message"]
""" + WEEK + """
[[business.services]]
name = "sourdough loaf"
price = 6.5
aliases = ["sourdough"]

[[business.services]]
name = "birthday cake decoration"
price = 25
price_unit = "per cake"
duration_minutes = 90
notes = "Pick-up the next day"

[[examples]]
caller = "Are you open on Sunday?"
agent = "Sorry, we're closed on Sundays."
"""


@pytest.fixture
def write_persona(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` as ``NAME.toml`` in a fresh folder and return its path."""

    def write(text: str, name: str = "bakery") -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
