"""What a reply check found wrong with a clause: its kind (see :mod:`voiceagent.stages.reply_check` for
each) and why, as recorded in the call record's ``reply_check`` event."""

from __future__ import annotations

import dataclasses
from typing import Literal

ProblemKind = Literal["call_as_words", "claims_action", "asks_details", "instructions", "invented_number",
                      "closed_day", "open_day", "wrong_price", "unasked_price", "unsupported_yes", "unsupported_no",
                      "echo", "repeat", "bare_number", "bare_refusal", "dont_know", "wrong_place", "denies_fact",
                      "identity_only", "closed_only", "unasked_refusal", "unknown_name",
                      "agent_as_someone"]


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """Why a clause must not be spoken."""

    kind: ProblemKind
    detail: str
    action: str = ""  # claims_action: the action that would have made the claim true
