"""Whether a price in a reply answers what the caller asked (the reply check's ``wrong_price`` and
``unasked_price``): a service's price said when neither the caller nor the reply named that service, or
said to a caller who asked about something the business does not do, or the price of a thing no fact of
the persona mentions (a small model gives the nearest price it knows).

Pure logic: no engine, no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from voiceagent.personas.facts import ASKS_PRICE, Fact, naming, priced_thing
from voiceagent.personas.model import Business, Service
from voiceagent.personas.render import first_unknown
from voiceagent.personas.words import Heard, stem, tokens
from voiceagent.stages.reply_problem import Problem


class PriceCheck:
    """The price checks for one reply: built with what the caller said, the facts matched to it, and the
    last exchange of the call (a "how much is it?" follows on from it)."""

    def __init__(self, business: Business, said: str, facts: Sequence[Fact], last_exchange: Sequence[str]) -> None:
        self._business = business
        self._said = said
        self._facts = tuple(facts)
        self._last_exchange = tuple(last_exchange)

    def check(self, text: str) -> Problem | None:
        """A price of a service that neither the caller nor the reply named (its unit, "per tap", is no
        name: "A new radiator costs 70 dollars per tap.")."""
        currency = re.escape(self._business.currency.lower().rstrip("s"))
        prices = re.findall(rf"\$\s?(\d+)|(\d+)\s*{currency}", text.lower())
        units = {v.price_unit.lower() for v in self._business.services if v.price_unit}
        named = Heard(f"{self._said} {functools.reduce(lambda t, u: t.replace(u, ' '), units, text.lower())}")
        for amount in {int(a or b) for a, b in prices}:
            services = [v for v in self._business.services if v.price is not None and int(v.price) == amount]
            if services and not any(named.says_phrase(n) for v in services for n in (v.name, *v.aliases)):
                return Problem("wrong_price", f"{amount} is the price of {services[0].name}, which nobody named")
            if services and (unknown := self._unknown_thing(services)):
                return Problem("unasked_price", f"{amount} is the price of {services[0].name}; the caller asked "
                                                f"about {unknown!r}")
        return None

    def _unknown_thing(self, services: Sequence[Service]) -> str:
        """What the caller asked about, when the business does not do it (priced or not: "Today I book a
        manicure ..." answered "A woman's haircut is 55 dollars."), or asked the price of, when no fact of
        the persona mentions any word of it (but for words of asking a price) or the thing priced (see
        :func:`priced_thing`); both only when the caller named none of ``services`` (nor did the last
        exchange, which a "how much is it?" follows on from). "" otherwise. "My car is making a noise, how
        much?" names the car, which the persona knows: the answer may be the price of a diagnostic check."""
        asked = Heard(" ".join([self._said, *self._last_exchange]))
        if any(asked.says_phrase(n) for v in services for n in (v.name, *v.aliases)):
            return ""
        not_offered = [f.text for f in self._facts if f.kind == "not_offered"]
        if not_offered:  # asked for or about something not done, priced or not ("I'd book a manicure")
            return not_offered[0]
        if not any(stem(w) in ASKS_PRICE for w in tokens(self._said)):
            return ""
        words = [w for w in naming(tokens(self._said)) if not w.endswith("ly")]
        return first_unknown(self._business, words) or first_unknown(self._business, priced_thing(self._said))
