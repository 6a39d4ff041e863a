"""The sockets a bridge runs over, behind one small interface: a WebSocket connection or a TCP stream."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from voiceagent import security
from voiceagent.config import Settings


def bound_send_buffer(transport: asyncio.BaseTransport, size: int) -> None:
    """Cap the kernel's send buffer of a connection (``size`` 0: leave it). Left alone, Linux lets it grow
    to 4 MB, about two minutes of 16 kHz audio: a peer that stopped reading would go unnoticed that long
    and hold that much memory. Audio needs little (32 KB/s at most); the outbox holds the rest."""
    sock = transport.get_extra_info("socket")
    if size > 0 and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


READ_TIMEOUT_S = 30.0  # a TCP peer that sends nothing for this long is gone (AudioSocket sends every 20 ms)
READ_BYTES = 4096


class Link(Protocol):
    """One connection as the socket loop sees it."""

    async def receive(self) -> str | bytes | None:
        """The next message or chunk of bytes; None once the peer has gone (closed, failed, silent)."""

    async def send(self, data: str | bytes) -> None:
        """Write to the peer; a peer that has gone is ignored (the next receive says so)."""

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close (idempotent)."""

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (a peer that stopped reading)."""

    def authorized(self, token: str | None) -> bool:
        """Whether a call may start: the token from the handshake, or ``token`` from the first message."""


class WebSocketLink:
    """A WebSocket connection: text and binary frames."""

    def __init__(self, connection: ServerConnection, settings: Settings) -> None:
        self._connection = connection
        self._settings = settings
        bound_send_buffer(connection.transport, settings.send_buffer_bytes)

    @property
    def remote(self) -> str | None:
        """``host:port`` of the peer, for the call record."""
        address = self._connection.remote_address
        return f"{address[0]}:{address[1]}" if address else None

    async def receive(self) -> str | bytes | None:
        """The next frame, or None once the connection has closed."""
        try:
            return await self._connection.recv()
        except ConnectionClosed:
            return None

    async def send(self, data: str | bytes) -> None:
        """Send one frame."""
        with contextlib.suppress(ConnectionClosed):
            await self._connection.send(data)

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """The closing handshake with ``code`` and ``reason``."""
        await self._connection.close(code, reason)

    def abort(self) -> None:
        """Drop the TCP connection (the next receive says it has gone)."""
        self._connection.transport.abort()

    def authorized(self, token: str | None) -> bool:
        """See :func:`voiceagent.security.authorized`."""
        return security.authorized(self._settings, self._connection, token)


class StreamLink:
    """A TCP stream: bytes as they arrive, cut anywhere. Nothing for :data:`READ_TIMEOUT_S` is a hang-up."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, send_buffer_bytes: int = 0) -> None:
        self._reader = reader
        self._writer = writer
        bound_send_buffer(writer.transport, send_buffer_bytes)

    @property
    def remote(self) -> str:
        """The peer's address, for the call record."""
        return str(self._writer.get_extra_info("peername"))

    async def receive(self) -> bytes | None:
        """The next bytes, or None at the end of the stream, on an error or after a long silence."""
        try:
            data = await asyncio.wait_for(self._reader.read(READ_BYTES), READ_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            return None
        return data or None

    async def send(self, data: str | bytes) -> None:
        """Write and wait for the buffer to drain."""
        if self._writer.is_closing():
            return
        self._writer.write(data.encode() if isinstance(data, str) else data)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the stream (a TCP stream has no close code)."""
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    def abort(self) -> None:
        """Drop the TCP connection (the next receive says it has gone)."""
        self._writer.transport.abort()

    def authorized(self, token: str | None) -> bool:
        """A TCP bridge carries no token (restrict it to the PBX with a firewall)."""
        return True
