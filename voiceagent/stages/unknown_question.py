"""A question about something none of the persona's facts mention, answered without the model.

"Do you accept Delta Dental insurance?", "Is there a waiting room with Wi-Fi?", "Can I order a pizza?":
no fact answers them, and the right answer is the persona's "I don't know, shall I take a message" line
with what the business is (:func:`~voiceagent.stages.reply_check.fallback_reply`). A small model asked
them says that line in its own words at best; at worst a yes or a no, or another service's price, which
the reply check then stops and replaces by that same line, a second later. In the benchmark runs of 27
November, every model reply to such a question that was judged right said no more than the line.

A question counts when it names a thing: a word that is no common word, no word of asking ("how much",
"how long"), no word about the call itself ("can you hear me?", "could you repeat that?", "are you a
robot?", which the model answers) and no word of any of the persona's facts or of the cues that point at a
kind of fact ("what time do you start?": those questions go to the facts, or to the model with the facts
beside it, which may match them better than words do). Anything the call's actions handle is never asked
here (the desk and the model decide it).

A question of price counts, too, when the thing priced (the last word of meaning in the clause that asks
the price) is in no fact: "How much do you charge to fit a new radiator?" names words a plumber knows
("fit", "new"), but no radiator.

A fact that matches the caller's words elsewhere does not make the question known: in "Do you do dog
grooming? My poodle's in desperate need of a trim." the one clause that asks names two words and no fact
mentions either, while "trim" (a men's haircut) is only the detail; answered from that fact, the caller
heard a men's haircut's price. Such a clause counts when it is the only one of several that opens as a
question and names at least :data:`CLAUSE_WORDS` words ("What's the earliest, I need an MOT?" names one,
and the thing is in the next clause).

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voiceagent.personas.facts import FACT_CUES, PRICE_CUES, Fact, priced_thing
from voiceagent.personas.model import WEEKDAYS, Business
from voiceagent.personas.render import first_unknown, vocabulary
from voiceagent.personas.words import STOPWORDS, stem, tokens
from voiceagent.stages.fact_answer import clauses, is_question, opens_as_question
from voiceagent.stages.reply_check import answering

# Words of asking, which name nothing: "how much", "how long", "what else", "is there any way"
_ASKING = PRICE_CUES | frozenset(stem(w) for w in tokens(
    "many long far often soon late early earliest soonest latest else kind sort type way pay possible possibly able "
    "allowed available happen "
    "actually really just also either still ever both one ones same"))  # (the last words point back at what was said: "is that for both?")
# Words that open a clause that goes on with the one before it (the recogniser put a comma at a pause)
_JOINING = frozenset(tokens("and or on at in for with this next around about from until till by"))
# A question's opening verb and the capitalised word after it (a title before it is skipped)
_ASKS_OF_SOMEONE = re.compile(r"(?:^|[,.?!;]\s+)(?i:is|does|will|can|could|would|has|was)\s+"
                              r"(?:(?i:dr|doctor|mr|mrs|ms|miss)\.?\s+)?([A-Z][a-z'’]+)\b")
_CALENDAR = " ".join((*WEEKDAYS, "today tomorrow", "january february march april may june july august",
                      "september october november december christmas easter"))
CLAUSE_WORDS = 2  # a clause that asks names at least this many words to count beside a fact matched elsewhere
# Words about the call itself, which the model answers: "can you hear me?", "sorry, what did you say?"
_ABOUT_THE_CALL = frozenset(stem(w) for w in tokens(
    "hear heard repeat again say said speak spoke louder slower slowly understand mean meant talk talking "
    "line sorry pardon robot bot machine computer ai human person real someone anybody name doing fine "
    "good today call calling called phone ring hold wait minute second moment busy there right sure"))


def unknown_thing(business: Business | None, said: str, facts: Sequence[Fact]) -> str:
    """The word of the caller's question ``said`` that no fact mentions, when the question is about
    something the persona knows nothing of (see the module's description); "" otherwise. ``facts``: those
    matched to ``said``; when one answers it (not a list brought in as context), only the clause that
    asks counts."""
    clause = _asking_clause(said)  # "Do you do dog grooming? My poodle's in need of a trim."
    if business is None or not (is_question(said) or clause):
        return ""
    if someone := person_asked_about(business, said):  # "Is Megan working this Saturday?"
        return someone
    if answering(facts):
        return first_unknown(business, _named(clause), FACT_CUES) if clause else ""
    named = _named(said)
    priced = [w for w in priced_thing(said) if w in named]  # "to fit a new radiator": "fit", "new" known
    return first_unknown(business, named, FACT_CUES) or first_unknown(business, priced, FACT_CUES)


def person_asked_about(business: Business, said: str) -> str:
    """The name of someone the caller asks about ("Is Megan working this Saturday?", "Does Dr Patel see
    cats?"): a capitalised word (the recogniser capitalises names) straight after the verb that opens a
    question, that is no word of the persona's facts, its agent's name, a day or a month. The facts say
    nothing of anyone's days: the answer is a message for them, not the business's hours. "" if none."""
    known = vocabulary(business) | {stem(w) for w in tokens(f"{business.agent_name} {_CALENDAR}")}
    for match in _ASKS_OF_SOMEONE.finditer(said):
        name = match.group(1)
        if name.lower() not in STOPWORDS and stem(name.lower()) not in known:
            return name
    return ""


def _named(text: str) -> list[str]:
    """The words of ``text`` that may name a thing: no common word, number, word of asking or about the call."""
    words = [w for w in tokens(text) if w not in STOPWORDS and not w.isdigit()]
    return [w for w in words if stem(w) not in _ASKING and stem(w) not in _ABOUT_THE_CALL]


def _asking_clause(said: str) -> str:
    """The one clause of ``said`` that opens as a question, when it has several and only one does so,
    and that clause names at least :data:`CLAUSE_WORDS` words; "" otherwise. A clause that opens with a
    word that joins it to the one before ("and on Sunday morning", "or Saturday") is part of that one:
    "Could I bring Mac, and on Sunday morning" asks about Sunday, not about "Mac"."""
    parts: list[str] = []
    for clause in clauses(said):
        if parts and not _JOINING.isdisjoint(tokens(clause)[:1]):
            parts[-1] = f"{parts[-1]} {clause}"
        else:
            parts.append(clause)
    asking = [c for c in parts if opens_as_question(c)]
    return asking[0] if len(parts) > 1 and len(asking) == 1 and len(_named(asking[0])) >= CLAUSE_WORDS else ""
