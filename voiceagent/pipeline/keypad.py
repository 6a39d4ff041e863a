"""Keypad (DTMF) presses grouped into caller turns: digits pressed in a row (gaps under ``gap_ms``)
become one turn whose text tells the model what was pressed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

KEYS = "0123456789*#ABCD"


class Keypad:
    """Collects digits; calls ``on_turn(text)`` once the caller stops pressing."""

    def __init__(self, gap_ms: int, on_turn: Callable[[str], None]) -> None:
        self._gap_s = gap_ms / 1000
        self._on_turn = on_turn
        self._digits: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def press(self, digit: str) -> bool:
        """One key press; returns False (and ignores it) for anything that is not a keypad key."""
        if len(digit) != 1 or digit not in KEYS:
            return False
        self._digits.append(digit)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._gap_s, self._flush)
        return True

    def _flush(self) -> None:
        digits, self._digits, self._timer = self._digits, [], None
        if digits:
            self._on_turn(f"(The caller pressed {' '.join(digits)} on the phone keypad.)")

    def close(self) -> None:
        """Forget pending digits (the call is ending)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._digits = []
