"""Paused turns and false cut-ins in the spoken call benchmark: the data format, the audio of a paused
turn, the cut-in detector on synthetic timelines, the wait for a sentence the server cut in two, and the
report's figures. No server, no models."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voiceagent.bench.calls.callers import CallSession
from voiceagent.bench.calls.events import last_turn_finished, turn_heard
from voiceagent.bench.calls.pauses import (
    PAUSE_RANGE_MS,
    Sentence,
    cut_in,
    pause_ms,
    pause_window,
    pause_within,
    trim_silence,
)
from voiceagent.bench.calls.report import build_report, format_table
from voiceagent.bench.calls.runner import sentence_for
from voiceagent.bench.calls.script import ScriptError, builtin_scripts, load_script
from voiceagent.bench.calls.voices import RATE, Voice
from voiceagent.client import Received

SCRIPTS = builtin_scripts()
DATA = Path(__file__).resolve().parents[2] / "voiceagent/bench/calls/receptionist.yaml"


# ------------------------------------------------------------------ the data files
def test_a_bar_in_say_makes_a_paused_turn_judged_as_the_whole_sentence() -> None:
    turn = SCRIPTS["garage"].turns["sunday"]
    assert turn.paused and turn.parts == ("Can I bring my car in", "on Sunday?")
    assert turn.say == "Can I bring my car in on Sunday?"  # the reference text and the judge's sentence
    assert not SCRIPTS["garage"].turns["oil"].paused and SCRIPTS["garage"].turns["oil"].parts is None
    digits = SCRIPTS["receptionist"].turns["message_number"]
    assert digits.real == "digits" and digits.parts == ("five five five", "zero one three four")


@pytest.mark.parametrize("persona", ["receptionist", "garage"])
def test_each_persona_has_paused_turns_in_short_and_long_calls(persona: str) -> None:
    script = SCRIPTS[persona]
    for kind in ("short", "long"):
        assert sum(t.paused for c in script.calls if c.kind == kind for t in c.turns) >= 8, kind
    assert any(t.paused for name in script.quick for t in script.call(name).turns)  # --quick measures one too


@pytest.mark.parametrize("say", ["Can I | come in | on Monday?", "| on Monday?", "Can I come in |"])
def test_a_malformed_pause_is_refused(tmp_path: Path, say: str) -> None:
    text = DATA.read_text()
    old = 'say: "How early can I come in | on a Monday?"'
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, f'say: "{say}"'))
    with pytest.raises(ScriptError, match="marks a pause"):
        load_script(bad)


# ------------------------------------------------------------------ the audio of a paused turn
def tone(seconds: float, lead: float = 0.0, tail: float = 0.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    voiced = (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    return np.concatenate([np.zeros(int(RATE * lead), np.float32), voiced, np.zeros(int(RATE * tail), np.float32)])


def test_a_paused_turn_is_the_whole_sentence_cut_at_its_quietest_point_near_the_first_part() -> None:
    """The whole sentence, spoken in one go (its first words keep their mid-sentence tone), is cut in the
    gap between words nearest the first part's share of the two parts spoken alone; the pause goes there."""
    whole = np.concatenate([np.zeros(int(0.2 * RATE), np.float32), tone(0.5), np.zeros(int(0.06 * RATE), np.float32),
                            tone(0.7), np.zeros(int(0.25 * RATE), np.float32)])
    first, second = tone(0.45, lead=0.15, tail=0.3), tone(0.65, lead=0.1)  # alone, each part a little shorter
    sentence = pause_within(whole, first, second, 640, RATE)
    silent = np.flatnonzero(np.abs(sentence.audio) < 1e-9)
    runs = np.split(silent, np.flatnonzero(np.diff(silent) != 1) + 1)
    pause = max(runs, key=len)
    assert 0.64 <= len(pause) / RATE <= 0.66  # the pause (and the few ms of fade at its edges)
    assert pause[0] / RATE == pytest.approx(0.5, abs=0.011)  # after the first word, none of the second
    rest = sentence.audio[pause[-1] + 1:]
    assert len(rest) / RATE == pytest.approx(0.7, abs=0.011) and sentence.pause_ms == 640
    assert sentence.tail_s == pytest.approx(0.64 + 0.7, abs=0.02)  # end of the first part -> end of the sentence
    assert len(trim_silence(np.zeros(RATE, np.float32), RATE)) == 0


def test_pauses_are_seeded_in_range_and_the_same_for_a_call_cut_short() -> None:
    drawn = [pause_ms(7, "garage", "everything", p) for p in range(1, 40)]
    assert all(PAUSE_RANGE_MS[0] <= d <= PAUSE_RANGE_MS[1] for d in drawn)
    assert len(set(drawn)) > 10  # a spread, not one length
    assert drawn == [pause_ms(7, "garage", "everything", p) for p in range(1, 40)]
    assert drawn[:5] == [pause_ms(7, "garage", "everything[:12]", p) for p in range(1, 6)]
    assert drawn != [pause_ms(8, "garage", "everything", p) for p in range(1, 40)]


class Bank:
    """A voice bank that says every text as a tone as long as its words, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def speech(self, voice: Voice, text: str) -> np.ndarray:
        self.asked.append(text)
        return tone(0.1 * len(text.split()), lead=0.1, tail=0.1)


def test_a_paused_turn_is_synthesised_whole_and_its_first_part_alone_to_find_the_cut() -> None:
    bank, voice = Bank(), Voice("v", "neural")
    turn = SCRIPTS["receptionist"].turns["cancel_ask"]
    sentence = sentence_for(bank, voice, turn, 500)  # type: ignore[arg-type]
    assert turn.parts is not None and bank.asked == [" ".join(turn.parts), *turn.parts] and sentence.pause_ms == 500
    plain = sentence_for(bank, voice, SCRIPTS["receptionist"].turns["price"], 500)  # type: ignore[arg-type]
    assert bank.asked[-1] == "How much does a check-up cost?" and plain.pause_ms is None and plain.tail_s is None


# ------------------------------------------------------------------ the cut-in detector
@pytest.mark.parametrize(("arrivals", "expected"), [
    ([10.5, 10.52], True),  # agent audio during the pause (the first part ended at 10.0, the pause is 0.8 s)
    ([11.2], True),  # after the caller went on, before they finished
    ([10.0], True),  # the very start of the pause
    ([12.0, 12.02, 13.0], False),  # only at or after the end of the sentence
    ([9.0, 12.3], False),  # before the first part ended (an earlier turn), and after the end
    ([], False),
])
def test_agent_audio_while_the_caller_is_mid_sentence_is_a_cut_in(arrivals: list[float], expected: bool) -> None:
    sentence = Sentence(np.zeros(1, np.float32), pause_ms=800, tail_s=2.0)
    window = pause_window(sentence, spoke_end=12.0)
    assert window == (10.0, 12.0)
    assert cut_in(arrivals, window) is expected


class FakeCaller:
    """A caller whose speech takes no time: ``say`` plays a timeline at once: the server's events, and agent
    audio arrivals, the end of the caller's speech and the first answer in seconds after the call."""

    def __init__(self, events: list[Any], audio: list[float], spoke_end: float, first: float) -> None:
        self.received = Received()
        self.closed = asyncio.Event()
        self._plan = (events, audio, spoke_end, first)

    async def say(self, audio: np.ndarray, *, answer_timeout: float) -> tuple[float, float | None]:
        events, arrivals, spoke_end, first = self._plan
        now = time.monotonic()
        self.received.events += [(now, e) for e in events]  # in order, as the server sent them
        self.received.audio += [(now + at, 640) for at in arrivals]
        return now + spoke_end, now + first

    async def wait_until_agent_quiet(self, timeout: float) -> None:
        return None


CONTINUED = [{"type": "transcript", "turn": 1, "text": "Can I come in"},
             {"type": "turn_metrics", "turn": 1, "outcome": "continued"},
             {"type": "transcript", "turn": 2, "text": "Can I come in on Monday?", "revises": 1},
             {"type": "turn_metrics", "turn": 2, "outcome": "answered", "turn_ms": 500.0, "reply_ms": 500.0}]


def spoken(audio: list[float], tail_s: float | None) -> Any:
    caller = FakeCaller(CONTINUED, audio, spoke_end=5.0, first=5.5)
    session = CallSession(caller, Path("."))  # type: ignore[arg-type]
    return asyncio.run(session.turn(Sentence(np.zeros(1, np.float32), 600 if tail_s else None, tail_s)))


def test_a_call_session_measures_cut_ins_and_latency_from_the_end_of_the_sentence() -> None:
    cut = spoken([4.0, 5.5], tail_s=1.5)  # agent audio 1 s before the caller finished
    assert cut.cut_in is True and cut.first_audio_ms == 500.0  # latency still from the end of part two
    assert cut.heard.split and cut.heard.pieces == 2 and cut.heard.transcript == "Can I come in on Monday?"
    assert spoken([5.5], tail_s=1.5).cut_in is False
    assert spoken([4.0, 5.5], tail_s=None).cut_in is None  # not a paused turn: not measured


def test_the_wait_ends_only_when_the_last_piece_of_a_cut_sentence_is_finished() -> None:
    first_interrupted = [(1.0, {"type": "transcript", "turn": 3, "text": "Can I come in"}),
                         (1.5, {"type": "turn_metrics", "turn": 3, "outcome": "interrupted"}),
                         (2.0, {"type": "transcript", "turn": 4, "text": "on Monday?"})]
    assert not last_turn_finished(first_interrupted, 0.5)
    done = [*first_interrupted, (3.0, {"type": "turn_metrics", "turn": 4, "outcome": "answered"})]
    assert last_turn_finished(done, 0.5)
    assert turn_heard(done, 0.5, 4.0).pieces == 2
    assert last_turn_finished([(1.0, {"type": "turn_metrics", "turn": 5, "outcome": "empty"})], 0.5)
    assert not last_turn_finished([], 0.5)


# ------------------------------------------------------------------ the report
def row(path: str, cut: bool | None, split: bool = False) -> dict[str, object]:
    return {"persona": "p", "path": path, "call": "c", "position": 1, "category": "fact", "voice_kind": "neural",
            "said": "a b", "transcript": "a b", "keywords": [], "heard": "x", "ok": True, "filler": False,
            "real_reply_ms": 700.0, "paused": cut is not None, "cut_in": cut, "split": split}


def test_the_report_gives_the_cut_in_rate_over_paused_turns_per_persona_and_path() -> None:
    rows = [row("wideband", True, split=True), *[row("wideband", False) for _ in range(3)],
            *[row("wideband", None) for _ in range(6)], row("phone", False, split=True), row("phone", None)]
    report = build_report(rows, {"machine": {}})
    wide, phone = report["summary"]["p/wideband"], report["summary"]["p/phone"]
    assert (wide["turns"], wide["paused_turns"], wide["cut_in_rate"], wide["paused_split_rate"]) == (10, 4, 0.25, 0.25)
    assert (phone["paused_turns"], phone["cut_in_rate"], phone["paused_split_rate"]) == (1, 0.0, 1.0)
    assert report["by_path"]["wideband"]["cut_in_rate"] == 0.25
    none = build_report([row("wideband", None)], {})["summary"]["p/wideband"]
    assert none["paused_turns"] == 0 and none["cut_in_rate"] is None
    table = format_table(report)
    assert "cut-in" in table.splitlines()[0] and "25%" in table.splitlines()[1]
