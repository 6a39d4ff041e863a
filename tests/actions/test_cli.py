"""``voiceagent appointments`` and ``voiceagent messages`` on a real store file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.actions.quick_lube import NOW, QUICK_LUBE
from voiceagent.__main__ import main
from voiceagent.actions.store import ActionStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    store = ActionStore(tmp_path / "actions.db")
    store.book("garage", QUICK_LUBE, name="Anna Lee", start=datetime(2026, 12, 3, 10), service="oil",
               phone="555 0142", call_id="c1", now=NOW)
    store.book("garage", QUICK_LUBE, name="Ben Okafor", start=datetime(2026, 12, 4, 9), now=NOW)
    store.cancel("garage", name="Ben Okafor", now=NOW)
    store.book("dentist", QUICK_LUBE, name="Cy Park", start=datetime(2026, 12, 3, 11), now=NOW)
    store.take_message("garage", name="Dee", phone="555 0199", text="Call me about my brakes.", now=NOW)
    store.take_message("dentist", name="Eve", phone="", text="Running late.", now=NOW)
    return store.path


def test_appointments_are_a_table_of_the_booked_ones(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["appointments", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "persona", "day", "time", "mins", "status", "name", "phone", "service", "call"]
    assert lines[1].split() == ["1", "garage", "Thu", "2026-12-03", "10:00", "30", "booked", "Anna", "Lee", "5550142",
                                "oil", "change", "c1"]
    assert "Cy Park" in lines[2] and len(lines) == 3  # Ben's cancelled appointment is left out


def test_all_and_persona_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["appointments", "--db", str(db), "--all", "--persona", "garage", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["status"], r["start"]) for r in rows] == [
        ("Anna Lee", "booked", "2026-12-03T10:00:00"), ("Ben Okafor", "cancelled", "2026-12-04T09:00:00")]
    assert rows[0]["service"] == "oil change" and rows[0]["minutes"] == 30


def test_messages_as_a_table_and_as_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["messages", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "persona", "taken", "name", "phone", "call", "message"]
    assert lines[1].split() == ["1", "garage", "2026-12-02", "09:00", "Dee", "5550199", "-", "Call", "me", "about",
                                "my", "brakes."]
    assert lines[2].split() == ["2", "dentist", "2026-12-02", "09:00", "Eve", "-", "-", "Running", "late."]
    assert main(["messages", "--db", str(db), "--json", "--persona", "garage"]) == 0
    assert json.loads(capsys.readouterr().out) == [{
        "id": 1, "persona": "garage", "name": "Dee", "phone": "5550199", "text": "Call me about my brakes.",
        "call_id": "", "created": "2026-12-02T09:00:00"}]


def test_the_default_file_is_the_actions_db_setting(db: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEAGENT_ACTIONS_DB", str(db))
    assert main(["appointments", "--persona", "dentist"]) == 0
    assert "Cy Park" in capsys.readouterr().out


def test_nothing_to_list_is_said_and_no_file_is_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.db"
    assert main(["appointments", "--db", str(missing)]) == 0
    assert main(["messages", "--db", str(missing)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["no appointments", "no messages"] and "no database" in out.err
    assert not missing.exists()
    ActionStore(missing).messages()  # an empty store
    assert main(["appointments", "--db", str(missing)]) == 0
    assert main(["appointments", "--db", str(missing), "--json"]) == 0
    assert capsys.readouterr().out.splitlines() == ["no appointments", "[]"]
