"""Words compared by their stems (Snowball English stemmer): "tyres" meets "tyre", "fitting" meets "fit".
Beside a word of the same phrase met by its stem, a business's term of five letters or more also meets a
caller's word one letter away from it (Levenshtein distance 1: rapidfuzz), which is how a phone line
often loses a sound ("oiler service" for boiler service), or one that only ends otherwise than the
stemmer knows ("air conditioner" for air conditioning). A near word alone names nothing ("train" is no
"drain").

Generic English only: nothing here knows any business. A business's own vocabulary comes from its file.
"""

from __future__ import annotations

import functools
import re

import snowballstemmer
from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_STEMMER = snowballstemmer.stemmer("english")
NEAR_MIN_LETTERS = 5  # shorter terms are too close to other words ("tap"/"top", "leak"/"lead")
SAME_START = 6  # a stem this long that begins the other word's stem is one term ("condit", "condition")

# Function words and verbs too common on any call to point at one fact.
_STOP_TEXT = """
a about after again all also am an and any anyone anything are as at be been before being but by can
could did do does doing done for from get got had has have having he her here hi hello hey him his how
i i'd i'll i'm if in into is it it's its just know let like look me mine more most my need no not now
of off on one or our out please she should so some someone something than thank thanks that the their
them then there these they this those to too up us very want was we we're were what when where which
who why will with would yes you you're your yours okay ok well sure maybe tell ask help going go make
take give come say see use try
i've you've we've they've you'd they'd you'll they'll it'll he's she's let's that's there's what's where's how's
who's here's don't doesn't didn't can't couldn't won't wouldn't isn't aren't wasn't weren't hasn't haven't hadn't
shouldn't mustn't
"""


# Plain English words for one thing, each of which meets the others: a caller asks whether they are charged
# "just to come out to the house", where a business wrote "a call-out fee" on "every home visit". Generic
# English only; a phrase is matched as its words joined ("come out" as "comeout", like "check up").
_SAME_TEXT = (("house", "home"), ("come out", "call out"))


@functools.lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word."""
    return str(_STEMMER.stemWord(word))


def tokens(text: str) -> list[str]:
    """Lower-case words; a hyphenated or apostrophe word (check-up, Monday's) stays one token, joined."""
    return [re.sub(r"['’]s$", "", t).replace("-", "").replace("'", "").replace("’", "")
            for t in _WORD.findall(text.lower())]


STOPWORDS = frozenset(tokens(_STOP_TEXT))
# Numbers said in words: they name no thing ("a group of ten").
NUMBER_WORDS = frozenset(tokens("""
zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand half dozen couple
"""))
_SAME: dict[str, frozenset[str]] = {
    stem("".join(tokens(word))): frozenset(stem("".join(tokens(other))) for other in group)
    for group in _SAME_TEXT for word in group}


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning: ``"a brake pad replacement"`` -> brake, pad, replac."""
    words = [t for t in tokens(text) if t not in STOPWORDS]
    return [stem(t) for t in words]


def _near(term: str, word: str) -> bool:
    """Whether the caller's ``word`` is ``term`` heard one letter off, or another ending of it."""
    if len(word) >= NEAR_MIN_LETTERS - 1 and Levenshtein.distance(term, word, score_cutoff=1) <= 1:
        return True
    short, long = sorted((stem(term), stem(word)), key=len)
    return len(short) >= SAME_START and long.startswith(short)


def _extends(term: str, word: str) -> bool:
    """Whether one of the two words is the other with one or two letters more that the stemmer does not
    take off ("deliver" and "delivery"): the same word, said as a verb or a noun."""
    short, long = sorted((term, word), key=len)
    return len(short) >= SAME_START and long.startswith(short) and len(long) - len(short) <= 2


class Heard:
    """A caller's words, ready to match: their stems, their neighbour pairs joined ("check up"), and the
    plain English words for the same thing ("house" for "home": see :data:`_SAME_TEXT`)."""

    def __init__(self, text: str) -> None:
        self.words = tokens(text)
        self.stems = {stem(w) for w in self.words}
        self.stems |= {stem(a + b) for a, b in zip(self.words, self.words[1:], strict=False)}
        self.stems |= {same for said in self.stems & _SAME.keys() for same in _SAME[said]}

    def has_any(self, stems: set[str] | frozenset[str]) -> bool:
        """Whether any of ``stems`` was said."""
        return not self.stems.isdisjoint(stems)

    def says_phrase(self, phrase: str) -> bool:
        """Whether the caller named ``phrase``: all its content words (all but one, for three or more),
        each by its stem or, for a word of :data:`NEAR_MIN_LETTERS` letters or more, by a word of the
        caller's one letter away; at least one of them by its stem."""
        wanted = set([t for t in tokens(phrase) if t not in STOPWORDS] or tokens(phrase))
        exact = {word for word in wanted if stem(word) in self.stems or any(_extends(word, w) for w in self.words)}
        if not exact:  # a near word alone names nothing: "train station" is no "drain"
            return False
        found = len(exact) + sum(1 for word in wanted - exact if self._near_said(word))
        return found == len(wanted) or (len(wanted) >= 3 and found >= len(wanted) - 1)

    def _near_said(self, word: str) -> bool:
        return len(word) >= NEAR_MIN_LETTERS and any(w not in STOPWORDS and _near(word, w) for w in self.words)

    def shares_word(self, text: str, ignore: set[str] | frozenset[str] = frozenset()) -> bool:
        """Whether the caller said any content word of ``text`` other than those in ``ignore``."""
        return not self.stems.isdisjoint(set(content_stems(text)) - ignore)
