"""Blind transfer of a SIP call to a person: a REFER (RFC 3515) to the caller, sent when the call's output
gets a :class:`~voiceagent.events.Transfer` event.

Where the caller is sent (:func:`transfer_uri`): a SIP URI (``sip:frontdesk@10.0.0.5``, ``sips:...``) is used
as it is (bare or in angle brackets; one with spaces, quotes or no host is refused); a phone number or extension (``+1 555 0142``, ``0142``, ``tel:+15550142``; spaces, dashes, dots and
brackets are dropped) becomes ``sip:<number>@<host>``, where the host is the registrar's when the endpoint
registers (``sip_registrar``: the PBX that routes numbers, with its port if it has one) and otherwise the
host of the caller's own SIP URI (the INVITE's From: the trunk's or PBX's domain; PJSIP gives it without a
port, as RFC 3261 has From URIs). Anything else is refused (``transfer_failed``).

How it goes (:meth:`TransferDesk.refer`): the event loop hands the REFER to the PJSIP thread and waits for
its outcome, so that the call is still running, and its record open, when the outcome is known. The wait
(the output's ``send_event``) lasts until the person's phone answers or the attempt fails, at most
:attr:`TransferDesk.wait_s`; the caller stays on the line meanwhile (usually on hold at their end).

- the peer accepts (202) and reports the new call answered (NOTIFY ``SIP/2.0 200 OK``), or accepts and
  hangs up: transferred; the record gets a ``sip_refer`` entry, and the call, ended by its side with reason
  ``transferred``, hangs up with a BYE (unless the peer's BYE came first).
- the peer refuses the REFER, or reports the new call failed (NOTIFY ``SIP/2.0 486 Busy Here`` ...), or
  never answers: the failure is logged and written through the call as an ``error`` ``transfer_failed``
  (and in ``sip_refer``), then the call ends as its side decided (``transferred``) with a BYE. No spoken
  fallback: the call side ends the call as soon as the event is sent, so nothing is left to speak it.
- accepted but no final NOTIFY within :attr:`TransferDesk.wait_s` (or a final one still saying 1xx): taken
  as handed over (a blind transfer needs nothing more from us) and recorded as ``unconfirmed``; the BYE
  that follows does not touch the caller's new call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
from collections.abc import Callable

from voiceagent.pipeline.call import Call

log = logging.getLogger(__name__)

_URI = re.compile(r"sips?:", re.IGNORECASE)
_USABLE_URI = re.compile(r"sips?:[^\s<>\"]+", re.IGNORECASE)  # PJSIP would send a REFER with anything at all
_NUMBER = re.compile(r"\+?[0-9*#]+")
_DECORATION = re.compile(r"[\s\-.()]")


def transfer_uri(to: str, *, registrar: str = "", caller: str = "") -> str:
    """Where a REFER sends the caller for the transfer target ``to`` (see the module's rule).

    ``registrar`` is the ``sip_registrar`` setting; ``caller`` the caller's SIP URI as the INVITE's From
    header had it (``"Ann" <sip:ann@pbx.example.com:5060>;tag=...``). Raises ValueError for a target that is
    neither a SIP URI nor a phone number, a malformed URI, or a number with no host to send it to."""
    target = to.strip()
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1].strip()
    if _URI.match(target):
        if not _USABLE_URI.fullmatch(target) or not sip_host(target):
            raise ValueError(f"transfer target {to!r} is not a usable SIP URI")
        return target
    number = _DECORATION.sub("", target.removeprefix("tel:"))
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"transfer target {to!r} is neither a SIP URI nor a phone number")
    host = sip_host(registrar) or sip_host(caller)
    if not host:
        raise ValueError(f"no host to send {number} to: no registrar, and the caller's address is unknown")
    return f"sip:{number}@{host}"


def sip_host(uri: str) -> str:
    """The host (and port) of a SIP URI, a name-addr or a bare host: ``"A" <sip:a@h:5060;x=y>`` -> ``h:5060``;
    "" when there is none."""
    found = _URI.search(uri)
    rest = uri[found.end():] if found else uri.strip()
    rest = re.split(r"[>;?\s]", rest, maxsplit=1)[0]
    return rest.rpartition("@")[2]


@dataclasses.dataclass(frozen=True, slots=True)
class TransferOutcome:
    """How a REFER ended: ``outcome`` is ``transferred``, ``unconfirmed`` or ``failed``; ``status`` and
    ``reason`` the last SIP status heard (the REFER's answer, or the new call's in the NOTIFY's sipfrag)."""

    outcome: str
    status: int
    reason: str

    @property
    def failed(self) -> bool:
        """True when the caller was not handed over."""
        return self.outcome == "failed"


class _Pending:
    """One REFER waiting for its outcome (event-loop side)."""

    def __init__(self) -> None:
        self.done: asyncio.Future[TransferOutcome] = asyncio.get_running_loop().create_future()
        self.accepted = False
        self.status = 0
        self.reason = "no answer"

    def finish(self, outcome: str) -> None:
        if not self.done.done():
            self.done.set_result(TransferOutcome(outcome, self.status, self.reason))


class TransferDesk:
    """The REFERs in flight, by PJSIP call id. Lives on the event loop: the PJSIP thread reports through
    ``loop.call_soon_threadsafe(desk.progress, ...)`` and ``desk.gone``."""

    def __init__(self, wait_s: float = 30.0) -> None:
        self.wait_s = wait_s  # the longest a REFER is waited for (PJSIP itself gives up on it after 32 s)
        self._pending: dict[int, _Pending] = {}

    async def transfer(self, call: Call, call_id: int, to: str, *, registrar: str,
                       send: Callable[[str], None]) -> None:
        """Transfer ``call`` (PJSIP call ``call_id``) to ``to``: ``send(uri)`` hands the REFER to the PJSIP
        thread. Returns once the outcome is known; the outcome goes to the record, a failure as an error."""
        try:
            uri = transfer_uri(to, registrar=registrar, caller=call.details.get("remote", ""))
        except ValueError as exc:
            log.warning("sip: call %s: transfer failed: %s", call.call_id, exc)
            call.note("sip_refer", to=to, outcome="failed", status=0, reason=str(exc))
            await call.send_error("transfer_failed", str(exc))
            return
        log.info("sip: call %s: REFER to %s", call.call_id, uri)
        result = await self.refer(call_id, functools.partial(send, uri))
        call.note("sip_refer", to=to, uri=uri, outcome=result.outcome, status=result.status, reason=result.reason)
        if result.failed:
            message = f"transfer to {uri} failed: {result.status} {result.reason}"
            log.warning("sip: call %s: %s", call.call_id, message)
            await call.send_error("transfer_failed", message)
        else:
            log.info("sip: call %s: %s (%d %s)", call.call_id, result.outcome, result.status, result.reason)

    async def refer(self, call_id: int, send: Callable[[], None]) -> TransferOutcome:
        """Call ``send`` (which hands the REFER to the PJSIP thread) and wait for the outcome (one REFER
        at a time per call: another one meanwhile fails at once)."""
        if call_id in self._pending:
            return TransferOutcome("failed", 0, "another transfer of this call is under way")
        pending = self._pending[call_id] = _Pending()
        try:
            send()
            try:
                return await asyncio.wait_for(asyncio.shield(pending.done), self.wait_s)
            except TimeoutError:
                pending.finish("unconfirmed" if pending.accepted else "failed")
                return pending.done.result()
        finally:
            if self._pending.get(call_id) is pending:
                del self._pending[call_id]

    def progress(self, call_id: int, status: int, reason: str, final: bool) -> None:
        """PJSIP's news of a REFER: its answer (accepted: 100 "Accepted"; refused: the error, final) or a
        NOTIFY's sipfrag (the new call's 100 Trying, 180, then 200 OK or an error, final)."""
        pending = self._pending.get(call_id)
        if pending is None:
            return
        pending.status, pending.reason = status, reason
        if status < 300:  # PJSIP reports the 202 as "100 Accepted"; any NOTIFY means accepted too
            pending.accepted = True
        if status >= 300:
            pending.finish("failed")
        elif final:
            pending.finish("transferred" if status >= 200 else "unconfirmed")

    def gone(self, call_id: int) -> None:
        """The SIP call is over (the peer hung up): accepted transfers count as done."""
        pending = self._pending.get(call_id)
        if pending is not None:
            if not pending.accepted:
                pending.reason = "the call ended before the REFER was answered"
            pending.finish("transferred" if pending.accepted else "failed")
