"""The embedded action backend: appointments and messages in one SQLite file, the rules checked in code.

What a method returns has happened: it is committed before the method returns, and a refusal
(:class:`Refused`, with a sentence the agent can say) stores nothing. Each operation opens its own
connection and runs in one transaction (``BEGIN IMMEDIATE`` for changes, so a check and the write it
allows are one step even across processes), so the store is safe to call from worker threads
(``asyncio.to_thread``). Several businesses share a file: every row has its persona's name.

Times are the business's local wall clock as naive datetimes, stored as ISO 8601 text, to the minute.
The schema's version is ``PRAGMA user_version``; a file from a newer version is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from voiceagent.actions.rules import (
    check_slot,
    find_service,
    full_spans,
    nearest_free,
    not_offered,
    service_minutes,
    taken_reason,
)
from voiceagent.personas.model import Business

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MAX_NAME_CHARS = 100
MAX_TEXT_CHARS = 2000
_MIGRATIONS: tuple[tuple[str, ...], ...] = (  # _MIGRATIONS[v] takes a file from version v to v + 1
    (
        """CREATE TABLE appointments (
            id INTEGER PRIMARY KEY, persona TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
            phone TEXT NOT NULL, service TEXT NOT NULL, start TEXT NOT NULL, ends TEXT NOT NULL,
            minutes INTEGER NOT NULL CHECK (minutes > 0),
            status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
            call_id TEXT NOT NULL, created TEXT NOT NULL, key TEXT, UNIQUE (persona, key))""",
        "CREATE INDEX appointments_by_start ON appointments (persona, status, start)",
        "CREATE INDEX appointments_by_name ON appointments (persona, name_key, status)",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY, persona TEXT NOT NULL, name TEXT NOT NULL, phone TEXT NOT NULL,
            text TEXT NOT NULL, call_id TEXT NOT NULL, created TEXT NOT NULL, key TEXT, UNIQUE (persona, key))""",
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY, appointment_id INTEGER NOT NULL REFERENCES appointments (id),
            action TEXT NOT NULL, start TEXT NOT NULL, call_id TEXT NOT NULL, at TEXT NOT NULL)""",
    ),
    ("ALTER TABLE appointments ADD COLUMN party INTEGER NOT NULL DEFAULT 0",),  # how many people; 0: not said
)

Status = Literal["booked", "cancelled"]


class Refused(Exception):
    """The store did not do it. ``reason`` is a short sentence the agent can say to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreError(RuntimeError):
    """The database file cannot be used (for instance, written by a newer voiceagent)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Appointment:
    """A booking: ``start`` for ``minutes``; cancelled ones are kept with ``status="cancelled"``."""

    id: int
    persona: str
    name: str
    phone: str
    service: str
    start: datetime
    minutes: int
    status: Status
    call_id: str  # the call that booked it
    created: datetime
    party: int = 0  # how many people it is for (a table for four); 0 when the caller did not say

    @property
    def end(self) -> datetime:
        """When the appointment is over."""
        return self.start + timedelta(minutes=self.minutes)


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A message taken for the business: who, how to call them back, and what they said."""

    id: int
    persona: str
    name: str
    phone: str
    text: str
    call_id: str
    created: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One thing done to an appointment ("booked", "moved", "cancelled"), by which call, and when."""

    appointment_id: int
    action: str
    start: datetime  # the appointment's start after the change
    call_id: str
    at: datetime


def name_key(name: str) -> str:
    """A name as it is matched: case, spaces and punctuation ignored ("Anna-Lee" is "anna lee")."""
    return re.sub(r"[\W_]+", "", name.casefold())


_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}


def normalise_phone(phone: str) -> str:
    """A phone number as its digits (a leading "+" kept); digits said as words count: "five five five"."""
    words = re.findall(r"\+|\d|[a-z]+", phone.lower())
    digits = "".join(w if w[0].isdigit() else _DIGIT_WORDS.get(w, "") for w in words if w != "+")
    plus = "+" if phone.strip().startswith("+") and digits else ""
    return plus + digits


def _text(value: str, *, missing: str, limit: int, too_long: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise Refused(missing)
    if len(cleaned) > limit:
        raise Refused(too_long)
    return cleaned


def _phone(phone: str) -> str:
    digits = normalise_phone(phone)
    if phone.strip() and not digits:
        raise Refused("I didn't catch the phone number; could you say it digit by digit?")
    return digits


def _naive(*moments: datetime) -> None:
    if any(m.tzinfo is not None for m in moments):
        raise ValueError("use the business's local time as a naive datetime")


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _iso(moment: datetime) -> str:
    """A start or end as stored: ISO 8601 to the minute (naive times of one format sort as text)."""
    return _minute(moment).isoformat()


def _stamp(moment: datetime) -> str:
    """When something was done, as stored: ISO 8601 to the second."""
    return moment.replace(microsecond=0).isoformat()


def _appointment(row: sqlite3.Row) -> Appointment:
    return Appointment(id=row["id"], persona=row["persona"], name=row["name"], phone=row["phone"],
                       service=row["service"], start=datetime.fromisoformat(row["start"]), minutes=row["minutes"],
                       status=row["status"], call_id=row["call_id"], created=datetime.fromisoformat(row["created"]),
                       party=row["party"])


def _message(row: sqlite3.Row) -> Message:
    return Message(id=row["id"], persona=row["persona"], name=row["name"], phone=row["phone"], text=row["text"],
                   call_id=row["call_id"], created=datetime.fromisoformat(row["created"]))


class ActionStore:
    """Appointments and messages of one or more personas in the SQLite file at ``path`` (made on first use)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._write_lock = threading.Lock()  # writers of this process queue here, not in SQLite's busy loop
        self._schema_lock = threading.Lock()
        self._ready = False

    # -- connections and transactions

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        if not self._ready:
            with self._schema_lock:
                if not self._ready:
                    self._migrate(db)
                    self._ready = True
        return db

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Switch the file to write-ahead logging (readers never wait for a writer), once per file.

        Two processes opening a new file at once can both try it; SQLite then answers "locked" at once,
        without waiting, so this waits and tries again for up to ``timeout_s``.
        """
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if mode != "wal":  # a file system without shared memory: still correct, readers wait for writers
                log.warning("%s: SQLite kept journal mode %r instead of WAL", self.path, mode)
            return

    def _migrate(self, db: sqlite3.Connection) -> None:
        self._use_wal(db)
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {version}; this voiceagent knows up to "
                                 f"{SCHEMA_VERSION}: upgrade voiceagent")
            for statements in _MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back (nothing stored) when it raises."""
        with self._write_lock, contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(self._connect()) as db:
            yield db

    # -- appointments

    def book(self, persona: str, business: Business, *, name: str, start: datetime, service: str = "",
             phone: str = "", call_id: str = "", now: datetime, key: str | None = None, party: int = 0) -> Appointment:
        """Book ``name`` at ``start`` for ``service`` (its duration, else 30 minutes); raise :class:`Refused`.

        Refused: no name, a service the business does not do, a time :func:`check_slot` refuses, or one
        that overlaps another booked appointment of ``persona`` (the reason offers the nearest free
        starts that day). With ``key``, a second call with the same key returns the first booking.
        """
        _naive(start, now)
        start = _minute(start)
        with self._write() as db:
            if key and (row := self._row(db, "appointments", persona, key)) is not None:
                return _appointment(row)
            name = _text(name, missing="I need a name for the booking", limit=MAX_NAME_CHARS,
                         too_long="could you give me just your first and last name?")
            phone = _phone(phone)
            refusal = not_offered(business, service)
            if refusal:
                raise Refused(refusal)
            found = find_service(business, service)
            label = found.name if found else " ".join(service.split())
            minutes = service_minutes(business, service)
            self._check(db, persona, business, start, minutes, now, label, exclude=None)
            cursor = db.execute(
                "INSERT INTO appointments (persona, name, name_key, phone, service, start, ends, minutes, status,"
                " call_id, created, key, party) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?)",
                (persona, name, name_key(name), phone, label, _iso(start),
                 _iso(start + timedelta(minutes=minutes)), minutes, call_id, _stamp(now), key or None, max(0, party)))
            return self._changed(db, cursor.lastrowid or 0, "booked", call_id, now)

    def move(self, persona: str, business: Business, *, name: str, new_start: datetime, now: datetime,
             call_id: str = "") -> Appointment:
        """Move ``name``'s next booked appointment to ``new_start`` (same checks as :meth:`book`)."""
        _naive(new_start, now)
        new_start = _minute(new_start)
        with self._write() as db:
            current = self._next_for(db, persona, name, now)
            self._check(db, persona, business, new_start, current.minutes, now, current.service, exclude=current.id)
            db.execute("UPDATE appointments SET start = ?, ends = ? WHERE id = ?",
                       (_iso(new_start), _iso(new_start + timedelta(minutes=current.minutes)), current.id))
            return self._changed(db, current.id, "moved", call_id, now)

    def cancel(self, persona: str, *, name: str, now: datetime, call_id: str = "") -> Appointment:
        """Cancel ``name``'s next booked appointment; raise :class:`Refused` when there is none."""
        _naive(now)
        with self._write() as db:
            current = self._next_for(db, persona, name, now)
            db.execute("UPDATE appointments SET status = 'cancelled' WHERE id = ?", (current.id,))
            return self._changed(db, current.id, "cancelled", call_id, now)

    def upcoming(self, persona: str, *, name: str, now: datetime) -> list[Appointment]:
        """``name``'s booked appointments that are not over by ``now``, soonest first."""
        _naive(now)
        with self._read() as db:
            rows = db.execute("SELECT * FROM appointments WHERE persona = ? AND name_key = ? AND status = 'booked'"
                              " AND ends > ? ORDER BY start, id", (persona, name_key(name), _iso(now))).fetchall()
        return [_appointment(row) for row in rows]

    def appointments(self, persona: str | None = None, *, include_cancelled: bool = False) -> list[Appointment]:
        """Every booked appointment (and cancelled ones with ``include_cancelled``), of one persona or all."""
        query = "SELECT * FROM appointments WHERE (? IS NULL OR persona = ?)"
        if not include_cancelled:
            query += " AND status = 'booked'"
        with self._read() as db:
            rows = db.execute(query + " ORDER BY start, id", (persona, persona)).fetchall()
        return [_appointment(row) for row in rows]

    def history(self, appointment_id: int) -> list[Change]:
        """What was done to one appointment, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT * FROM changes WHERE appointment_id = ? ORDER BY id", (appointment_id,))
            return [Change(appointment_id=r["appointment_id"], action=r["action"],
                           start=datetime.fromisoformat(r["start"]), call_id=r["call_id"],
                           at=datetime.fromisoformat(r["at"])) for r in rows.fetchall()]

    def _check(self, db: sqlite3.Connection, persona: str, business: Business, start: datetime, minutes: int,
               now: datetime, service: str, *, exclude: int | None) -> None:
        """Raise :class:`Refused` unless ``start`` is open and free (``exclude``: the appointment being moved)."""
        reason = check_slot(business, start, minutes, now, service=service)
        if reason:
            raise Refused(reason)
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        rows = db.execute("SELECT start, ends FROM appointments WHERE persona = ? AND status = 'booked'"
                          " AND start < ? AND ends > ? AND id IS NOT ?",
                          (persona, _iso(day + timedelta(days=1)), _iso(day), exclude)).fetchall()
        booked = [(datetime.fromisoformat(r["start"]), datetime.fromisoformat(r["ends"])) for r in rows]
        taken = full_spans(booked, business.bookings_at_once)
        end = start + timedelta(minutes=minutes)
        if any(s < end and start < e for s, e in taken):
            raise Refused(taken_reason(nearest_free(business, start, minutes, taken, now)))

    def _next_for(self, db: sqlite3.Connection, persona: str, name: str, now: datetime) -> Appointment:
        """``name``'s next booked appointment that has not started by ``now``; :class:`Refused` when none."""
        row = db.execute("SELECT * FROM appointments WHERE persona = ? AND name_key = ? AND status = 'booked'"
                         " AND start > ? ORDER BY start, id LIMIT 1", (persona, name_key(name), _iso(now))).fetchone()
        if row is None:
            said = " ".join(name.split())
            raise Refused(f"I can't find an upcoming appointment under the name {said}" if said
                          else "I need the name the appointment is under")
        return _appointment(row)

    def _changed(self, db: sqlite3.Connection, appointment_id: int, action: str, call_id: str,
                 now: datetime) -> Appointment:
        """Log ``action`` on the appointment and return it as it now is."""
        row = db.execute("SELECT * FROM appointments WHERE id = ?", (appointment_id,)).fetchone()
        db.execute("INSERT INTO changes (appointment_id, action, start, call_id, at) VALUES (?, ?, ?, ?, ?)",
                   (appointment_id, action, row["start"], call_id, _stamp(now)))
        return _appointment(row)

    # -- messages

    def take_message(self, persona: str, *, name: str, phone: str, text: str, call_id: str = "",
                     now: datetime, key: str | None = None) -> Message:
        """Store a message from ``name``; name and text are required, ``phone`` is kept as its digits.

        With ``key``, a second call with the same key returns the first message instead of storing twice.
        """
        _naive(now)
        with self._write() as db:
            if key and (row := self._row(db, "messages", persona, key)) is not None:
                return _message(row)
            name = _text(name, missing="I need your name for the message", limit=MAX_NAME_CHARS,
                         too_long="could you give me just your first and last name?")
            text = _text(text, missing="what would you like the message to say?", limit=MAX_TEXT_CHARS,
                         too_long="that message is too long; could you say it more briefly?")
            cursor = db.execute("INSERT INTO messages (persona, name, phone, text, call_id, created, key)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (persona, name, _phone(phone), text, call_id, _stamp(now), key or None))
            row = db.execute("SELECT * FROM messages WHERE id = ?", (cursor.lastrowid,)).fetchone()
            return _message(row)

    def messages(self, persona: str | None = None) -> list[Message]:
        """Every message, of one persona or all, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT * FROM messages WHERE (? IS NULL OR persona = ?) ORDER BY created, id",
                              (persona, persona)).fetchall()
        return [_message(row) for row in rows]

    # -- retention

    def prune(self, before: datetime) -> int:
        """Delete what is older than ``before`` (local time): messages taken before it, and appointments
        (booked or cancelled) that were over before it, with their change log. Returns how many messages
        and appointments were deleted; a file that does not exist is not made.

        Deleted rows are overwritten (``secure_delete``) and the write-ahead log is checkpointed, so
        their text does not linger in free pages of the file.
        """
        _naive(before)
        if not self.path.exists():
            return 0
        with self._write() as db:
            db.execute("PRAGMA secure_delete = ON")
            over = "SELECT id FROM appointments WHERE ends < ?"
            db.execute(f"DELETE FROM changes WHERE appointment_id IN ({over})", (_iso(before),))
            appointments = db.execute("DELETE FROM appointments WHERE ends < ?", (_iso(before),)).rowcount
            messages = db.execute("DELETE FROM messages WHERE created < ?", (_stamp(before),)).rowcount
        if appointments or messages:
            with self._read() as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return appointments + messages

    @staticmethod
    def _row(db: sqlite3.Connection, table: Literal["appointments", "messages"], persona: str,
             key: str) -> sqlite3.Row | None:
        """The row stored earlier under idempotency ``key``, or None."""
        row: sqlite3.Row | None = db.execute(f"SELECT * FROM {table} WHERE persona = ? AND key = ?", (persona, key)).fetchone()
        return row
