"""The one socket loop every WebSocket and TCP bridge runs on: read from the link, feed the bridge, carry
out the actions it returns. Starting a call, protocol errors before and during a call, hang-ups from
either side and the call's own end are handled here, the same way for every transport; what differs
(the wire format, what is said and when) is the bridge's business. Transfers and hang-ups of the phone
call itself go to the route's :class:`~voiceagent.transports.call_control.CallControl`.

Reading never waits on writing: everything sent goes through the connection's
:class:`~voiceagent.transports.outbox.Outbox` (bounded, written by its own task; see there for the
policy). A peer that stops reading is cut off and its call ends with ``peer_not_reading``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from voiceagent import metrics
from voiceagent.events import Clear, Error, Event
from voiceagent.transports.bridge import (
    AcknowledgeMark,
    Action,
    Bridge,
    CallParams,
    Close,
    EndCall,
    FlowControl,
    HangUpCall,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    TransferCall,
)
from voiceagent.transports.call_control import CallControl, ControlFailed, NoControl
from voiceagent.transports.links import Link
from voiceagent.transports.outbox import Outbox
from voiceagent.transports.session import CallSession, TooManyCalls, UnknownPersona

Execute = Callable[[list[Action]], Awaitable[None]]
FLUSH_AT_END_S = 2.0  # once the call has ended, its last words and the close get this long to go out
OwnEnd = Callable[[str], Awaitable[None]]


class BridgeOutput:
    """The call's output for every bridge: the bridge turns events and audio into wire messages."""

    def __init__(self, bridge: Bridge, execute: Execute, outbox: Outbox) -> None:
        self._bridge = bridge
        self._execute = execute
        self._outbox = outbox

    async def send_event(self, event: Event) -> None:
        """An event, in the bridge's words (or none). A ``clear`` (barge-in) first drops the agent
        audio still waiting to be written: the caller must not hear what they cut off."""
        if isinstance(event, Clear):
            self._outbox.drop_audio()
        await self._execute(self._bridge.agent_event(event))

    async def send_audio(self, pcm: bytes) -> None:
        """One frame of agent audio, in the bridge's format (queued; never waits on the peer)."""
        for action in self._bridge.agent_audio(pcm):
            if isinstance(action, Send):
                self._outbox.put(action.data, audio=True)
            else:
                await self._execute([action])


class MarkingBridgeOutput(BridgeOutput):
    """The output of a bridge whose peer reports what it has played (a ``MarkingOutput``)."""

    async def send_mark(self, name: str) -> None:
        """Ask the peer to report ``name`` back once it has played what came before."""
        await self._execute(self._bridge.agent_mark(name))


# Starts a call for the loop: raises UnknownPersona or TooManyCalls (see transports.session.start_call)
Starter = Callable[[CallParams, BridgeOutput, OwnEnd], CallSession]


class SocketLoop:
    """One connection: a link, the bridge that speaks its protocol, and the call once there is one.
    ``control`` transfers and hangs up the phone call where the protocol cannot (none by default);
    ``outbox_bytes`` and ``send_stall_s`` bound what waits to be sent (see :mod:`voiceagent.transports.outbox`)."""

    def __init__(self, link: Link, bridge: Bridge, start: Starter, control: CallControl | None = None, *,
                 outbox_bytes: int = 262144, send_stall_s: float = 10.0) -> None:
        self.link = link
        self.outbox = Outbox(link, max_bytes=outbox_bytes, stall_s=send_stall_s, on_stall=self._peer_stalled)
        self.bridge = bridge
        self._start = start
        self.control: CallControl = control if control is not None else NoControl()
        self.session: CallSession | None = None
        self._reason = bridge.gone_reason  # why the call ends if the peer goes without a word
        self._reading = True

    async def run(self) -> None:
        """Serve the connection until either side ends it; the call is ended and its record written."""
        writer = asyncio.create_task(self.outbox.run(), name="outbox")
        try:
            while self._reading and not (self.session is not None and self.session.done):
                data = await self.link.receive()
                if data is None:
                    break
                await self.execute(self.bridge.receive(data))
        finally:
            try:
                await self._finish()
            finally:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
                await self.link.close()

    async def execute(self, actions: list[Action]) -> None:
        """Carry out a bridge's actions, in order."""
        for action in actions:
            await self._do(action)

    async def _do(self, action: Action) -> None:
        call = self.session.call if self.session is not None else None
        match action:
            case Send(data):
                self.outbox.put(data)
            case PushAudio(pcm) if call is not None:
                call.push_audio(pcm)
            case PushDtmf(digit) if call is not None:
                call.push_dtmf(digit)
            case AcknowledgeMark(name) if call is not None:
                call.acknowledge_mark(name)
            case FlowControl(event) if call is not None:
                call.note("flow_control", event=event)
            case Problem(code, message, fatal):
                await self._problem(code, message, fatal)
            case StartCall(params):
                await self._start_call(params)
            case TransferCall(ref, to):
                await self._transfer(ref, to)
            case HangUpCall(ref):
                await self._hang_up_call(ref)
            case EndCall(reason):
                self._reason, self._reading = reason, False
            case Close(code, reason):
                self._reading = False
                self.outbox.put_close(code, reason)

    async def _problem(self, code: str, message: str, fatal: bool) -> None:
        """Through the call when there is one; before, counted and put in the bridge's words."""
        if self.session is not None and not self.session.done:
            await self.session.call.send_error(code, message, fatal)
            return
        metrics.ERRORS.labels(code).inc()
        await self.execute(self.bridge.agent_event(Error(code=code, message=message, fatal=fatal)))

    async def _transfer(self, ref: str, to: str) -> None:
        """Hand the phone call over; a failure goes through the call as ``transfer_failed``."""
        try:
            await self.control.transfer(ref, to)
        except ControlFailed as exc:
            await self._problem("transfer_failed", f"transfer to {to} failed: {exc}", False)
            return
        if self.session is not None and not self.session.done:
            self.session.call.note("transfer_handoff", to=to, ref=ref, by=self.control.name)

    async def _hang_up_call(self, ref: str) -> None:
        """End the phone call itself (the call is over by now: a failure is counted and logged)."""
        try:
            await self.control.hang_up(ref)
        except ControlFailed as exc:
            await self._problem("hangup_failed", f"hanging up the phone call failed: {exc}", False)

    async def _start_call(self, params: CallParams) -> None:
        if params.check_token and not self.link.authorized(params.token):
            await self.execute(self.bridge.refused("unauthorized", "missing or wrong token"))
            return
        output_class = MarkingBridgeOutput if self.bridge.marks else BridgeOutput
        try:
            self.session = self._start(params, output_class(self.bridge, self.execute, self.outbox), self._own_end)
        except UnknownPersona as exc:
            await self.execute(self.bridge.refused("unknown_persona", str(exc)))
        except TooManyCalls as exc:
            await self.execute(self.bridge.refused("server_busy", str(exc)))
        else:
            call = self.session.call
            await self.execute(self.bridge.started(call.call_id, call.persona.name))

    async def _own_end(self, reason: str) -> None:
        """The call ended on its own (a limit, a failure, shutdown): the bridge says goodbye and closes."""
        await self.execute(self.bridge.call_ended(reason))

    def _peer_stalled(self) -> None:
        """The peer stopped reading (see the outbox): end the call with that reason, drop the connection."""
        self._reason, self._reading = "peer_not_reading", False
        self.link.abort()

    async def _finish(self) -> None:
        if self.session is not None:
            ended_itself = self.session.done
            await self.session.end(self._reason)
            reason = self.session.call.end_reason
            await self.execute(self.bridge.call_ended(reason) if ended_itself else self.bridge.finished(reason))
        await self.outbox.flushed(FLUSH_AT_END_S)
