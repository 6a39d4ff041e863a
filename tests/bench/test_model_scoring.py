"""Relevance scoring on known good and bad answers, and task files (built-in and a user's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.bench.models.scoring import score, spoken_text
from voiceagent.bench.models.tasks import BUILTIN_TASKS, Task, TaskError, load_tasks
from voiceagent.config import DEFAULT_PROMPTS_DIR
from voiceagent.personas import load_personas


@pytest.fixture(scope="module")
def tasks() -> dict[str, Task]:
    return {t.name: t for t in load_tasks(BUILTIN_TASKS, load_personas(DEFAULT_PROMPTS_DIR))}


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("opening_hours", "On Saturday we open at 9 am and close at 1 pm.", "We are open Monday to Friday."),
    ("closed_sunday", "Sorry, we're closed on Sundays, but Saturday morning works.", "Yes, you can come in on Sunday."),
    ("price", "A check-up is sixty dollars.", "Prices vary, please ask the dentist."),
    ("booking_asks_name_and_day", "Happy to. May I have your name and a day that suits you?", "Okay."),
    ("take_a_message", "Thanks Maria, I'll pass your message on.", "I am Sam."),
    ("out_of_scope", "Sorry, I can only help with the dental practice.", "The Tigers won three to one."),
    ("remembers_the_name", "I have you down as Tom Becker.", "I don't know your name."),
])
def test_known_good_answers_beat_known_bad_ones(tasks: dict[str, Task], name: str, good: str, bad: str) -> None:
    good_score, bad_score = score(tasks[name], good), score(tasks[name], bad)
    assert good_score.ok and good_score.value == 1.0, good_score.failed
    assert not bad_score.ok and bad_score.value < good_score.value


def test_markdown_lists_and_rambling_are_not_phone_answers(tasks: dict[str, Task]) -> None:
    task = tasks["short_spoken_answer"]
    assert score(task, "I can book an appointment or tell you our hours.").value == 1.0
    listed = score(task, "I can help with:\n- **booking** an appointment\n- opening hours")
    assert "spoken style" in listed.failed
    rambling = score(task, "I can book appointments " + "and more " * 30 + ".")
    assert any("words" in f for f in rambling.failed)
    assert "answered" in score(task, "").failed


def test_only_what_the_caller_hears_counts() -> None:
    assert spoken_text("One. Two! Three? Four.", 2) == "One. Two!"
    task = Task(name="t", system="s", turns=("q",), expect=(("nine",),), max_words=10)
    assert score(task, "We open at ten. Later. Also at nine.").failed  # 'nine' is in the third sentence
    numbers = Task(name="n", system="s", turns=("q",), expect=(("9",),))
    assert "mentions 9" in score(numbers, "Open at 19 hours.").failed
    assert "mentions 9" in score(numbers, "Open at 9.").passed


def test_a_users_own_task_file(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("""
tasks:
  - name: pizza_order
    system: You take pizza orders for Luigi's. Answer in one short spoken sentence.
    turns: ["I'd like a large margherita."]
    expect: [["margherita"], ["large"]]
    max_words: 25
""")
    loaded = load_tasks(own, {})
    assert loaded[0].messages()[0]["content"].startswith("You take pizza orders")
    assert score(loaded[0], "One large margherita, coming up!").value == 1.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks:\n  - name: x\n    persona: nobody\n    turns: ['hi']\n")
    with pytest.raises(TaskError, match="persona"):
        load_tasks(bad, {})
    bad.write_text("tasks:\n  - name: x\n    system: s\n    turns: ['hi', 'hello']\n")
    with pytest.raises(TaskError, match="end with the user"):
        load_tasks(bad, {})
