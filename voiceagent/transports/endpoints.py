"""Where each bridge meets its socket: the WebSocket routes (``/ws``, ``/twilio``, ``/asterisk``) and the
AudioSocket TCP listener. Each pairs a link with a fresh bridge and runs the shared socket loop."""

from __future__ import annotations

import asyncio
import dataclasses

from websockets.asyncio.server import ServerConnection

from voiceagent.config import Settings
from voiceagent.transports.asterisk_ws import AsteriskBridge
from voiceagent.transports.audiosocket import AudioSocketBridge
from voiceagent.transports.bridge import Bridge, CallParams
from voiceagent.transports.links import Link, StreamLink, WebSocketLink
from voiceagent.transports.native import NativeBridge
from voiceagent.transports.session import CallSession, Switchboard, start_call
from voiceagent.transports.socket_loop import BridgeOutput, OwnEnd, SocketLoop, Starter
from voiceagent.transports.twilio import TwilioBridge


def starter(board: Switchboard, settings: Settings) -> Starter:
    """Starts calls on this server for a socket loop."""

    def start(params: CallParams, output: BridgeOutput, on_own_end: OwnEnd) -> CallSession:
        return start_call(board, settings, output, sample_rate=params.sample_rate, transport=params.transport,
                          persona=params.persona, prompt=params.prompt, details=params.details,
                          playback_lead_ms=params.playback_lead_ms, on_own_end=on_own_end)

    return start


async def _serve(link: Link, bridge: Bridge, board: Switchboard, settings: Settings) -> None:
    await SocketLoop(link, bridge, starter(board, settings)).run()


async def handle_native(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one native-protocol connection at ``/ws``."""
    link = WebSocketLink(connection, settings)
    bridge = NativeBridge(max_frame_bytes=settings.max_frame_bytes, models=board.models(),
                          budgets=dataclasses.asdict(settings.budgets), remote=link.remote)
    await _serve(link, bridge, board, settings)


async def handle_twilio(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one Media Streams connection at ``/twilio``."""
    await _serve(WebSocketLink(connection, settings), TwilioBridge(), board, settings)


async def handle_asterisk(connection: ServerConnection, board: Switchboard, settings: Settings) -> None:
    """Serve one chan_websocket connection at ``/asterisk``."""
    bridge = AsteriskBridge(max_frame_bytes=settings.max_frame_bytes)
    await _serve(WebSocketLink(connection, settings), bridge, board, settings)


async def serve_audiosocket(board: Switchboard, settings: Settings) -> asyncio.Server:
    """Listen for AudioSocket connections on ``settings.audiosocket_port``."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = StreamLink(reader, writer)
        bridge = AudioSocketBridge(max_payload=settings.max_frame_bytes, remote=link.remote)
        await _serve(link, bridge, board, settings)

    return await asyncio.start_server(client, settings.host, settings.audiosocket_port)
