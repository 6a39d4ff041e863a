"""Asterisk chan_websocket at ``/asterisk``: Asterisk dials ``WebSocket/<client>/c(ulaw)``, connects here,
sends ``MEDIA_START``, then media as binary frames.

Asterisk owns the playout clock and reframes what it is sent, and ``FLUSH_MEDIA`` takes back audio it
has queued, so barge-in is exact. ``DTMF_END`` reaches the agent; ``HANGUP`` is sent when the call ends
here, and a closed socket is the caller's hang-up.
"""

from __future__ import annotations

import logging
from typing import cast

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from voiceagent import metrics
from voiceagent.audio import g711
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import Clear, Error, Event
from voiceagent.transports.asterisk_ws_protocol import FORMATS, Control, command, parse_control
from voiceagent.transports.native import WebSocketSender
from voiceagent.transports.native_protocol import ProtocolError
from voiceagent.transports.session import CallSession, TooManyCalls, UnknownPersona, start_call

log = logging.getLogger(__name__)


class AsteriskOutput(WebSocketSender):
    """Agent audio as binary media frames in the channel's format; ``FLUSH_MEDIA`` on barge-in."""

    def __init__(self, connection: ServerConnection, fmt: str, json_form: bool) -> None:
        super().__init__(connection)
        self._codec = cast(g711.G711Codec | None, FORMATS[fmt][2])
        self._json = json_form


    async def send_event(self, event: Event) -> None:
        """``FLUSH_MEDIA`` on barge-in; errors go to the log."""
        if isinstance(event, Clear):
            await self._send(command("FLUSH_MEDIA", self._json))
        elif isinstance(event, Error):
            log.warning("asterisk websocket: %s: %s", event.code, event.message)

    async def send_audio(self, pcm: bytes) -> None:
        """One frame of agent audio at the channel's rate."""
        await self._send(pcm if self._codec is None else g711.encode(pcm, self._codec))

    async def hang_up(self) -> None:
        """Tell Asterisk to hang the channel up."""
        await self._send(command("HANGUP", self._json))


async def _hang_up(connection: ServerConnection, output: AsteriskOutput | None) -> None:
    """The call ended on this side: HANGUP, then close."""
    if output is not None:
        await output.hang_up()
    await connection.close()


def _decode(frame: bytes, fmt: str) -> bytes:
    codec = FORMATS[fmt][2]
    if codec is None:
        if len(frame) % 2:
            raise ProtocolError("odd_length", "16-bit audio needs an even number of bytes")
        return frame
    return g711.decode(frame, cast(g711.G711Codec, codec))


async def handle_asterisk(connection: ServerConnection, engines: Engines, settings: Settings) -> None:
    """Serve one chan_websocket connection."""
    session: CallSession | None = None
    output: AsteriskOutput | None = None
    fmt = "ulaw"
    reason = "caller_hangup"
    try:
        async for raw in connection:
            if session is not None and session.done:
                reason = session.call.end_reason
                break
            try:
                if isinstance(raw, bytes):
                    if session is not None:
                        if len(raw) > settings.max_frame_bytes:
                            raise ProtocolError("frame_too_large", f"media frame over {settings.max_frame_bytes} bytes")
                        session.call.push_audio(_decode(raw, fmt))
                    continue
                control = parse_control(raw)
            except ProtocolError as exc:
                if session is not None:
                    await session.call.send_error(exc.code, exc.message)
                else:
                    metrics.ERRORS.labels(exc.code).inc()
                    log.warning("asterisk websocket: %s", exc.message)
                continue
            session, output, fmt = await _on_control(control, session, output, fmt, connection, engines, settings)
            if control.event == "HANGUP" or (output is not None and session is None):
                break
    except ConnectionClosed:
        pass
    finally:
        if session is not None:
            ended_here = session.done
            await session.end(reason)
            if ended_here and output is not None:
                await output.hang_up()


async def _on_control(
    control: Control,
    session: CallSession | None,
    output: AsteriskOutput | None,
    fmt: str,
    connection: ServerConnection,
    engines: Engines,
    settings: Settings,
) -> tuple[CallSession | None, AsteriskOutput | None, str]:
    if control.event == "MEDIA_START" and session is None:
        try:
            fmt = control.format
            output = AsteriskOutput(connection, fmt, control.json_form)
            details: dict[str, str] = {k: control.params[k] for k in ("connection_id", "channel", "channel_id") if k in control.params}
            session = start_call(engines, settings, output, sample_rate=FORMATS[fmt][0], transport="asterisk_ws",
                                 persona=control.params.get("persona"), details=details,
                                 on_own_end=lambda _: _hang_up(connection, output))
        except (ProtocolError, UnknownPersona, TooManyCalls) as exc:
            metrics.ERRORS.labels("bad_media_start").inc()
            log.warning("asterisk websocket: %s", exc)
            if output is not None:
                await output.hang_up()
    elif control.event == "DTMF_END" and session is not None:
        session.call.push_dtmf(control.params.get("digit", ""))
    elif control.event in ("MEDIA_XOFF", "MEDIA_XON") and session is not None:
        session.call.record.write("flow_control", event=control.event)
    return session, output, fmt
