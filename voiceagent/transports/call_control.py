"""Acting on the phone call itself, beyond its media stream: handing the caller to a person, and hanging
up where closing the stream may not. The wire protocols of ``/twilio`` and Asterisk cannot say either,
so the socket loop carries out a bridge's :class:`~voiceagent.transports.bridge.TransferCall` and
:class:`~voiceagent.transports.bridge.HangUpCall` with the :class:`CallControl` its route was given:

* ``/twilio``: Twilio's REST API updates the live call (:mod:`voiceagent.transports.twilio_rest`);
* Asterisk (chan_websocket, AudioSocket): :class:`DialplanControl` leaves the target in the server's
  :class:`TransferBook`, and the dialplan, once the stream has ended, fetches it from
  ``GET /calls/{key}/transfer`` and dials it (neither protocol can set a dialplan variable);
* ``/ws``: none (:class:`NoControl`): the client gets the ``transfer`` event and acts on it.

``docs/protocol-actions.md`` says what each transport does and what the dialplan must do.
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable
from typing import Protocol

KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a call's key in the book: a UUID, a channel's uniqueid
TRANSFER_TTL_S = 600.0  # how long a target waits for the dialplan to fetch it
MAX_TRANSFERS = 4096  # targets kept at most (the oldest go first)


class ControlFailed(Exception):
    """The telephony side did not do what was asked; the message says why (for the log and the record)."""


class CallControl(Protocol):
    """What the socket loop asks of the telephony side. ``name`` goes into the call record."""

    name: str

    async def transfer(self, ref: str, to: str) -> None:
        """Hand the call ``ref`` to ``to`` (a phone number or SIP URI); raises :class:`ControlFailed`."""

    async def hang_up(self, ref: str) -> None:
        """End the call ``ref`` itself; raises :class:`ControlFailed`."""


class NoControl:
    """For a connection whose peer acts on the ``transfer`` event itself, or cannot transfer at all."""

    name = "none"

    async def transfer(self, ref: str, to: str) -> None:
        """Nothing here can transfer a call."""
        raise ControlFailed("this connection has no way to transfer a call")

    async def hang_up(self, ref: str) -> None:
        """Closing the connection is all there is."""


class TransferBook:
    """Transfer targets by call key, waiting for the dialplan to fetch them: each is kept for ``ttl_s``
    and at most ``max_entries`` are kept (the oldest go first), so the book cannot grow without bound."""

    def __init__(self, ttl_s: float = TRANSFER_TTL_S, max_entries: int = MAX_TRANSFERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._targets: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()

    def leave(self, key: str, to: str) -> None:
        """Keep ``to`` as the target of the call ``key`` (raises :class:`ControlFailed` for a bad key)."""
        if not KEY.fullmatch(key):
            raise ControlFailed(f"no usable call key ({key[:40]!r}) to leave the transfer target under")
        self._expire()
        self._targets.pop(key.lower(), None)
        self._targets[key.lower()] = (self._clock() + self._ttl_s, to)
        while len(self._targets) > self._max:
            self._targets.popitem(last=False)

    def get(self, key: str) -> str | None:
        """The target left for the call ``key``, or None (none, expired, or not a key at all)."""
        self._expire()
        entry = self._targets.get(key.lower()) if KEY.fullmatch(key) else None
        return entry[1] if entry is not None else None

    def __len__(self) -> int:
        return len(self._targets)

    def _expire(self) -> None:
        now = self._clock()
        while self._targets and next(iter(self._targets.values()))[0] <= now:
            self._targets.popitem(last=False)


class DialplanControl:
    """Asterisk: the target waits in the book under the call's key; ending the stream (the bridge's
    ``HANGUP``) returns the channel to the dialplan, which fetches the target and dials it."""

    name = "dialplan"

    def __init__(self, book: TransferBook) -> None:
        self.book = book

    async def transfer(self, ref: str, to: str) -> None:
        """Leave ``to`` in the book under ``ref``."""
        self.book.leave(ref, to)

    async def hang_up(self, ref: str) -> None:
        """Nothing beyond ending the stream: the dialplan finds no target and hangs up."""
