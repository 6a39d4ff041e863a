"""Asterisk AudioSocket: a TCP server that Asterisk's ``AudioSocket()`` dialplan app connects to.

    exten => 100,1,Answer()
     same => n,AudioSocket(${UUID()},voiceagent.example:9092)

Caller audio is signed linear 8 kHz; the agent's goes back in 20 ms frames, paced by the call's player
(AudioSocket leaves timing to the application). Audio handed to Asterisk cannot be taken back, so the
player runs only 40 ms ahead here: that is the barge-in floor. DTMF reaches the agent; a hang-up from
either side ends the call and writes its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from voiceagent import metrics
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import Error, Event
from voiceagent.transports.audiosocket_protocol import FRAME_BYTES, SAMPLE_RATE, Kind, Parser, encode
from voiceagent.transports.native_protocol import ProtocolError
from voiceagent.transports.session import CallSession, TooManyCalls, UnknownPersona, start_call

log = logging.getLogger(__name__)

LEAD_MS = 40  # how far ahead of real time agent audio goes to Asterisk
READ_TIMEOUT_S = 30.0  # Asterisk sends audio every 20 ms; this much quiet means the peer is gone


class AudioSocketOutput:
    """Writes agent audio as 0x10 messages of at most 20 ms."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def send_event(self, event: Event) -> None:
        """AudioSocket has no event channel: errors go to the log (the record has every event)."""
        if isinstance(event, Error):
            log.warning("audiosocket: %s: %s", event.code, event.message)

    async def send_audio(self, pcm: bytes) -> None:
        """One frame of agent audio (16-bit PCM at 8 kHz)."""
        if self._writer.is_closing():
            return
        for start in range(0, len(pcm), FRAME_BYTES):
            self._writer.write(encode(Kind.AUDIO, pcm[start : start + FRAME_BYTES]))
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()


async def handle_audiosocket(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, engines: Engines, settings: Settings
) -> None:
    """Serve one AudioSocket connection: UUID first, then audio, DTMF and finally a hang-up."""
    parser = Parser(max_payload=settings.max_frame_bytes)
    session: CallSession | None = None
    reason = "disconnected"
    peer = writer.get_extra_info("peername")
    try:
        while True:
            data = await asyncio.wait_for(reader.read(4096), READ_TIMEOUT_S)
            if not data:
                break
            try:
                messages = parser.feed(data)
            except ProtocolError as exc:  # the stream is out of step: nothing after this can be trusted
                metrics.ERRORS.labels(exc.code).inc()
                if session is not None:
                    await session.call.send_error(exc.code, exc.message, fatal=True)
                log.warning("audiosocket %s: %s", peer, exc.message)
                reason = exc.code
                break
            for message in messages:
                if message.kind is Kind.UUID and session is None:
                    try:
                        call_uuid = message.call_uuid()
                        session = start_call(engines, settings, AudioSocketOutput(writer), sample_rate=SAMPLE_RATE,
                                             transport="audiosocket", playback_lead_ms=LEAD_MS,
                                             details={"asterisk_uuid": call_uuid, "remote": str(peer)},
                                             on_own_end=lambda _: _hang_up(writer))
                    except TooManyCalls as exc:
                        log.warning("audiosocket %s: %s", peer, exc)
                        writer.write(encode(Kind.HANGUP))
                        return
                    except (ProtocolError, UnknownPersona) as exc:
                        metrics.ERRORS.labels("bad_uuid").inc()
                        log.warning("audiosocket %s: %s", peer, exc)
                        return
                elif session is None:
                    metrics.ERRORS.labels("not_started").inc()
                    log.warning("audiosocket %s: %s before the UUID message", peer, message.kind.name)
                elif message.kind is Kind.AUDIO:
                    session.call.push_audio(message.payload)
                elif message.kind is Kind.DTMF:
                    with contextlib.suppress(ProtocolError):
                        session.call.push_dtmf(message.digit())
                elif message.kind is Kind.HANGUP:
                    reason = "caller_hangup"
                    return
                elif message.kind is Kind.ERROR:
                    code = message.payload.hex() or "unknown"
                    await session.call.send_error("asterisk_error", f"Asterisk reported error 0x{code}")
            if session is not None and session.done:
                break
    except (TimeoutError, ConnectionError):
        reason = "disconnected"
    finally:
        if session is not None:
            if reason != "caller_hangup":
                with contextlib.suppress(ConnectionError):
                    writer.write(encode(Kind.HANGUP))
            await session.end(reason)
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _hang_up(writer: asyncio.StreamWriter) -> None:
    """The call ended on this side: tell Asterisk, and close (the read loop then ends)."""
    if not writer.is_closing():
        with contextlib.suppress(ConnectionError):
            writer.write(encode(Kind.HANGUP))
            await writer.drain()
        writer.close()


async def serve_audiosocket(engines: Engines, settings: Settings) -> asyncio.Server:
    """Listen for AudioSocket connections on ``settings.audiosocket_port``."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_audiosocket(reader, writer, engines, settings)

    return await asyncio.start_server(client, settings.host, settings.audiosocket_port)
