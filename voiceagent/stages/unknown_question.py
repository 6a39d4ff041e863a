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

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from voiceagent.personas.facts import FACT_CUES, PRICE_CUES, Fact
from voiceagent.personas.model import Business
from voiceagent.personas.render import first_unknown
from voiceagent.personas.words import STOPWORDS, stem, tokens
from voiceagent.stages.fact_answer import is_question
from voiceagent.stages.reply_check import answering

# Words of asking, which name nothing: "how much", "how long", "what else", "is there any way"
_ASKING = PRICE_CUES | frozenset(stem(w) for w in tokens(
    "many long far often soon late early else kind sort type way pay possible possibly able allowed available "
    "actually really just also either still ever both one ones same"))  # (the last words point back at what was said: "is that for both?")
# Words about the call itself, which the model answers: "can you hear me?", "sorry, what did you say?"
_ABOUT_THE_CALL = frozenset(stem(w) for w in tokens(
    "hear heard repeat again say said speak spoke louder slower slowly understand mean meant talk talking "
    "line sorry pardon robot bot machine computer ai human person real someone anybody name doing fine "
    "good today call calling called phone ring hold wait minute second moment busy there right sure"))


def unknown_thing(business: Business | None, said: str, facts: Sequence[Fact]) -> str:
    """The word of the caller's question ``said`` that no fact mentions, when the question is about
    something the persona knows nothing of (see the module's description); "" otherwise. ``facts``: those
    matched to ``said``: one that answers it (not a list brought in as context), and the question is not
    about nothing."""
    if business is None or answering(facts) or not is_question(said):
        return ""
    words = [w for w in tokens(said) if w not in STOPWORDS and not w.isdigit()]
    return first_unknown(business, [w for w in words if stem(w) not in _ASKING and stem(w) not in _ABOUT_THE_CALL],
                         FACT_CUES)
