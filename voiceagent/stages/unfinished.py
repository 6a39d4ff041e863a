"""Words that cannot be the end of what a caller meant to say. Pure logic, no I/O.

The end-of-turn model listens to the sound of speech, and on some voices it hears a first half ("Can I
bring my car in on", pause, "Sunday?") as finished. The transcript can tell some of those halves: an
English sentence does not end on an article, a possessive, a conjunction or a hesitation, nor on a
preposition outside a question that moves it to the end ("What is it for?"), and the recogniser marks a
voice that trails off ("It's about my..." or "manicure, my-"). Only the words' ends are judged: a
complete sentence the recogniser cut short on a content word still sounds finished here.
"""

from __future__ import annotations

import re

# a sentence never ends on these
_NEVER_LAST = frozenset({
    "a", "an", "the", "my", "your", "our", "their",  # a noun must follow
    "and", "or", "but", "because", "if", "unless", "although", "whether",  # another clause must follow
    "um", "uh", "er", "erm", "uhm", "hmm",  # the caller is looking for the next word
})
# ... nor on these, unless the sentence is a question that strands them ("What's it for?")
# ("in" and "by" are left out: "while mine is in", and "bye" heard as "by")
_PREPOSITIONS = frozenset({"for", "on", "at", "to", "with", "about", "from", "of", "into"})
_WH_WORDS = frozenset({"what", "what's", "which", "who", "who's", "whom", "where", "where's", "when", "how"})
# "my name is", "the number's": what was asked for comes next
_INTRODUCES = re.compile(r"\b(name|number|address|email|phone)\s*(is|'s|was)$")
_TRAILS_OFF = re.compile(r"(\.\.\.|…|-|–|—|,)$")
_WORD = re.compile(r"[a-z0-9']+")


def sounds_unfinished(text: str) -> bool:
    """True when ``text`` (a transcript) cannot be all the caller meant to say: it trails off or ends on
    a word that needs another after it."""
    said = text.strip().lower()
    words = _WORD.findall(said)
    if not words:
        return False
    if _TRAILS_OFF.search(said):
        return True
    last = words[-1]
    if last in _NEVER_LAST:
        return True
    if _INTRODUCES.search(" ".join(words)):
        return True
    return last in _PREPOSITIONS and not _WH_WORDS.intersection(words)
