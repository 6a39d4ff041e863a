"""Call records: the write policy (one whole line per write, fsync at turn ends off the event loop), torn
lines skipped with a warning, redaction of phone numbers and names in records and logs, and retention."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from voiceagent import records
from voiceagent.__main__ import main
from voiceagent.records import CallRecord, Redactor, Retention, load_record, prune_records, read_record


def _settle_disk_thread() -> None:
    """Wait until the background fsyncs and closes asked for so far are done."""
    records._disk_thread().submit(lambda: None).result(timeout=10)


def _a_call(record: CallRecord) -> None:
    """The entries of a short call in which the caller gives a name and a phone number."""
    record.write("start", call_id="c0ffee123456", persona="receptionist", transport="sip", sample_rate=8000,
                 remote='"Anna Lee" <sip:+15551234567@pbx.example.com>')
    record.write("transcript", turn=1, text="Hi, my name is Anna Lee, call me back on 555 123 4567.", revises=None)
    record.write("action", turn=1, name="take_message", outcome="done", ms=12.5,
                 arguments={"name": "Anna Lee", "phone": "555 123 4567", "text": "Anna wants a quote"},
                 details={"message_id": 7})
    record.write("reply", turn=1, text="Thanks Anna, someone will call you back on 5 5 5 1 2 3 4 5 6 7.")
    record.write("transcript", turn=2, text="It's five five five, one two three, four five six seven.",
                 revises=None)
    record.write("turn_metrics", turn=1, stages={"stt_ms": 120.0}, timeline={}, turn_ms=900.0, reply_ms=900.0,
                 budget_events=[], filler=False, interrupted=False, outcome="answered")
    record.write("end", reason="hangup", history=[
        {"role": "user", "content": "Hi, my name is Anna Lee, call me back on 555 123 4567."},
        {"role": "assistant", "content": "Thanks Anna, someone will call you back on 5 5 5 1 2 3 4 5 6 7."}])
    record.close()


PRIVATE = ("Anna", "Lee", "555", "4567", "1 2 3 4", "five five five")


# ----------------------------------------------------------------------------------- the write policy


def test_each_entry_is_one_write_of_a_whole_line_and_turn_ends_are_fsynced_off_the_caller(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = CallRecord(str(tmp_path), "c1")
    writes: list[bytes] = []
    synced: list[str] = []
    real_write, real_fsync = os.write, os.fsync

    def spy_write(fd: int, data: bytes) -> int:
        if fd == record._fd:
            writes.append(bytes(data))
        return real_write(fd, data)

    def spy_fsync(fd: int) -> None:
        synced.append(threading.current_thread().name)
        real_fsync(fd)

    monkeypatch.setattr(os, "write", spy_write)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    record.write("transcript", turn=1, text="hello " * 2000, revises=None)  # longer than any buffer
    record.write("reply", turn=1, text="hi")
    _settle_disk_thread()
    assert synced == []  # not after every entry
    record.write("turn_metrics", turn=1, outcome="answered")
    record.write("end", reason="hangup", history=[])
    record.close()
    _settle_disk_thread()
    assert len(writes) == 4 and all(w.endswith(b"\n") and w.count(b"\n") == 1 for w in writes)
    assert len(synced) == 2 and all(name.startswith("voiceagent-records") for name in synced)
    assert [e["kind"] for e in read_record(tmp_path / "c1.jsonl")] == ["transcript", "reply", "turn_metrics", "end"]


def test_a_record_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    record = CallRecord(str(tmp_path), "c2")
    record.write("start")
    record.close()
    assert stat.S_IMODE((tmp_path / "c2.jsonl").stat().st_mode) & 0o077 == 0


def test_a_write_that_fails_half_way_loses_only_its_own_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    record = CallRecord(str(tmp_path), "c3")
    record.write("transcript", turn=1, text="first", revises=None)
    real_write = os.write
    failures = iter([True])

    def disk_full_once(fd: int, data: bytes) -> int:
        if fd == record._fd and next(failures, False):
            real_write(fd, bytes(data)[:10])  # half a line reaches the file, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_once)
    with caplog.at_level(logging.WARNING, logger="voiceagent.records"):
        record.write("reply", turn=1, text="lost")  # does not raise: the call goes on
        record.write("transcript", turn=2, text="second", revises=None)
    record.close()
    assert "cannot write" in caplog.text
    read = load_record(tmp_path / "c3.jsonl")
    assert [e.get("text") for e in read.entries] == ["first", "second"] and read.skipped == [2]


# ----------------------------------------------------------------------------------- torn lines


def _torn(folder: Path, call_id: str = "c4") -> Path:
    record = CallRecord(str(folder), call_id)
    record.write("start", call_id=call_id, persona="receptionist", transport="native")
    record.write("transcript", turn=1, text="what are your hours", revises=None)
    record.write("reply", turn=1, text="We open at nine.")
    record.close()
    path = folder / f"{call_id}.jsonl"
    with path.open("ab") as file:
        file.write(b'{"at": 1.5, "kind": "transcript", "turn": 2, "text": "and on Sund')  # killed mid-write
    return path


def test_a_torn_last_line_is_skipped_counted_and_warned_about(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    path = _torn(tmp_path)
    read = load_record(path)
    assert [e["kind"] for e in read.entries] == ["start", "transcript", "reply"] and read.skipped == [4]
    assert "skipped 1 unreadable line (4)" in read.warning("c4.jsonl")
    with caplog.at_level(logging.WARNING, logger="voiceagent.records"):
        assert len(read_record(path)) == 3
    assert "skipped 1 unreadable line" in caplog.text


def test_voiceagent_calls_skips_a_torn_line_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEAGENT_REDACT", raising=False)
    _torn(tmp_path)
    assert main(["calls", "show", "c4", "--records-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr()
    assert "caller: what are your hours" in shown.out and "agent:  We open at nine." in shown.out
    assert "stopped abruptly" in shown.out
    assert "warning: c4.jsonl: skipped 1 unreadable line (4)" in shown.err
    assert main(["calls", "--records-dir", str(tmp_path)]) == 0
    assert "in progress / cut off (1 unreadable line skipped)" in capsys.readouterr().out


# ----------------------------------------------------------------------------------- redaction


def test_a_redacted_record_has_no_phone_numbers_or_names(tmp_path: Path) -> None:
    _a_call(CallRecord(str(tmp_path), "c5", redact=True))
    text = (tmp_path / "c5.jsonl").read_text()
    for private in PRIVATE:
        assert private not in text, private
    entries = read_record(tmp_path / "c5.jsonl")
    start, said, action, reply, spoken, metrics, end = entries
    assert start["call_id"] == "c0ffee123456" and start["remote"] == '"[name]" <sip:[phone]@pbx.example.com>'
    assert said["text"] == "Hi, my name is [name], call me back on [phone]."
    assert action["name"] == "take_message" and action["arguments"] == {
        "name": "[name]", "phone": "[phone]", "text": "[name] wants a quote"}
    assert reply["text"] == "Thanks [name], someone will call you back on [phone]."
    assert spoken["text"] == "It's [phone]."
    assert metrics["turn_ms"] == 900.0 and metrics["stages"] == {"stt_ms": 120.0}
    assert end["history"][1]["content"] == reply["text"] and end["reason"] == "hangup"


def test_records_are_not_redacted_unless_asked(tmp_path: Path) -> None:
    _a_call(CallRecord(str(tmp_path), "c6"))
    assert "Anna Lee" in (tmp_path / "c6.jsonl").read_text()


@pytest.mark.parametrize(("said", "shown"), [
    ("my number is 555-123-4567", "my number is [phone]"),
    ("+44 (20) 7946 0958 is my work line", "[phone] is my work line"),
    ("five five five, oh one four two", "[phone]"),
    ("book me at 10 30 on the 12th for two people", "book me at 10 30 on the 12th for two people"),
    ("on 2026-12-03 at 10:00, from 192.168.10.200", "on 2026-12-03 at 10:00, from 192.168.10.200"),
    ("This is Dr Maria Garcia from the school", "This is Dr [name] from the school"),
    ("my name is, uh, ben okafor", "my name is, uh, [name]"),
    ("I'm looking for a booking, call me back later", "I'm looking for a booking, call me back later"),
    ("call me Bob", "call me [name]"),
])
def test_redaction_of_spoken_text(said: str, shown: str) -> None:
    assert Redactor().text(said) == shown


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What a handler on the root logger writes (as ``logging.basicConfig`` sets up), redaction off after."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        records.configure_redaction(False)
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_log_lines_are_redacted_when_asked(tmp_path: Path, log_output: io.StringIO) -> None:
    logger = logging.getLogger("voiceagent.transports.example")  # a child: its records propagate to root
    logger.info("sip: call from %s", '"Carla Diaz" <sip:5550199222@pbx>')
    records.configure_redaction(True)
    logger.info("sip: call from %s", '"Carla Diaz" <sip:5550199222@pbx>')
    record = CallRecord(str(tmp_path), "c7")  # follows the process setting
    record.write("transcript", turn=1, text="my name is Anna Lee", revises=None)
    record.close()
    logger.warning("call c7 turn 1: action failed for Anna at 555 123 4567")
    try:
        raise ValueError("no booking for Anna Lee")
    except ValueError:
        logger.exception("action failed")
    records.configure_redaction(False)
    logger.info("after: 5550199222")
    lines = log_output.getvalue().splitlines()
    assert lines[0] == 'sip: call from "Carla Diaz" <sip:5550199222@pbx>'
    assert lines[1] == 'sip: call from "[name]" <sip:[phone]@pbx>'
    assert lines[2] == "call c7 turn 1: action failed for [name] at [phone]"  # a name learned in a call
    assert "ValueError: no booking for [name]" in log_output.getvalue() and "Anna" not in "".join(lines[1:-1])
    assert lines[-1] == "after: 5550199222"
    assert "Anna" not in (tmp_path / "c7.jsonl").read_text()


def test_voiceagent_calls_shows_redacted_text(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEAGENT_REDACT", raising=False)
    _a_call(CallRecord(str(tmp_path), "c8", redact=True))
    _a_call(CallRecord(str(tmp_path), "c9"))  # written before redact was turned on
    assert main(["calls", "show", "c8", "--records-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "caller: Hi, my name is [name], call me back on [phone]." in shown
    assert "agent:  Thanks [name], someone will call you back on [phone]." in shown
    assert not any(private in shown for private in PRIVATE)
    monkeypatch.setenv("VOICEAGENT_REDACT", "true")
    assert main(["calls", "show", "c9", "--records-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "caller: Hi, my name is [name]" in shown and not any(private in shown for private in PRIVATE)


# ----------------------------------------------------------------------------------- retention


def _aged(path: Path, days: float) -> Path:
    path.write_text(json.dumps({"at": 0, "kind": "start"}) + "\n")
    then = (datetime.now() - timedelta(days=days)).timestamp()
    os.utime(path, (then, then))
    return path


def test_old_call_records_are_pruned_and_new_ones_kept(tmp_path: Path) -> None:
    old, recent = _aged(tmp_path / "old.jsonl", 31), _aged(tmp_path / "recent.jsonl", 29)
    other = _aged(tmp_path / "notes.txt", 400)  # not a record
    assert prune_records(tmp_path, datetime.now() - timedelta(days=30)) == 1
    assert not old.exists() and recent.exists() and other.exists()
    assert prune_records(tmp_path / "missing", datetime.now()) == 0 and prune_records("", datetime.now()) == 0


async def test_retention_prunes_at_start_and_then_every_interval(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    cutoffs: list[datetime] = []
    now = datetime(2026, 12, 2, 9, 0)

    def broken(before: datetime) -> int:
        raise RuntimeError("database is locked")

    def store(before: datetime) -> int:
        cutoffs.append(before)
        return 2

    _aged(tmp_path / "old.jsonl", 10)
    retention = Retention.for_records(7, str(tmp_path), also={"broken": broken, "messages": store})
    retention.every_s = 0.05
    retention._clock = lambda: now
    with caplog.at_level(logging.INFO, logger="voiceagent.records"):
        retention.start()
        assert retention.running
        for _ in range(100):
            if len(cutoffs) >= 2:
                break
            await asyncio.sleep(0.02)
        await retention.stop()
    assert not retention.running and not (tmp_path / "old.jsonl").exists()
    assert len(cutoffs) >= 2 and cutoffs[0] == now - timedelta(days=7)
    assert "pruning broken failed" in caplog.text and "deleted 1 call records older than 7 days" in caplog.text


async def test_retention_of_zero_days_keeps_everything(tmp_path: Path) -> None:
    _aged(tmp_path / "ancient.jsonl", 3650)
    retention = Retention.for_records(0, str(tmp_path))
    retention.start()
    assert not retention.running
    await retention.stop()
    assert (tmp_path / "ancient.jsonl").exists()


def test_retention_and_redaction_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceagent.config import ConfigError, load_settings

    settings = load_settings(env={"VOICEAGENT_RETENTION_DAYS": "30", "VOICEAGENT_REDACT": "yes"})
    assert (settings.retention_days, settings.redact) == (30, True)
    defaults: Any = load_settings(env={})
    assert (defaults.retention_days, defaults.redact) == (0, False)
    with pytest.raises(ConfigError):
        load_settings(env={"VOICEAGENT_RETENTION_DAYS": "-1"})
