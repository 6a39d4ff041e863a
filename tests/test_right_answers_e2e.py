"""Right answers with the real engines: spoken questions (the bundled piper voice as the caller, 16 kHz)
to the garage persona through the real server, judged on what the caller hears. The persona's facts are
in voiceagent/prompts/garage.toml; the questions are not among its worked examples."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tests.conftest import RunningServer
from tests.test_call_e2e import greeted, line_open_until
from voiceagent.bench.calls.voices import SYNTHETIC, VoiceBank
from voiceagent.client import Caller

pytestmark = pytest.mark.slow

PIPER = SYNTHETIC[0]


async def ask(server: RunningServer, question: str) -> tuple[str, str]:
    """One spoken question in a new garage call: (what the server heard, what the caller heard)."""
    audio = VoiceBank(Path(tempfile.gettempdir()) / "voiceagent-test-voices").speech(PIPER, question)
    async with Caller(server.url, 16000) as caller:
        await greeted(caller, persona="garage")
        await caller.speak(audio)
        await line_open_until(caller, lambda: caller.received.of_type("turn_metrics"), timeout=60)
        await caller.wait_until_agent_quiet()
        heard = " ".join(e["text"] for e in caller.received.of_type("agent_text")
                         if e["kind"] in ("reply", "apology"))
        said = " ".join(e["text"] for e in caller.received.of_type("transcript"))
        await caller.send_json({"type": "stop"})
    return said, heard.lower()


async def test_a_closed_day_is_closed(server: RunningServer) -> None:
    said, heard = await ask(server, "Can I bring my car in on Sunday?")
    assert "sunday" in said.lower()
    assert "closed" in heard or "not open" in heard, heard


async def test_an_unknown_fact_is_not_invented(server: RunningServer) -> None:
    _, heard = await ask(server, "How much does a new car battery cost?")
    assert not re.search(r"\d", heard), heard  # the garage lists no battery price: no number may be said
    assert re.search(r"message|call you back|don't know|do not know|not sure|don't have", heard), heard


async def test_an_out_of_scope_request_is_declined(server: RunningServer) -> None:
    _, heard = await ask(server, "Could you tow my car from the motorway?")
    assert re.search(r"\b(sorry|don't|do not|no|unfortunately)\b", heard), heard
    assert not re.search(r"\b(yes|sure|of course)\b", heard), heard


async def test_the_callers_words_are_not_echoed(server: RunningServer) -> None:
    said, heard = await ask(server, "I would like to book an oil change for next Tuesday morning.")
    caller = re.findall(r"[a-z]+", said.lower())
    reply = re.findall(r"[a-z]+", heard)
    run = max((k for k in range(1, len(caller) + 1)
               for i in range(len(caller) - k + 1)
               if " ".join(caller[i:i + k]) in " ".join(reply)), default=0)
    assert run < max(4, round(0.6 * len(caller))), heard
