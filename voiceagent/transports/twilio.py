"""Twilio Media Streams at ``/twilio`` (also Telnyx, SignalWire and Plivo, which share the shape).

Point a TwiML ``<Connect><Stream url="wss://HOST/twilio"/></Connect>`` at this server. Caller audio
(8 kHz G.711) goes into a :class:`Call` at 8 kHz; agent audio goes back as ``media`` messages, a ``mark``
after each clause, and ``clear`` on barge-in. Echoed marks tell the player what the caller has heard, so
after an interruption the history keeps only that. ``<Parameter name="persona" value="..."/>`` in TwiML
picks the persona.
"""

from __future__ import annotations

import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from voiceagent import metrics, security
from voiceagent.audio import g711
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import Clear, Error, Event
from voiceagent.transports.native import WebSocketSender
from voiceagent.transports.native_protocol import ProtocolError
from voiceagent.transports.session import CallSession, TooManyCalls, UnknownPersona, start_call
from voiceagent.transports.twilio_protocol import (
    Dtmf,
    MarkPlayed,
    Media,
    StreamStart,
    StreamStop,
    clear_message,
    mark_message,
    media_message,
    parse_message,
)

log = logging.getLogger(__name__)


class TwilioOutput(WebSocketSender):
    """Agent audio as ``media`` messages; ``clear`` and ``mark`` for barge-in and heard-audio tracking.

    Media Streams has no channel for the other events: they are in the call record and the log.
    """

    def __init__(self, connection: ServerConnection, stream_sid: str, codec: g711.G711Codec) -> None:
        super().__init__(connection)
        self._sid = stream_sid
        self._codec = codec


    async def send_event(self, event: Event) -> None:
        """``clear`` on barge-in; errors go to the log (the record has every event)."""
        if isinstance(event, Clear):
            await self._send(clear_message(self._sid))
        elif isinstance(event, Error):
            log.warning("twilio stream %s: %s: %s", self._sid, event.code, event.message)

    async def send_audio(self, pcm: bytes) -> None:
        """One frame of agent audio (16-bit PCM at 8 kHz), encoded for the line."""
        await self._send(media_message(self._sid, g711.encode(pcm, self._codec)))

    async def send_mark(self, name: str) -> None:
        """A mark after a clause: Twilio echoes it once the clause has been played."""
        await self._send(mark_message(self._sid, name))


async def handle_twilio(connection: ServerConnection, engines: Engines, settings: Settings) -> None:
    """Serve one Media Streams connection until ``stop`` or the socket closes."""
    session: CallSession | None = None
    codec: g711.G711Codec = "ulaw"
    reason = "disconnected"
    try:
        async for raw in connection:
            if session is not None and session.done:
                break
            try:
                message = parse_message(raw)
            except ProtocolError as exc:
                if session is not None:
                    await session.call.send_error(exc.code, exc.message)
                else:
                    metrics.ERRORS.labels(exc.code).inc()
                    log.warning("twilio: %s: %s", exc.code, exc.message)
                continue
            if isinstance(message, Media):
                if session is not None and message.track in ("inbound", "inbound_track"):
                    session.call.push_audio(g711.decode(message.payload, codec))
            elif isinstance(message, MarkPlayed):
                if session is not None:
                    session.call.player.acknowledge(message.name)
            elif isinstance(message, Dtmf):
                if session is not None:
                    session.call.push_dtmf(message.digit)
            elif isinstance(message, StreamStart):
                if session is not None:
                    await session.call.send_error("already_started", "this stream already carries a call")
                    continue
                if not security.authorized(settings, connection, message.parameters.get("token")):
                    log.warning("twilio: stream %s refused: missing or wrong token", message.stream_sid)
                    await connection.close(CloseCode.POLICY_VIOLATION, "unauthorized")
                    return
                codec = message.codec
                output = TwilioOutput(connection, message.stream_sid, codec)
                details = {"stream_sid": message.stream_sid, "call_sid": message.call_sid}
                try:
                    session = start_call(engines, settings, output, sample_rate=8000, transport="twilio",
                                         persona=message.parameters.get("persona"), details=details,
                                         on_own_end=lambda why: connection.close(reason=why[:100]))
                except UnknownPersona as exc:
                    metrics.ERRORS.labels("unknown_persona").inc()
                    log.warning("twilio: %s", exc)
                    break
                except TooManyCalls as exc:
                    log.warning("twilio: %s", exc)
                    await connection.close(CloseCode.TRY_AGAIN_LATER, "server busy")
                    return
            elif isinstance(message, StreamStop):
                reason = "caller_hangup"
                break
    except ConnectionClosed:
        pass
    finally:
        if session is not None:
            await session.end(reason)
