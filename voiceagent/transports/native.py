"""The native WebSocket transport at ``/ws`` (the protocol in DESIGN.md and native_protocol.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from voiceagent import metrics, security
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import Ended, Error, Event, Ready
from voiceagent.transports.native_protocol import ProtocolError, Start, Stop, check_audio, parse_text
from voiceagent.transports.session import CallSession, TooManyCalls, UnknownPersona, start_call

TRY_AGAIN_LATER = CloseCode.TRY_AGAIN_LATER  # 1013: the server is full or restarting

log = logging.getLogger(__name__)


class WebSocketSender:
    """Base of the WebSocket outputs: a peer that has gone is ignored (the receive loop ends the call)."""

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection

    async def _send(self, data: str | bytes) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._connection.send(data)


class WebSocketOutput(WebSocketSender):
    """Sends a call's events as JSON text frames and its audio as binary frames."""

    async def send_event(self, event: Event) -> None:
        """Send a JSON event."""
        await self._send(json.dumps(event.to_dict()))

    async def send_audio(self, pcm: bytes) -> None:
        """Send one binary frame of agent audio."""
        await self._send(pcm)


async def _error(output: WebSocketOutput, code: str, message: str) -> None:
    metrics.ERRORS.labels(code).inc()
    await output.send_event(Error(code=code, message=message))


async def handle_native(connection: ServerConnection, engines: Engines, settings: Settings) -> None:
    """Serve one native-protocol connection until the client stops or goes away."""
    output = WebSocketOutput(connection)
    session: CallSession | None = None
    reason = "disconnected"
    try:
        async for message in connection:
            if session is not None and session.done:
                break  # the call ended on its own (an internal failure): stop reading
            if isinstance(message, bytes):
                if session is None:
                    await _error(output, "not_started", "send a 'start' message before any audio")
                    continue
                try:
                    check_audio(message, settings.max_frame_bytes)
                except ProtocolError as exc:
                    await session.call.send_error(exc.code, exc.message)
                    continue
                session.call.push_audio(message)
                continue
            try:
                parsed = parse_text(message)
            except ProtocolError as exc:
                if session is not None:
                    await session.call.send_error(exc.code, exc.message)
                else:
                    await _error(output, exc.code, exc.message)
                continue
            if isinstance(parsed, Stop):
                reason = "caller_stop"
                break
            assert isinstance(parsed, Start)
            if session is not None:
                await session.call.send_error("already_started", "this connection already carries a call")
                continue
            if not security.authorized(settings, connection, parsed.token):
                await _error(output, "unauthorized", "missing or wrong token")
                await connection.close(CloseCode.POLICY_VIOLATION, "unauthorized")
                return
            try:
                session = start_call(engines, settings, output, sample_rate=parsed.sample_rate, transport="native",
                                     persona=parsed.persona, prompt=parsed.prompt, details=_peer(connection),
                                     on_own_end=lambda why: _goodbye(connection, output, why))
            except UnknownPersona as exc:
                await _error(output, "unknown_persona", str(exc))
                continue
            except TooManyCalls as exc:
                await _error(output, "server_busy", str(exc))
                await connection.close(TRY_AGAIN_LATER, "server busy")
                return
            call = session.call
            await output.send_event(
                Ready(
                    call_id=call.call_id,
                    sample_rate=parsed.sample_rate,
                    persona=call.persona.name,
                    models=engines.models(),
                    budgets=dataclasses.asdict(settings.budgets),
                )
            )
    except ConnectionClosed:
        pass
    finally:
        if session is not None:
            await session.end(reason)
            await output.send_event(Ended(reason=session.call.end_reason))


async def _goodbye(connection: ServerConnection, output: WebSocketOutput, reason: str) -> None:
    """The call ended on the server's side (a limit, shutdown): tell the client and close."""
    await output.send_event(Ended(reason=reason))
    code = TRY_AGAIN_LATER if reason == "server_shutdown" else CloseCode.NORMAL_CLOSURE
    await connection.close(code, reason[:100])


def _peer(connection: ServerConnection) -> dict[str, str]:
    """The remote address, for the call record."""
    address = connection.remote_address
    return {"remote": f"{address[0]}:{address[1]}"} if address else {}
