"""What the agent may do on a call, as a persona declares it: built-in and custom actions, each with a
one-line description and JSON-schema parameters.

A persona file lists its actions under ``[[actions]]``. A built-in needs only its name (its description,
parameters and behaviour are below; ``webhook`` sends it to the owner's system instead of the embedded
store). A custom action gives all of ``description``, ``parameters`` and ``webhook``::

    [[actions]]
    name = "book_appointment"

    [[actions]]
    name = "check_part_in_stock"
    description = "Check whether a car part is in stock."
    parameters = { part = "the part the caller asks about" }
    webhook = "https://example.com/voiceagent"
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_TAGS = re.compile(r"</?tool_call>")


@dataclasses.dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action the model may call. ``parameters`` maps each argument to its description (all are
    strings the caller says, all required); ``confirm``: read back and act only after a yes;
    ``idempotent``: a failed webhook call may be retried."""

    name: str
    description: str
    parameters: tuple[tuple[str, str], ...] = ()
    webhook: str = ""
    confirm: bool = False
    idempotent: bool = False
    builtin: bool = True
    target: str = ""  # transfer_to_human: where to (a phone number or SIP URI); "" = the transfer_to setting

    @property
    def argument_names(self) -> tuple[str, ...]:
        """The arguments, in order."""
        return tuple(name for name, _ in self.parameters)

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments object: every argument a string, all present ("" where the caller
        has not said it yet: the call asks for it)."""
        return {
            "type": "object",
            "properties": {name: {"type": "string", "description": text}
                           for name, text in self.parameters},
            "required": list(self.argument_names),
            "additionalProperties": False,
        }


BUILTIN_ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("book_appointment", "Book an appointment, once the caller has said their name, the day and the time.",
               (("name", "the caller's name"), ("service", "what the appointment is for"), ("day", "the day"),
                ("time", "the time"))),
    ActionSpec("move_appointment", "Move the caller's appointment to another day and time.",
               (("name", "the caller's name"), ("day", "the new day"), ("time", "the new time"))),
    ActionSpec("cancel_appointment", "Cancel the caller's appointment.", (("name", "the caller's name"),),
               confirm=True),
    ActionSpec("find_appointment", "Say when the caller's appointment is, when they ask.",
               (("name", "the caller's name"),), idempotent=True),
    ActionSpec("take_message", "Take a message for the staff: the caller's name, a call-back number and the message.",
               (("name", "the caller's name"), ("phone", "the call-back number"), ("text", "the message"))),
    ActionSpec("transfer_to_human", "Put the caller through to a person, when they ask to speak to someone."),
    ActionSpec("end_call", "Hang up, when the caller says goodbye."),
)}


@dataclass(frozen=True, config=ConfigDict(extra="forbid", str_strip_whitespace=True))
class ActionEntry:
    """One ``[[actions]]`` table as written in a persona file."""

    name: str = Field(pattern=ACTION_NAME.pattern)
    description: str = ""
    parameters: dict[str, str] | None = None
    webhook: str = ""
    confirm: bool | None = None
    idempotent: bool | None = None
    target: str = ""

    @model_validator(mode="after")
    def _complete(self) -> ActionEntry:
        if self.webhook and not self.webhook.startswith(("https://", "http://")):
            raise ValueError("webhook must be an http(s) URL")
        if self.name in BUILTIN_ACTIONS:
            return self
        missing = [f for f in ("description", "webhook") if not getattr(self, f)]
        if missing or self.parameters is None:
            missing += ["parameters"] if self.parameters is None else []
            raise ValueError(f"{self.name!r} is not a built-in action ({', '.join(BUILTIN_ACTIONS)}): "
                             f"a custom action needs {', '.join(missing)}")
        return self

    def spec(self) -> ActionSpec:
        """The action this entry declares (a built-in with its overrides, or a custom one)."""
        base = BUILTIN_ACTIONS.get(self.name)
        if base is not None:
            return dataclasses.replace(
                base, description=self.description or base.description, webhook=self.webhook,
                target=self.target, confirm=base.confirm if self.confirm is None else self.confirm,
                idempotent=base.idempotent if self.idempotent is None else self.idempotent,
            )
        return ActionSpec(self.name, self.description, tuple((self.parameters or {}).items()), webhook=self.webhook,
                          confirm=bool(self.confirm), idempotent=bool(self.idempotent), builtin=False)


def parse_call(text: str) -> tuple[str, dict[str, object]] | None:
    """``(name, arguments)`` if ``text`` is a tool call (``<tool_call>{...}</tool_call>`` or bare JSON)."""
    body = _TAGS.sub("", text).strip()
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    arguments = data.get("arguments", {})
    return data["name"], arguments if isinstance(arguments, dict) else {}


_I_DID = r"\b(?:i've|i have|we've|we have|i'll|i will|we'll|we will|i just|i'm going to)\s+(?:now\s+|just\s+|also\s+)?"
# Words that say an action happened (or will): only the code that does it may say so. Each pattern
# names the built-in action that would have made the words true.
_CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("cancel_appointment", _I_DID + r"cancell?(?:ed)?\b|\b(?:is|has been|was)\s+(?:now\s+)?cancell?ed\b"),
    ("move_appointment", _I_DID + r"(?:moved?|rescheduled?)\b|\b(?:is|has been|was)\s+(?:now\s+)?(?:moved|rescheduled)\b"),
    ("book_appointment", _I_DID + r"(?:booked|book|scheduled?|made (?:the|an|your) (?:booking|appointment))\b"
                         r"|\byou(?:'re| are)\s+(?:all\s+)?(?:booked|scheduled|confirmed)\b"
                         r"|\b(?:is|are|has been|have been|was)\s+(?:now\s+)?(?:booked|scheduled|confirmed)\b"),
    ("find_appointment", r"\b(?:your|his|her|\w+'s)\s+(?:next\s+)?appointment\s+(?:is|was)\b"),
    # "Friday the 2nd of December, noted.": the model copying the desk's read-back of a booking
    ("take_message", _I_DID + r"(?:passed|pass|forwarded|forward|noted|note|sent|send|let (?:them|him|her) know)\b"
                     r"|(?:,\s*(?:all\s+)?|\b(?:that's|that is|it's|it is|all|got it)[,\s]+)noted[.!]*\s*$"),
    ("transfer_to_human", _I_DID + r"(?:transferred|transfer|put you through|connect(?:ed)? you)\b"),
))


def claimed_action(text: str) -> str:
    """The built-in action ``text`` says was done (or promises), e.g. "I've booked you in" ->
    ``book_appointment``; "" when it claims none."""
    return next((name for name, pattern in _CLAIMS if pattern.search(text)), "")
