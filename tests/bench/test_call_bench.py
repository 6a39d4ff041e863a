"""Fast checks of the spoken call benchmark: judging, error rates, the phone line, the data files, turn
reconstruction from events and call selection. No server, no models (the quick run is in
test_call_bench_quick.py)."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import numpy as np
import pytest

from voiceagent.bench.calls.events import TurnHeard, real_reply_ms, turn_heard
from voiceagent.bench.calls.judge import echoes, judge
from voiceagent.bench.calls.line import (
    LINE_RATE,
    band_limit,
    line_noise,
    mulaw_round_trip,
    phone_line,
    phone_speech,
    snr_db,
)
from voiceagent.bench.calls.report import build_report, format_table
from voiceagent.bench.calls.runner import _run_at_most, select_calls
from voiceagent.bench.calls.script import CATEGORIES, ScriptError, builtin_scripts, load_script
from voiceagent.bench.calls.textnorm import contains, normalize
from voiceagent.bench.calls.wer import keyword_error_rate, keywords_missed, word_error_rate

SCRIPTS = builtin_scripts()
RECEPTION = SCRIPTS["receptionist"]
GARAGE = SCRIPTS["garage"]


def verdict(script, turn_id: str, reply: str, transcript: str = ""):  # type: ignore[no-untyped-def]
    turn = script.turns[turn_id]
    return judge(turn, reply, persona_numbers=script.numbers, caller_so_far=[turn.say], transcript=transcript)


# ------------------------------------------------------------------ judging
@pytest.mark.parametrize(("turn", "reply", "ok"), [
    ("sunday_open", "Sorry, we're closed on Sundays.", True),
    ("sunday_open", "We are not open on Sunday, but Saturday from 9 to 1.", True),
    ("sunday_open", "Yes, we are open on Sunday from 9 am.", False),
    ("sunday_open", "We are closed on Monday, but we are open on Sunday.", False),  # only a forbidden claim
    ("price", "A check-up costs sixty dollars.", True),
    ("price", "A check-up is $60.", True),
    ("price", "A check-up costs 80 dollars.", False),
    ("close_saturday", "On Saturdays we close at one o'clock.", True),
    ("whitening", "I'm not sure about whitening, can I take a message?", True),
    ("whitening", "Teeth whitening is 200 dollars.", False),
    ("pizza", "Sorry, this is a dental practice: we can book you a check-up.", True),
    ("pizza", "Sure, what toppings would you like?", False),
    ("book_ask", "Of course, may I have your name and a preferred day?", True),
    ("book_ask", "Great, you're booked for a check-up.", False),
    ("book_ask", "", False),
])
def test_receptionist_replies_are_judged_on_facts(turn: str, reply: str, ok: bool) -> None:
    assert verdict(RECEPTION, turn, reply).ok is ok


@pytest.mark.parametrize(("turn", "reply", "ok"), [
    ("weekday_open", "We open at 7:30 in the morning.", True),
    ("weekday_open", "We open at half past seven.", True),
    ("weekday_open", "We open at 9 am.", False),
    ("phone", "You can reach us on 555 0142.", True),
    ("phone", "Our number is 555-0199.", False),
    ("brakes", "Brake pads are 180 dollars per axle.", True),
    ("towing", "Sorry, we don't do towing, but we can repair your car once it is here.", True),
    ("towing", "Sure, we can tow it, a truck is on its way.", False),
    ("courtesy_car", "No courtesy cars, but we run a free shuttle within 5 miles.", True),
    ("courtesy_car", "Yes, we have a courtesy car for you.", False),
])
def test_garage_replies_are_judged_on_facts(turn: str, reply: str, ok: bool) -> None:
    assert verdict(GARAGE, turn, reply).ok is ok


def test_the_callers_own_number_may_be_said_back_and_a_misheard_one_is_not_invented() -> None:
    assert verdict(RECEPTION, "message_number", "Thanks, I have 555 0134.").ok
    assert verdict(RECEPTION, "message_number", "Thanks, I have 555 0135.", transcript="555 0135").ok
    assert not verdict(RECEPTION, "message_number", "Thanks, I have 555 0178.").ok


def test_a_correct_date_read_back_invents_nothing_and_a_wrong_one_does() -> None:
    friday = datetime.date(2026, 11, 27)  # a Friday: the next Friday is the 4th of December
    said = "Sure, Friday the 4th of December, noted. Could you give me the time?"
    assert judge(RECEPTION.turns["move_new_day"], said, persona_numbers=RECEPTION.numbers,
                 caller_so_far=[], today=friday).ok
    wrong = judge(RECEPTION.turns["move_new_day"], said.replace("4th", "2nd"),
                  persona_numbers=RECEPTION.numbers, caller_so_far=[], today=friday)
    assert wrong.failed == ("invents no number (said 2)",)
    far = judge(RECEPTION.turns["move_new_day"], "Friday the 5th of February, noted.",
                persona_numbers=RECEPTION.numbers, caller_so_far=[], today=friday)
    assert not far.ok  # a real Friday, but not one a caller means by "Friday"


def test_an_echo_of_the_caller_fails_and_a_short_overlap_does_not() -> None:
    assert echoes("Can I order a large pizza for delivery?", "Yes, you can order a large pizza for delivery.")
    assert not echoes("Are you open on Sunday?", "We are not open on Sunday.")
    failed = verdict(RECEPTION, "parking", "Is there parking near the practice? Let me take a message.").failed
    assert "does not echo the caller" in failed


def test_matching_is_on_whole_normalised_words() -> None:
    assert contains(normalize("It costs $45."), "forty-five")
    assert not contains(normalize("It costs 145 dollars"), "45")
    assert contains(normalize("See you on Tuesdays"), "tuesday")
    assert contains(normalize("a checkup"), "check-up")
    assert not contains(normalize("we are not open on sunday"), "we are open on sunday")
    assert normalize("We close at 8:00 PM, and at 4:30 pm on Fridays.") == "we close at 8 pm and at 430 pm on fridays"


# ------------------------------------------------------------------ error rates
def test_word_error_rate_normalises_numbers_case_and_punctuation() -> None:
    assert word_error_rate(["A check-up costs sixty dollars."], ["a checkup costs $60"]) == 0.0
    assert word_error_rate(["What time do you open on Saturday?"], ["What time do you open on Sunday"]) == pytest.approx(1 / 7)
    assert word_error_rate(["one two"], [""]) == 1.0


def test_keyword_error_rate_counts_lost_fact_words() -> None:
    assert keywords_missed(["saturday", "nine"], "open saturday at 9") == 0
    assert keywords_missed(["saturday", "nine"], "open sunday at 9") == 1
    assert keyword_error_rate([["saturday"], ["check-up", "cost"]], ["on saturday", "how much does it take up cost"]) == pytest.approx(1 / 3)


# ------------------------------------------------------------------ the phone line
def tone(freq: float, rate: int = 16000, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def level_db(audio: np.ndarray) -> float:
    steady = audio[len(audio) // 4:]  # past the filter's start-up
    return 20 * float(np.log10(np.sqrt(np.mean(steady.astype(np.float64) ** 2)) + 1e-12))


def test_the_band_limit_passes_speech_frequencies_and_cuts_the_rest() -> None:
    ref = level_db(tone(1000))
    assert abs(level_db(band_limit(tone(1000), 16000)) - ref) < 1.0
    assert level_db(band_limit(tone(100), 16000)) < ref - 20
    assert level_db(band_limit(tone(6000), 16000)) < ref - 20


def test_the_phone_line_is_8_khz_and_mu_law_keeps_the_speech() -> None:
    line = phone_line(tone(1000), 16000)
    assert LINE_RATE == 8000 and abs(len(line) - 8000) <= 8
    coded = mulaw_round_trip(line)
    assert len(np.unique(coded)) <= 256  # 8-bit companded samples
    error = coded - line
    assert 10 * np.log10(np.mean(line**2) / np.mean(error**2)) > 30


def test_background_noise_is_seeded_and_about_15_db_below_the_speech() -> None:
    speech = phone_speech(tone(500) * np.hanning(16000).astype(np.float32), 16000)
    noise = line_noise(2.0, seed=3)
    assert np.array_equal(noise, line_noise(2.0, seed=3))
    assert not np.array_equal(noise, line_noise(2.0, seed=4))
    assert abs(snr_db(speech, noise) - 15.0) < 1.0


# ------------------------------------------------------------------ the data files
def test_each_shipped_persona_has_enough_varied_turns() -> None:
    assert {"receptionist", "garage"} <= set(SCRIPTS)
    for script in SCRIPTS.values():
        assert script.spoken_turns >= 80
        assert {t.category for c in script.calls for t in c.turns} == set(CATEGORIES)
        assert any(c.kind == "long" and len(c.turns) >= 20 for c in script.calls)
        assert all(2 <= len(c.turns) <= 5 for c in script.calls if c.kind == "short")
        assert any(t.real == "digits" for t in script.turns.values())


@pytest.mark.parametrize(("change", "message"), [
    (("category: fact", "category: gossip"), "category"),
    (('expect: [["9"]]', 'expect: [["$nothing"]]'), "unknown group"),
    (('expect: [["9"]]', "expect: []"), "at least one group"),
    (("turns: [price, pizza, parking]", "turns: [price, pizzas]"), "unknown turn ids"),
    (("quick: [three_kinds]", "quick: [nope]"), "quick"),
])
def test_a_malformed_data_file_is_refused_with_a_clear_error(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "voiceagent/bench/calls/receptionist.yaml").read_text()
    assert change[0] in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ScriptError, match=message):
        load_script(bad)


# ------------------------------------------------------------------ turns from events, call selection
def test_a_turn_is_rebuilt_from_its_events_with_revisions_and_fillers() -> None:
    events = [
        (1.0, {"type": "agent_text", "kind": "greeting", "turn": 0, "text": "Hello."}),
        (2.0, {"type": "transcript", "turn": 1, "text": "What time"}),
        (2.1, {"type": "turn_metrics", "turn": 1, "outcome": "continued", "filler": False}),
        (3.0, {"type": "transcript", "turn": 2, "text": "What time do you open?", "revises": 1}),
        (3.1, {"type": "agent_text", "kind": "filler", "turn": 2, "text": "One moment."}),
        (3.5, {"type": "agent_text", "kind": "reply", "turn": 2, "text": "We open at 9."}),
        (3.6, {"type": "turn_metrics", "turn": 2, "outcome": "answered", "filler": True, "turn_ms": 1000.0,
               "reply_ms": 1600.0, "timeline": {"endpoint": 300.0}, "stages": {"stt_ms": 250.0},
               "end_of_turn": {"reason": "model", "silence_ms": 160.0, "turn_prob": 0.93}}),
    ]
    heard = turn_heard(events, 1.5, 4.0)
    assert (heard.transcript, heard.heard, heard.filler) == ("What time do you open?", "We open at 9.", True)
    assert (heard.timeline, heard.stages) == ({"endpoint": 300.0}, {"stt_ms": 250.0})  # the last piece's
    assert heard.end_of_turn == {"reason": "model", "silence_ms": 160.0, "turn_prob": 0.93}  # why it waited
    assert real_reply_ms(1050.0, heard) == pytest.approx(1650.0)
    assert real_reply_ms(None, heard) is None
    plain = TurnHeard("x", "y", filler=False, turn_ms=700.0, reply_ms=700.0, outcome="answered")
    assert real_reply_ms(720.0, plain) == 720.0


def test_a_turn_in_which_no_words_were_heard_keeps_its_outcome() -> None:
    """Q2, 28 November: the recogniser returned no words for a dictated number on the phone line; the
    server re-asked after 1.5 s (outcome "empty", no transcript). The report said outcome None."""
    events = [(1.0, {"type": "turn_metrics", "turn": 37, "outcome": "continued"}),
              (2.0, {"type": "turn_metrics", "turn": 38, "outcome": "empty", "turn_ms": 1501.1, "reply_ms": None})]
    heard = turn_heard(events, 0.0, 3.0)
    assert (heard.outcome, heard.turn_ms, heard.transcript) == ("empty", 1501.1, "")
    assert real_reply_ms(1643.4, heard) is None  # the re-ask is no answer


def test_max_turns_takes_whole_calls_long_and_short() -> None:
    chosen = select_calls(RECEPTION, quick=False, max_turns=30)
    assert sum(len(c.turns) for c in chosen) <= 30
    assert chosen[0].kind == "long" and any(c.kind == "short" for c in chosen)
    subset = select_calls(RECEPTION, quick=False, max_turns=20)
    assert any(t.real for c in subset for t in c.turns)  # the real recordings get a turn in a small subset too
    assert [c.name for c in select_calls(RECEPTION, quick=True, max_turns=None)] == list(RECEPTION.quick)
    assert sum(len(c.turns) for c in select_calls(RECEPTION, quick=False, max_turns=None)) == RECEPTION.spoken_turns


# ------------------------------------------------------------------ the report
async def test_calls_run_at_most_n_at_once_in_order() -> None:
    started: list[int] = []
    running, most = 0, 0

    def job(number: int):  # type: ignore[no-untyped-def]
        async def play() -> None:
            nonlocal running, most
            started.append(number)
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01 * (number % 3))
            running -= 1
        return play

    await _run_at_most(3, [job(n) for n in range(10)])
    assert sorted(started) == list(range(10)) and started[:3] == [0, 1, 2]
    assert most == 3
    started.clear()
    most = 0
    await _run_at_most(1, [job(n) for n in range(5)])
    assert started == list(range(5)) and most == 1


def row(position: int, ok: bool, heard: str, category: str = "fact", call: str = "c", filler: bool = False,
        latency: float | None = 700.0) -> dict[str, object]:
    return {"persona": "p", "path": "wideband", "call": call, "position": position, "category": category,
            "voice_kind": "neural", "said": "open on saturday", "transcript": "open on sunday",
            "keywords": ["saturday"], "heard": heard, "ok": ok, "filler": filler, "real_reply_ms": latency}


def test_the_report_splits_relevance_by_category_and_position_and_counts_repeats() -> None:
    rows = [row(1, True, "We open at 9."), row(2, False, "We open at 9.", category="dialogue"),
            *[row(i, i % 2 == 0, f"reply {i}", filler=i == 7) for i in range(3, 9)],
            row(9, True, "", latency=None), row(1, True, "We open at 9.", call="other")]
    report = build_report(rows, {"machine": {}})
    s = report["summary"]["p/wideband"]
    assert s["turns"] == 10 and s["relevance"] == 0.6
    assert s["relevance_by_category"]["dialogue"] == 0.0 and s["relevance_by_category"]["out_of_scope"] is None
    assert s["relevance_first_5"] == 0.5 and s["relevance_later"] == 0.75
    assert s["repeat_rate"] == 0.1  # turn 2 repeats turn 1 of the same call; the other call does not count
    assert s["filler_rate"] == 0.1 and s["unanswered"] == 1
    assert s["wer"] == pytest.approx(1 / 3, abs=1e-3) and s["keyword_error_rate"] == 1.0
    assert "p/wideband" in format_table(report)


def test_the_report_says_where_the_time_of_answered_turns_went() -> None:
    rows = [{**row(i, True, f"reply {i}"), "outcome": "answered", "server_timeline": {"endpoint": 100.0 * i},
             "server_stages": {"stt_ms": 10.0 * i, "stt_queue_ms": 0.0}} for i in (1, 2, 3)]
    rows.append({**row(4, True, "sorry"), "outcome": "apology", "server_timeline": {"endpoint": 9000.0},
                 "server_stages": {"stt_ms": 9000.0}})
    medians = build_report(rows, {})["by_path"]["wideband"]["server_p50_ms"]
    assert medians["endpoint"] == 200.0 and medians["stage:stt_ms"] == 20.0 and medians["stage:stt_queue_ms"] == 0.0
    assert medians["audio_out"] is None  # no turn had the mark
    assert "endpoint 200" in format_table(build_report(rows, {}))


def test_the_report_says_what_ended_the_answered_turns_and_how_long_each_kind_waited() -> None:
    ends = [("model", 600.0), ("model", 700.0), ("patient", 1200.0), ("unsure", 900.0)]
    rows = [{**row(i, True, f"reply {i}"), "outcome": "answered", "real_reply_ms": ms,
             "end_of_turn": {"reason": reason, "turn_prob": 0.5}} for i, (reason, ms) in enumerate(ends, start=1)]
    rows.append({**row(5, True, "sorry"), "outcome": "apology", "end_of_turn": {"reason": "model"}})
    rows.append({**row(6, True, "old"), "outcome": "answered"})  # a report from before the field
    ended = build_report(rows, {})["by_path"]["wideband"]["ended_by"]
    assert set(ended) == {"model", "patient", "unsure"}
    assert ended["model"]["turns"] == 2 and ended["model"]["real_reply_p50_ms"] == 650.0
    assert ended["patient"] == {"turns": 1, "real_reply_p50_ms": 1200.0, "real_reply_p95_ms": 1200.0}
    assert "patient 1 (1200/1200)" in format_table(build_report(rows, {}))
