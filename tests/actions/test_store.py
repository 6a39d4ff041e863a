"""The embedded action store on a real SQLite file: what it says it did is what it did."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.actions.quick_lube import NOW, QUICK_LUBE
from voiceagent.actions import store as store_module
from voiceagent.actions.store import (
    SCHEMA_VERSION,
    ActionStore,
    Appointment,
    Refused,
    StoreError,
    normalise_phone,
)

THURSDAY_10 = datetime(2026, 12, 3, 10, 0)


@pytest.fixture
def store(tmp_path: Path) -> ActionStore:
    return ActionStore(tmp_path / "actions.db")


def book(store: ActionStore, name: str = "Anna Lee", start: datetime = THURSDAY_10, **kwargs: str) -> Appointment:
    return store.book("garage", QUICK_LUBE, name=name, start=start, now=NOW, **kwargs)


def test_a_booking_is_stored_and_listed_from_a_fresh_store(store: ActionStore) -> None:
    booked = book(store, service="Oil", phone="555 0142", call_id="c1")
    assert (booked.name, booked.service, booked.minutes, booked.phone, booked.status) == (
        "Anna Lee", "oil change", 30, "5550142", "booked")
    assert booked.end == THURSDAY_10 + timedelta(minutes=30)
    assert ActionStore(store.path).appointments() == [booked]  # committed to the file, not kept in memory
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(("start", "kwargs", "reason"), [
    (datetime(2026, 12, 6, 10, 0), {}, "we're closed on Sundays"),
    (datetime(2026, 12, 3, 16, 0), {"service": "brakes"},
     "a brake job takes 2 hours and we close at 5 pm; the latest it can start is 3 pm"),
    (datetime(2026, 12, 2, 8, 0), {}, "that time has already passed"),
    (THURSDAY_10, {"service": "paint"}, "sorry, we don't do bodywork or paint"),
    (THURSDAY_10, {"name": "  "}, "I need a name for the booking"),
    (THURSDAY_10, {"phone": "my mobile"}, "I didn't catch the phone number; could you say it digit by digit?"),
])
def test_a_refused_booking_says_why_and_stores_nothing(store: ActionStore, start: datetime,
                                                       kwargs: dict[str, str], reason: str) -> None:
    with pytest.raises(Refused) as refused:
        book(store, start=start, **kwargs)
    assert refused.value.reason == reason
    assert store.appointments(include_cancelled=True) == []


def test_a_taken_time_is_refused_with_the_nearest_free_times(store: ActionStore) -> None:
    book(store, "Anna Lee", service="brakes")  # 10 am to 12 noon
    with pytest.raises(Refused) as refused:
        book(store, "Ben Okafor", start=THURSDAY_10 + timedelta(minutes=30))
    assert refused.value.reason == "that time is taken; 9:30 am or 12 noon are free"
    assert [a.name for a in store.appointments()] == ["Anna Lee"]
    assert book(store, "Ben Okafor", start=THURSDAY_10 + timedelta(hours=2)).name == "Ben Okafor"  # back to back


def test_a_business_with_several_chairs_takes_that_many_bookings_at_once(store: ActionStore) -> None:
    three_bays = dataclasses.replace(QUICK_LUBE, bookings_at_once=3)
    for name in ("Anna Lee", "Ben Okafor"):  # 10 am to 12 noon
        store.book("garage", three_bays, name=name, start=THURSDAY_10, service="brakes", now=NOW)
    store.book("garage", three_bays, name="Cy Diaz", start=THURSDAY_10 + timedelta(hours=1), now=NOW)
    with pytest.raises(Refused) as refused:  # 11 to 11:30 am: all three bays are taken
        store.book("garage", three_bays, name="Dee Ross", start=THURSDAY_10 + timedelta(hours=1), now=NOW)
    assert refused.value.reason == "that time is taken; 10:30 am or 11:30 am are free"
    late = store.book("garage", three_bays, name="Dee Ross", start=THURSDAY_10 + timedelta(minutes=90), now=NOW)
    assert len(store.appointments()) == 4 and late.start == datetime(2026, 12, 3, 11, 30)


def test_how_many_people_a_booking_is_for_is_kept(store: ActionStore) -> None:
    booked = store.book("garage", QUICK_LUBE, name="Anna Lee", start=THURSDAY_10, now=NOW, party=4)
    assert booked.party == 4 and store.appointments() == [booked]
    assert book(store, "Ben Okafor", start=THURSDAY_10 + timedelta(hours=2)).party == 0  # not said


def test_another_persona_in_the_same_file_has_its_own_diary(store: ActionStore) -> None:
    book(store)
    other = store.book("dentist", QUICK_LUBE, name="Cy", start=THURSDAY_10, now=NOW)
    assert [a.persona for a in store.appointments()] == ["garage", "dentist"]
    assert store.appointments("dentist") == [other]


def test_a_move_finds_the_callers_next_appointment_by_name(store: ActionStore) -> None:
    first = book(store, "Anna Lee", service="brakes")
    later = book(store, "Anna Lee", start=datetime(2026, 12, 4, 9, 0))
    moved = store.move("garage", QUICK_LUBE, name="anna  LEE", new_start=THURSDAY_10 + timedelta(hours=4),
                       now=NOW, call_id="c2")
    assert (moved.id, moved.start, moved.minutes) == (first.id, datetime(2026, 12, 3, 14, 0), 120)
    assert store.upcoming("garage", name="Anna Lee", now=NOW) == [moved, later]
    assert [(c.action, c.call_id) for c in store.history(first.id)] == [("booked", ""), ("moved", "c2")]


def test_a_move_is_checked_like_a_booking_but_not_against_itself(store: ActionStore) -> None:
    book(store, "Anna Lee", service="brakes")  # 10 am to 12 noon
    book(store, "Ben Okafor", start=THURSDAY_10 + timedelta(hours=2))  # 12 noon
    moved = store.move("garage", QUICK_LUBE, name="Anna Lee", new_start=THURSDAY_10 - timedelta(hours=1), now=NOW)
    assert moved.start == datetime(2026, 12, 3, 9, 0)  # overlaps only its own old time
    for new_start, reason in [(datetime(2026, 12, 6, 9, 0), "we're closed on Sundays"),
                              (datetime(2026, 12, 3, 11, 0), "that time is taken; 10 am or 12:30 pm are free")]:
        with pytest.raises(Refused, match=reason):
            store.move("garage", QUICK_LUBE, name="Anna Lee", new_start=new_start, now=NOW)
    assert store.upcoming("garage", name="Anna Lee", now=NOW) == [moved]


def test_cancel_keeps_the_appointment_as_cancelled_and_frees_its_time(store: ActionStore) -> None:
    booked = book(store, "Anna Lee")
    cancelled = store.cancel("garage", name="ANNA LEE", now=NOW, call_id="c3")
    assert (cancelled.id, cancelled.status) == (booked.id, "cancelled")
    assert store.appointments() == [] and store.appointments(include_cancelled=True) == [cancelled]
    assert store.upcoming("garage", name="Anna Lee", now=NOW) == []
    assert book(store, "Ben Okafor").start == THURSDAY_10
    with pytest.raises(Refused, match="I can't find an upcoming appointment under the name Anna Lee"):
        store.cancel("garage", name="Anna Lee", now=NOW)


def test_move_and_cancel_act_on_the_next_appointment_not_one_already_started(store: ActionStore) -> None:
    started = book(store, "Anna Lee", start=datetime(2026, 12, 2, 10, 0))
    ahead = book(store, "Anna Lee", start=datetime(2026, 12, 4, 9, 0))
    later = datetime(2026, 12, 2, 10, 5)
    moved = store.move("garage", QUICK_LUBE, name="Anna Lee", new_start=datetime(2026, 12, 4, 11, 0), now=later)
    assert moved.id == ahead.id
    assert store.cancel("garage", name="Anna Lee", now=later).id == ahead.id
    assert store.appointments() == [started]


def test_upcoming_lists_only_that_callers_booked_appointments_not_yet_over(store: ActionStore) -> None:
    past = book(store, "Anna Lee", start=datetime(2026, 12, 2, 10, 0))
    ahead = book(store, "Anna Lee", start=datetime(2026, 12, 5, 9, 0))
    book(store, "Ben Okafor", start=datetime(2026, 12, 4, 9, 0))
    assert store.upcoming("garage", name="anna-lee", now=NOW) == [past, ahead]
    assert store.upcoming("garage", name="Anna Lee", now=datetime(2026, 12, 2, 10, 15)) == [past, ahead]  # under way
    assert store.upcoming("garage", name="Anna Lee", now=datetime(2026, 12, 2, 10, 30)) == [ahead]  # over
    assert store.upcoming("other", name="Anna Lee", now=NOW) == []


def test_the_same_idempotency_key_books_once(store: ActionStore) -> None:
    first = book(store, "Anna Lee", key="call-1:book:1")
    again = book(store, "Anna Lee", start=THURSDAY_10 + timedelta(hours=1), key="call-1:book:1")
    assert again == first and len(store.appointments()) == 1
    assert book(store, "Anna Lee", start=THURSDAY_10 + timedelta(hours=1), key="call-1:book:2").id != first.id


def test_messages_are_stored_with_the_phone_as_digits(store: ActionStore) -> None:
    message = store.take_message("garage", name=" Ben  Okafor ", phone="five five five, 0 1 4 2",
                                 text="Please call me about my brakes.", call_id="c9", now=NOW)
    assert (message.name, message.phone, message.call_id, message.created) == ("Ben Okafor", "5550142", "c9", NOW)
    assert store.messages() == [message] and store.messages("dentist") == []
    assert store.take_message("garage", name="Ben", phone="", text="x", now=NOW, key="k").phone == ""
    assert store.take_message("garage", name="Ben", phone="", text="again", now=NOW, key="k").text == "x"
    assert len(store.messages()) == 2


@pytest.mark.parametrize(("name", "text", "reason"), [
    ("", "call me", "I need your name for the message"),
    ("Ben", " ", "what would you like the message to say?"),
    ("Ben", "x" * 2001, "that message is too long; could you say it more briefly?"),
])
def test_a_message_needs_a_name_and_words(store: ActionStore, name: str, text: str, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        store.take_message("garage", name=name, phone="5550142", text=text, now=NOW)
    assert refused.value.reason == reason
    assert store.messages() == []


def test_phone_numbers_keep_their_digits_and_a_leading_plus() -> None:
    assert normalise_phone("+44 (20) 7946-0958") == "+442079460958"
    assert normalise_phone("oh seven seven double") == "077"


@pytest.mark.parametrize("shared", [True, False], ids=["one store", "a store each (as separate processes)"])
def test_bookings_from_many_threads_at_once_give_one_slot_to_one_caller(store: ActionStore, shared: bool) -> None:
    callers = 8
    barrier = threading.Barrier(callers)

    def attempt(n: int) -> str:
        own = store if shared else ActionStore(store.path)
        own.appointments()  # each store opens the file first (a new file: all at once), then all book at once
        barrier.wait()
        try:
            return book(own, f"Caller {n}").name
        except Refused as refused:
            return refused.reason

    with ThreadPoolExecutor(callers) as pool:
        results = list(pool.map(attempt, range(callers)))
    assert sum(r.startswith("Caller") for r in results) == 1
    assert sum(r.startswith("that time is taken") for r in results) == callers - 1
    assert len(store.appointments()) == 1


def test_a_new_file_another_process_is_writing_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "actions.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # SQLite answers "locked" at once to a switch to WAL meanwhile
    other.execute("CREATE TABLE other_things (x)")
    done = threading.Timer(0.2, lambda: other.execute("COMMIT"))
    done.start()
    try:
        assert ActionStore(path).appointments() == []
    finally:
        done.join()
        other.close()


def test_a_file_from_a_newer_schema_is_refused(store: ActionStore) -> None:
    with sqlite3.connect(store.path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="upgrade voiceagent"):
        store.appointments()


def test_aware_times_are_refused_plainly(store: ActionStore) -> None:
    from datetime import UTC

    with pytest.raises(ValueError, match="naive"):
        book(store, start=THURSDAY_10.replace(tzinfo=UTC))


def test_retention_deletes_old_messages_and_past_appointments_and_keeps_the_rest(store: ActionStore) -> None:
    """``prune(before)``: messages taken before it and appointments over before it go (cancelled ones and
    their change log too); newer messages, and appointments still to come, stay."""
    week_ago = NOW - timedelta(days=7)
    old_message = store.take_message("garage", name="Old Caller", phone="5550100", text="old", now=week_ago)
    new_message = store.take_message("garage", name="New Caller", phone="5550101", text="new", now=NOW)
    past = store.book("garage", QUICK_LUBE, name="Past Person", start=datetime(2026, 11, 24, 10, 0),
                      now=datetime(2026, 11, 20, 9, 0))
    cancelled = store.book("garage", QUICK_LUBE, name="Cancelled Person", start=datetime(2026, 11, 24, 11, 0),
                           now=datetime(2026, 11, 20, 9, 0))
    store.cancel("garage", name="Cancelled Person", now=datetime(2026, 11, 21, 9, 0))
    coming = book(store)  # Thursday, after NOW
    assert store.prune(NOW - timedelta(days=3)) == 3  # the old message, the past and the cancelled booking
    assert store.messages() == [new_message] and old_message not in store.messages()
    assert store.appointments(include_cancelled=True) == [coming]
    assert store.history(past.id) == [] and store.history(cancelled.id) == []
    assert store.prune(NOW - timedelta(days=3)) == 0
    with sqlite3.connect(store.path) as db:  # deleted text is overwritten, not left in free pages
        assert b"Old Caller" not in store.path.read_bytes() and db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_retention_of_a_store_never_used_makes_no_file(tmp_path: Path) -> None:
    store = ActionStore(tmp_path / "never.db")
    assert store.prune(NOW) == 0 and not store.path.exists()


def test_a_file_of_the_first_schema_is_upgraded_and_keeps_its_bookings(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # as voiceagent wrote it before bookings said how many people
        for statement in store_module._MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO appointments (persona, name, name_key, phone, service, start, ends, minutes, status,"
                   " call_id, created) VALUES ('garage', 'Anna Lee', 'anna lee', '', 'oil change', "
                   "'2026-12-03T10:00', '2026-12-03T10:30', 30, 'booked', '', '2026-11-25T09:00')")
        db.execute("PRAGMA user_version = 1")
    store = ActionStore(path)
    [old] = store.appointments()
    assert (old.name, old.party) == ("Anna Lee", 0)
    assert store.book("garage", QUICK_LUBE, name="Ben", start=THURSDAY_10 + timedelta(hours=2), now=NOW, party=3).party == 3
