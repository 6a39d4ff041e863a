"""Clause chunking: turns a stream of model tokens into speakable pieces, the first one as early as it can.

The first piece is cut at the first clause boundary (``, ; : . ! ?`` or a dash followed by a space)
once it holds ``first_min_words`` words; later pieces at sentence ends, or at a clause boundary once
they hold ``min_words`` words, so synthesis keeps ahead of playback with natural prosody.
Markdown and list markers, which a voice cannot say, are removed.
"""

from __future__ import annotations

import re

_CLAUSE_END = re.compile(r"[,;:.!?\u2014]+[\"')\]]*(?=\s)|\s[-\u2013]\s")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*")
_MARKUP = re.compile(r"(\*\*|\*|__|`+|^#+\s*|^\s*[-*\u2022]\s+|^\s*\d+\.\s+)", re.MULTILINE)
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.", "vs.", "no.", "a.m.", "p.m."}
_SPACES = re.compile(r"\s+")


def clean_for_speech(text: str) -> str:
    """Remove markdown, emphasis and list markers; collapse whitespace."""
    return _SPACES.sub(" ", _MARKUP.sub("", text)).strip()


class ClauseChunker:
    """Feed tokens, get clauses. Call :meth:`flush` when the model is done."""

    def __init__(self, first_min_words: int = 1, min_words: int = 6) -> None:
        self.first_min_words = first_min_words
        self.min_words = min_words
        self._buffer = ""
        self._emitted = 0
        self.sentences = 0  # complete sentences emitted so far

    def feed(self, token: str) -> list[str]:
        """Add model output; return the pieces that are now complete."""
        self._buffer += token
        pieces: list[str] = []
        while (piece := self._cut()) is not None:
            pieces.append(piece)
        return pieces

    def flush(self) -> str | None:
        """The remainder once the model has finished, if it holds anything speakable."""
        rest = clean_for_speech(self._buffer)
        self._buffer = ""
        if not re.search(r"\w", rest):
            return None
        self._emitted += 1
        return rest

    def _cut(self) -> str | None:
        min_words = self.first_min_words if self._emitted == 0 else self.min_words
        for match in _CLAUSE_END.finditer(self._buffer):
            head = self._buffer[: match.end()]
            text = clean_for_speech(head)
            if not re.search(r"\w", text):
                continue
            words = text.split()
            if _SENTENCE_END.fullmatch(match.group(0)):
                if words[-1].lower() in _ABBREVIATIONS:
                    continue
            elif len(words) < min_words:
                continue
            self._buffer = self._buffer[match.end():]
            self._emitted += 1
            if re.search(r"[.!?][\"')\]]*$", text):
                self.sentences += 1
            return text
        return None
