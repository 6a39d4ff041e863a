"""Words compared by their stems (Snowball English stemmer): "tyres" meets "tyre", "fitting" meets "fit".

Generic English only: nothing here knows any business. A business's own vocabulary comes from its file.
"""

from __future__ import annotations

import functools
import re

import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_STEMMER = snowballstemmer.stemmer("english")

# Function words and verbs too common on any call to point at one fact.
_STOP_TEXT = """
a about after again all also am an and any anyone anything are as at be been before being but by can
could did do does doing done for from get got had has have having he her here hi hello hey him his how
i i'd i'll i'm if in into is it it's its just know let like look me mine more most my need no not now
of off on one or our out please she should so some someone something than thank thanks that the their
them then there these they this those to too up us very want was we we're were what when where which
who why will with would yes you you're your yours okay ok well sure maybe tell ask help going go make
take give come say see use try
"""


@functools.lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word."""
    return str(_STEMMER.stemWord(word))


def tokens(text: str) -> list[str]:
    """Lower-case words; a hyphenated or apostrophe word (check-up, Monday's) stays one token, joined."""
    return [re.sub(r"['’]s$", "", t).replace("-", "").replace("'", "").replace("’", "")
            for t in _WORD.findall(text.lower())]


STOPWORDS = frozenset(tokens(_STOP_TEXT))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning: ``"a brake pad replacement"`` -> brake, pad, replac."""
    words = [t for t in tokens(text) if t not in STOPWORDS]
    return [stem(t) for t in words]


class Heard:
    """A caller's words, ready to match: their stems, and their neighbour pairs joined ("check up")."""

    def __init__(self, text: str) -> None:
        self.words = tokens(text)
        self.stems = {stem(w) for w in self.words}
        self.stems |= {stem(a + b) for a, b in zip(self.words, self.words[1:], strict=False)}

    def has_any(self, stems: set[str] | frozenset[str]) -> bool:
        """Whether any of ``stems`` was said."""
        return not self.stems.isdisjoint(stems)

    def says_phrase(self, phrase: str) -> bool:
        """Whether the caller named ``phrase``: all its content words (all but one, for three or more)."""
        wanted = set(content_stems(phrase)) or {stem(t) for t in tokens(phrase)}
        if not wanted:
            return False
        found = len(wanted & self.stems)
        return found == len(wanted) or (len(wanted) >= 3 and found >= len(wanted) - 1)

    def shares_word(self, text: str, ignore: set[str] | frozenset[str] = frozenset()) -> bool:
        """Whether the caller said any content word of ``text`` other than those in ``ignore``."""
        return not self.stems.isdisjoint(set(content_stems(text)) - ignore)
