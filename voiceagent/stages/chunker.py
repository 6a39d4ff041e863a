"""Clause chunking: turns a stream of model tokens into speakable pieces, the first one as early as it can.

The first piece is cut at the first clause boundary (``, ; : . ! ?`` or a dash followed by a space)
once it holds ``first_min_words`` words; if the model writes on without punctuation, it is cut before
a word that opens a phrase ("where", "and", "to" ...) once three words are ready, and after
``first_max_words`` words at the latest: every word of the first piece is waited for by the caller.
A first piece that would be a lone "Yes," or "No," waits for the clause after it: it is the claim the
reply check judges with what follows, and once spoken it cannot be taken back.
Later pieces end at sentence ends, or at a clause boundary once they hold ``min_words`` words, so
synthesis keeps ahead of playback with natural prosody.
Markdown and list markers, which a voice cannot say, are removed.
"""

from __future__ import annotations

import re

_CLAUSE_END = re.compile(r"[,;:.!?\u2014]+[\"')\]]*(?=\s)|\s[-\u2013]\s")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*")
_MARKUP = re.compile(r"(\*\*|\*|__|`+|^#+\s*|^\s*[-*\u2022]\s+|^\s*\d+\.\s+)", re.MULTILINE)
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.", "vs.", "no.", "a.m.", "p.m."}
_TITLES = {"mr.", "mrs.", "ms.", "dr."}  # never the end of a sentence
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
# the shortest first piece of a composed reply: "I'm sorry," plays for less time than the next piece may
# take to synthesise, and the caller would hear a gap
FIRST_PIECE_WORDS = 3
# A first clause of these words alone waits for the clause after it, which the reply check must see first:
# "No," (to what?), "Thanks," (to whom? "Thanks, Megan." thanked a name the caller never gave)
_HELD_OPENERS = frozenset({"yes", "yeah", "yep", "no", "nope", "thanks", "thank", "you"})
_PHRASE_OPENERS = {
    "and", "but", "or", "so", "because", "where", "which", "who", "when", "while", "that", "if", "to",
    "for", "with", "at", "on", "in", "from", "by", "about", "until", "then",
}


def ends_sentence(piece: str) -> bool:
    """True if ``piece`` ends with sentence punctuation, and not with a title ("Sure, Dr." goes on: a
    first piece cut before "on" must not count as a sentence)."""
    words = piece.split()
    return bool(re.search(r"[.!?][\"')\]]*$", piece)) and words[-1].lower() not in _TITLES


def clean_for_speech(text: str) -> str:
    """Remove markdown, emphasis and list markers; collapse whitespace."""
    return _SPACES.sub(" ", _MARKUP.sub("", text)).strip()


class ClauseChunker:
    """Feed tokens, get clauses. Call :meth:`flush` when the model is done."""

    def __init__(self, first_min_words: int = 1, min_words: int = 6, first_max_words: int = 8) -> None:
        self.first_min_words = first_min_words
        self.first_max_words = first_max_words
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
            elif self._emitted == 0 and all(w.strip(",;:").lower() in _HELD_OPENERS for w in words):
                continue  # "No," or "Thanks," alone: the check needs what follows
            self._buffer = self._buffer[match.end():]
            self._emitted += 1
            if ends_sentence(text):
                self.sentences += 1
            return text
        return self._cut_first_phrase() if self._emitted == 0 else None

    def _cut_first_phrase(self) -> str | None:
        """No punctuation yet in the first piece: cut at a phrase boundary among the complete words."""
        words = list(_WORD.finditer(self._buffer))
        if words and not self._buffer[-1:].isspace():
            words = words[:-1]  # the last word may still be growing
        cut = None
        for i in range(3, len(words)):
            if words[i].group(0).lower() in _PHRASE_OPENERS:
                cut = words[i].start()
                break
        if cut is None and len(words) >= self.first_max_words:
            cut = words[self.first_max_words - 1].end()
        if cut is None:
            return None
        text = clean_for_speech(self._buffer[:cut])
        if not re.search(r"\w", text):
            return None
        self._buffer = self._buffer[cut:]
        self._emitted += 1
        return text


class SpokenReply:
    """The part of a model's output a caller hears: clauses from a :class:`ClauseChunker`, up to and
    including the ``max_sentences``-th sentence. Feed tokens; :attr:`done` turns True at the cap (stop
    the model then). The call speaks exactly this and the benchmarks score it (:func:`spoken_reply`)."""

    def __init__(self, max_sentences: int) -> None:
        self.max_sentences = max_sentences
        self._chunker = ClauseChunker()
        self._sentences = 0
        self.done = False

    def feed(self, token: str) -> list[str]:
        """Add model output; return the clauses now ready to speak (none once :attr:`done`)."""
        kept: list[str] = []
        for clause in [] if self.done else self._chunker.feed(token):
            kept.append(clause)
            self._sentences += ends_sentence(clause)
            if self._sentences >= self.max_sentences:
                self.done = True
                break
        return kept

    def flush(self) -> str | None:
        """The rest once the model has finished (None if nothing speakable, or the cap was reached)."""
        return None if self.done else self._chunker.flush()


def spoken_pieces(text: str) -> list[str]:
    """``text`` (a reply composed without the model: a fact, an action's result) cut as the call speaks
    it: the first clause of at least :data:`FIRST_PIECE_WORDS` words alone ("Thanks Raj Patel,"), which is
    synthesised in a fraction of the time of the whole sentence and heard while the rest is made, then
    sentences, or clauses of at least ``min_words`` words (as :class:`ClauseChunker` cuts a model's reply)."""
    chunker = ClauseChunker(first_min_words=FIRST_PIECE_WORDS)
    pieces = chunker.feed(text.strip() + " ")
    if rest := chunker.flush():
        pieces.append(rest)
    return pieces


def spoken_reply(text: str, max_sentences: int) -> str:
    """What a caller hears of a model's whole output ``text`` (see :class:`SpokenReply`)."""
    cut = SpokenReply(max_sentences)
    clauses = cut.feed(text + " ")
    if rest := cut.flush():
        clauses.append(rest)
    return " ".join(clauses)
