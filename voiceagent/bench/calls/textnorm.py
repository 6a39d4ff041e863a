"""Text normalisation shared by the judge and the error rates, and whole-word matching on it.

Whisper's English normaliser (the ``whisper-normalizer`` package, the same rules the Whisper paper scores
with) lower-cases, drops punctuation, spells numbers as digits, expands contractions and maps British to
American spelling. On top of it: hyphenated words are joined ("check-up" -> "checkup"), "o'clock" and a time's ":00" are dropped and "one" written "1", digit runs split by a space or hyphen are joined ("7 30" -> "730",
"555 0142" -> "5550142"), "a m"/"p m" become "am"/"pm", and currency signs are dropped, so "sixty dollars",
"$60" and "60" all read "60".
"""

from __future__ import annotations

import functools
import re
from typing import Any

_DIGIT_GAP = re.compile(r"(?<=\d)[\s-]+(?=\d)")
_AM_PM = re.compile(r"\b([ap]) m\b")
_ON_THE_HOUR = re.compile(r"\b(\d{1,2}):00\b")  # "8:00 pm" is said "8 pm" (the normaliser made it "80")
_DECIMAL_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})\b")  # "5.30" -> "530" (a time, said as one)
_OCLOCK = re.compile(r"\bo'?\s?clock\b", re.IGNORECASE)  # the normaliser reads "one o'clock" as "10 clock"
_HYPHENATED = re.compile(r"\b([A-Za-z]+)-([A-Za-z]+)\b")  # "check-up" and "checkup": one word to a caller
_TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}


def _join(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    return f"{first} {second}" if first.lower() in _TENS else first + second  # "forty-five" stays a number
_ONE = re.compile(r"\bone\b")  # the normaliser keeps "one" (and writes "1 pm" as "one pm"): one spelling


@functools.cache
def _whisper() -> Any:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """``text`` normalised for matching and word error rate."""
    text = _HYPHENATED.sub(_join, _OCLOCK.sub(" ", _DIGIT_GAP.sub(" ", _ON_THE_HOUR.sub(r"\1", text))))
    out = _ONE.sub("1", str(_whisper()(text)))
    out = _DECIMAL_TIME.sub(r"\1\2", out)
    out = _AM_PM.sub(r"\1m", out)
    out = out.replace("$", " ").replace("%", " percent")
    out = _DIGIT_GAP.sub("", out)
    return " ".join(out.split())


@functools.lru_cache(maxsize=4096)
def _pattern(needle: str) -> re.Pattern[str]:
    words = needle.split()
    if len(words) == 1 and words[0].isdigit():
        # a number also matches inside a longer digit run when it is 3 digits or more ("142" in "5550142")
        if len(words[0]) >= 3:
            return re.compile(re.escape(words[0]))
        return re.compile(rf"(?<!\d){re.escape(words[0])}(?!\d)")
    body = r"\s+".join(re.escape(w) + "s?" for w in words)
    return re.compile(rf"(?<![\w']){body}(?![\w'])")


def contains(normalized_text: str, phrase: str) -> bool:
    """True when ``phrase`` (normalised here) occurs in ``normalized_text`` as whole words (each word may
    take a plural "s")."""
    needle = normalize(phrase)
    if not needle:
        return False
    joined = needle.replace(" ", "")  # "check up" said, "checkup" written (or the other way round)
    return any(_pattern(n).search(normalized_text) is not None for n in dict.fromkeys((needle, joined)))


def numbers_in(normalized_text: str) -> list[str]:
    """Every digit run in normalised text."""
    return re.findall(r"\d+", normalized_text)
