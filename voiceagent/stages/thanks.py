"""A caller who only says thank you (and perhaps goodbye), answered without the model.

"Great, thanks for your help.", "That's all, thank you very much.", "Lovely, that's all I needed. Cheers,
bye!": the model's reply to these is "You're welcome!" at best, a second after the caller stopped on a
2-core machine, and at worst something else: in the runs of 27 November a phone line turned "Great,
thanks" into "Brait and for your help.", the model said it back, and the reply check replaced the echo
with "I don't have that information".

A turn counts when it is no question, it thanks (a word or phrase of thanks) or says goodbye in words a
number cannot be misheard as ("that's all I needed", "goodbye": a phone line may lose the thanks around
them), and every other word that carries meaning is one of pleasure or of closing ("lovely", "perfect"),
but for at most one word the line may have garbled ("Brait"), which must be no word of the persona's
facts ("Thanks, and the brakes?" asks more). A turn that says goodbye is a :data:`CLOSING` ("bye" counts
only beside a thank-you: a phone line hears a caller's "five" as "Bye."); one that only thanks is
:data:`THANKS` (the caller may have more to ask).

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

import re
from typing import Literal

from voiceagent.personas.model import Business
from voiceagent.personas.render import vocabulary
from voiceagent.personas.words import STOPWORDS, stem, tokens
from voiceagent.stages.fact_answer import is_question

Thanks = Literal["", "thanks", "closing"]
THANKS: Thanks = "thanks"
CLOSING: Thanks = "closing"
WELCOME = "You're welcome. Is there anything else I can help with?"
GARBLED_WORDS = 1  # words of no thanks the line may have garbled ("Brait and for your help.")

_THANKING = re.compile(r"\b(?:thank|thanks|thankyou|cheers|appreciate(?:d)?|ta)\b|\bfor (?:your|all your|the) help\b",
                       re.IGNORECASE)
_CLOSING = re.compile(r"\b(?:goodbye|good bye|that's all|that is all|that's it|that's everything|nothing else|"
                      r"all i needed|all i wanted|have a (?:good|nice|great|lovely) (?:day|one|evening|weekend))\b",
                      re.IGNORECASE)
# "Bye", or "by" at the end ("Cheers by!"), says goodbye only after a thank-you: a phone line hears a
# caller's "five" as "Bye."
_BYE = re.compile(r"\bbye\b|\bby\W*$", re.IGNORECASE)
# Words of thanks, pleasure and closing: what a caller says around a thank you.
_PLEASANTRIES = frozenset(tokens(
    "thank thanks thankyou cheers appreciate appreciated ta help helpful great lovely perfect brilliant wonderful "
    "awesome fantastic excellent cool nice good grand super fab right alright all bye goodbye everything needed "
    "wanted else nothing much really so indeed lot day evening weekend one have again cheerio kind"))


def thanks_only(said: str, business: Business | None = None) -> Thanks:
    """Whether ``said`` only thanks (:data:`THANKS`), thanks and says goodbye (:data:`CLOSING`), or says
    something more ("" : a question, a request, a detail, a word of ``business``'s facts)."""
    thanking, closing = bool(_THANKING.search(said)), bool(_CLOSING.search(said))
    if is_question(said) or not (thanking or closing):
        return ""
    other = [w for w in tokens(said) if w not in STOPWORDS and w not in _PLEASANTRIES]
    known = vocabulary(business) if business is not None else frozenset()
    if len(other) > GARBLED_WORDS or any(w.isdigit() or stem(w) in known for w in other):
        return ""
    return CLOSING if closing or _BYE.search(said) else THANKS
