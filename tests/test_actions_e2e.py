"""Actions with the real engines, through the real server: spoken callers (the bundled piper voice,
16 kHz) book, leave a message and cancel with the garage persona; what is stored is read back from the
real SQLite file, and the listing is the real `voiceagent messages` command."""

from __future__ import annotations

import datetime
import json
import tempfile
from pathlib import Path

import pytest

from tests.conftest import RunningServer
from tests.test_call_e2e import greeted, line_open_until
from voiceagent.__main__ import main
from voiceagent.actions.store import ActionStore
from voiceagent.actions.when import resolve_day
from voiceagent.bench.calls.voices import SYNTHETIC, VoiceBank
from voiceagent.client import Caller
from voiceagent.personas import load_persona

pytestmark = pytest.mark.slow

PIPER = SYNTHETIC[0]
GARAGE = Path(__file__).resolve().parents[1] / "voiceagent" / "prompts" / "garage.toml"


async def conversation(server: RunningServer, lines: list[str]) -> list[str]:
    """One garage call: each line spoken after the agent has answered the one before (a line the server
    took as two turns, the first continued, counts as one); what the caller heard after each line."""
    voices = VoiceBank(Path(tempfile.gettempdir()) / "voiceagent-test-voices")
    heard: list[str] = []
    done = 0  # the last turn answered
    async with Caller(server.url, 16000) as caller:
        await greeted(caller, persona="garage")
        for line in lines:
            await caller.speak(voices.speech(PIPER, line))

            def answered(after: int = done) -> list[int]:
                return [e["turn"] for e in caller.received.of_type("turn_metrics")
                        if e["turn"] > after and e["outcome"] != "continued"]

            await line_open_until(caller, lambda: bool(answered()), timeout=90)
            await caller.wait_until_agent_quiet()
            turn = answered()[0]
            heard.append(" ".join(e["text"] for e in caller.received.of_type("agent_text")
                                  if done < e["turn"] <= turn and e["kind"] != "filler"))
            done = turn
        await caller.send_json({"type": "stop"})
    return heard


async def test_a_spoken_booking_is_stored_with_the_right_name_and_day(server: RunningServer) -> None:
    heard = await conversation(server, ["I'd like to book an oil change, please.",
                                        "My name is John Smith. Tuesday at 10 am."])
    store = ActionStore(server.settings.actions_db)
    booked = [a for a in store.appointments("garage") if a.name == "John Smith"]
    tuesday = resolve_day("Tuesday", datetime.date.today())
    assert [a.start for a in booked] == [datetime.datetime.combine(tuesday, datetime.time(10))], heard  # type: ignore[arg-type]
    assert "booked" in heard[-1].lower() and "john smith" in heard[-1].lower(), heard


async def test_a_spoken_booking_on_a_closed_day_is_refused_with_the_reason_and_nothing_is_stored(
    server: RunningServer,
) -> None:
    heard = await conversation(server, ["I'd like to book an oil change, please.",
                                        "My name is Linda Park. Sunday at 10 am."])
    assert "closed" in heard[-1].lower() and "sunday" in heard[-1].lower(), heard
    store = ActionStore(server.settings.actions_db)
    assert [a for a in store.appointments("garage") if a.name == "Linda Park"] == [], heard


async def test_a_spoken_message_is_listed_by_voiceagent_messages(
    server: RunningServer, capsys: pytest.CaptureFixture[str],
) -> None:
    heard = await conversation(server, ["Can I leave a message for the mechanic?",
                                        "It's Mary Jones, 555 0199. Please call me about my brakes."])
    assert main(["messages", "--db", server.settings.actions_db, "--json"]) == 0
    messages = json.loads(capsys.readouterr().out)
    mine = [m for m in messages if m["name"] == "Mary Jones"]
    assert mine and mine[0]["phone"].replace(" ", "") == "5550199" and "call me" in mine[0]["text"].lower(), (heard, messages)


async def test_a_cancellation_happens_only_after_the_caller_says_yes(server: RunningServer) -> None:
    store = ActionStore(server.settings.actions_db)
    now = datetime.datetime.now()
    monday = resolve_day("Monday", now.date())
    assert monday is not None
    business = load_persona(GARAGE).business
    assert business is not None
    store.book("garage", business, name="Peter Brown",
               start=datetime.datetime.combine(monday, datetime.time(9)), service="oil change", now=now)
    # The read-back comes first (nothing is cancelled before a yes: tests/pipeline/test_action_desk.py).
    heard = await conversation(server, ["Please cancel my appointment. My name is Peter Brown.", "Yes, please."])
    assert "yes or no" in heard[0].lower(), heard
    assert [a.status for a in store.appointments("garage", include_cancelled=True)
            if a.name == "Peter Brown"] == ["cancelled"], heard
