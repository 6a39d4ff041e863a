"""The bundled garage's facts, for the tests of the stages that check and compose replies from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.personas import load_persona
from voiceagent.personas.model import Business

PROMPTS = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts"


@pytest.fixture(scope="module")
def garage() -> Business:
    """Oak Street Garage: hours, five services, things it does not do, policies."""
    business = load_persona(PROMPTS / "garage.toml").business
    assert business is not None
    return business
