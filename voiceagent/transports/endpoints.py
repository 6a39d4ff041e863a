"""Where each bridge meets its socket: the WebSocket routes (``/ws``, ``/twilio``, ``/asterisk``) and the
AudioSocket TCP listener. Each pairs a link with a fresh bridge and the call control of its telephony
side, and runs the shared socket loop. Also the lookup an Asterisk dialplan makes after a transfer."""

from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection

from voiceagent.config import Settings
from voiceagent.transports.asterisk_ws import AsteriskBridge
from voiceagent.transports.audiosocket import AudioSocketBridge
from voiceagent.transports.bridge import Bridge, CallParams
from voiceagent.transports.call_control import CallControl, DialplanControl
from voiceagent.transports.links import Link, StreamLink, WebSocketLink
from voiceagent.transports.native import NativeBridge
from voiceagent.transports.session import CallSession, Switchboard, start_call
from voiceagent.transports.socket_loop import BridgeOutput, OwnEnd, SocketLoop, Starter
from voiceagent.transports.twilio import TwilioBridge
from voiceagent.transports.twilio_rest import TwilioRest

TRANSFER_PATH = ("/calls/", "/transfer")  # GET /calls/<key>/transfer: where the dialplan sends the caller


def starter(board: Switchboard, settings: Settings) -> Starter:
    """Starts calls on this server for a socket loop."""

    def start(params: CallParams, output: BridgeOutput, on_own_end: OwnEnd) -> CallSession:
        return start_call(board, settings, output, sample_rate=params.sample_rate, transport=params.transport,
                          persona=params.persona, prompt=params.prompt, details=params.details,
                          playback_lead_ms=params.playback_lead_ms, on_own_end=on_own_end)

    return start


async def _serve(link: Link, bridge: Bridge, board: Switchboard, settings: Settings,
                 control: CallControl | None = None) -> None:
    await SocketLoop(link, bridge, starter(board, settings), control, outbox_bytes=settings.outbox_bytes,
                     send_stall_s=settings.send_stall_s).run()


async def handle_native(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one native-protocol connection at ``/ws``."""
    link = WebSocketLink(connection, settings)
    bridge = NativeBridge(max_frame_bytes=settings.max_frame_bytes, models=board.models(),
                          budgets=dataclasses.asdict(settings.budgets), remote=link.remote)
    await _serve(link, bridge, board, settings)


async def handle_twilio(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one Media Streams connection at ``/twilio``."""
    await _serve(WebSocketLink(connection, settings), TwilioBridge(), board, settings, TwilioRest(settings))


async def handle_asterisk(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one chan_websocket connection at ``/asterisk``; ``?call=<key>`` (``v(call=...)`` in the dial
    string) names the call for a transfer."""
    key = dialplan_key(connection.request.path) if connection.request else ""
    bridge = AsteriskBridge(max_frame_bytes=settings.max_frame_bytes, call_key=key)
    await _serve(WebSocketLink(connection, settings), bridge, board, settings, DialplanControl(board.transfers))


async def serve_audiosocket(board: Switchboard, settings: Settings) -> asyncio.Server:
    """Listen for AudioSocket connections on ``settings.audiosocket_port``."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = StreamLink(reader, writer, settings.send_buffer_bytes)
        bridge = AudioSocketBridge(max_payload=settings.max_frame_bytes, remote=link.remote)
        await _serve(link, bridge, board, settings, DialplanControl(board.transfers))

    return await asyncio.start_server(client, settings.host, settings.audiosocket_port)


def dialplan_key(path: str) -> str:
    """The dialplan's key for a chan_websocket call: ``call`` in the URI (``v(call=${UNIQUEID})``), or ""."""
    return parse_qs(urlsplit(path).query).get("call", [""])[0]


def transfer_target(board: Switchboard, path: str) -> str | None:
    """The target left for the call in ``GET /calls/<key>/transfer``, or None (no transfer, not such a
    path). The dialplan reads it with ``CURL()`` once the stream has ended; see docs/protocol-actions.md."""
    start, end = TRANSFER_PATH
    if not (path.startswith(start) and path.endswith(end)):
        return None
    return board.transfers.get(path[len(start) : -len(end)])
