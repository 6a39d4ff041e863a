"""Deterministic relevance checks of one reply: expected facts, nothing forbidden, short enough to say,
and written for speech (no markdown, lists or emojis)."""

from __future__ import annotations

import dataclasses
import re

from voiceagent.bench.models.tasks import Task
from voiceagent.stages.chunker import spoken_reply

_MARKDOWN = re.compile(r"(\*\*|__|`|^\s*#|^\s*[-*\u2022]\s|^\s*\d+[.)]\s)", re.MULTILINE)
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


@dataclasses.dataclass(frozen=True, slots=True)
class Score:
    """The checks one reply passed, and the score (the share passed, 0..1)."""

    passed: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Every check passed: the reply would do on a real call."""
        return not self.failed

    @property
    def value(self) -> float:
        """Share of checks passed."""
        total = len(self.passed) + len(self.failed)
        return len(self.passed) / total if total else 0.0


def spoken_text(raw: str, max_sentences: int) -> str:
    """What a caller hears of ``raw``: the call's own cut (:func:`voiceagent.stages.chunker.spoken_reply`)."""
    return spoken_reply(raw, max_sentences)


def score(task: Task, raw: str, max_sentences: int = 2) -> Score:
    """Score a model's raw output for ``task``."""
    heard = spoken_text(raw, max_sentences)
    text = heard.lower()
    passed: list[str] = []
    failed: list[str] = []

    def check(name: str, ok: bool) -> None:
        (passed if ok else failed).append(name)

    check("answered", bool(heard))
    for group in task.expect:
        check(f"mentions {'/'.join(group)}", any(_contains(text, alt.lower()) for alt in group))
    for word in task.forbid:
        check(f"avoids {word!r}", not _contains(text, word.lower()))
    check(f"at most {task.max_words} words", 0 < len(heard.split()) <= task.max_words)
    if task.spoken:
        stripped = raw.strip()
        check("spoken style", not _MARKDOWN.search(stripped) and not _EMOJI.search(stripped) and "\n" not in stripped)
    return Score(tuple(passed), tuple(failed))


def _contains(text: str, needle: str) -> bool:
    """Whole-word match for words and numbers ("9" is not in "19"), substring for phrases."""
    if re.fullmatch(r"[\w']+", needle):
        return re.search(rf"(?<![\w']){re.escape(needle)}(?![\w'])", text) is not None
    return needle in text
