"""One websockets server: ``/ws`` (native protocol), plus ``/healthz`` and ``/metrics`` over plain HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http
import json
import logging
import signal
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from voiceagent import __version__, security
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines, load_engines
from voiceagent.transports.asterisk_ws import handle_asterisk
from voiceagent.transports.audiosocket import serve_audiosocket
from voiceagent.transports.native import handle_native
from voiceagent.transports.twilio import handle_twilio

log = logging.getLogger(__name__)

Handler = Callable[[ServerConnection, Engines, Settings], Awaitable[None]]
TOKEN_IN_MESSAGE = {"/ws", "/twilio"}  # routes whose first message may carry the token
WEBSOCKET_ROUTES: dict[str, Handler] = {
    "/ws": handle_native,
    "/twilio": handle_twilio,
    "/asterisk": handle_asterisk,
}


def _response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


WEB_DIR = Path(__file__).resolve().parent / "web"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".css": "text/css; charset=utf-8", ".png": "image/png"}


def _static(path: str) -> Response:
    """The browser demo page and its assets (no build step: plain files in voiceagent/web)."""
    name = "index.html" if path == "/" else path.removeprefix("/static/")
    file = (WEB_DIR / name).resolve()
    if file.parent != WEB_DIR or not file.is_file():
        return _response(http.HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
    response = _response(http.HTTPStatus.OK, file.read_bytes(), _CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
    response.headers["Cache-Control"] = "no-cache"
    return response


class VoiceAgentServer:
    """Routes WebSocket paths to transports and answers the HTTP endpoints."""

    def __init__(self, engines: Engines, settings: Settings) -> None:
        self.engines = engines
        self.settings = settings

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """HTTP endpoints; ``None`` lets a WebSocket handshake on a known route go ahead."""
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            body = json.dumps({"status": "ok", "version": __version__, "models": self.engines.models()})
            return _response(http.HTTPStatus.OK, body.encode(), "application/json")
        if path == "/metrics":
            refusal = security.check_request(self.settings, connection, request, token_later=False)
            if refusal is not None:
                return _response(refusal[0], refusal[1].encode(), "text/plain")
            return _response(http.HTTPStatus.OK, generate_latest(), CONTENT_TYPE_LATEST)
        if path == "/personas":
            personas = [
                {"name": p.name, "description": p.description, "default": p.name == self.settings.persona}
                for p in self.engines.personas.values()
            ]
            return _response(http.HTTPStatus.OK, json.dumps(personas).encode(), "application/json")
        if path == "/" or path.startswith("/static/"):
            return _static(path)
        if path in WEBSOCKET_ROUTES:
            if "websocket" not in request.headers.get("Upgrade", "").lower():
                return _response(http.HTTPStatus.UPGRADE_REQUIRED, b"WebSocket endpoint\n", "text/plain")
            refusal = security.check_request(self.settings, connection, request, token_later=path in TOKEN_IN_MESSAGE)
            if refusal is not None:
                log.warning("refused %s from %s: %s", path, connection.remote_address, refusal[1].strip())
                return _response(refusal[0], refusal[1].encode(), "text/plain")
            return None
        return _response(http.HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    async def handler(self, connection: ServerConnection) -> None:
        """Hand a WebSocket connection to its transport."""
        path = connection.request.path.split("?", 1)[0] if connection.request else ""
        await WEBSOCKET_ROUTES[path](connection, self.engines, self.settings)

    async def start(self) -> Server:
        """Listen; returns the running websockets server."""
        context = None
        if self.settings.tls_cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        return await serve(
            self.handler,
            self.settings.host,
            self.settings.port,
            process_request=self.process_request,
            max_size=self.settings.max_message_bytes,
            ping_interval=20,
            ping_timeout=20,
            ssl=context,
        )


async def run_server(settings: Settings, ready: asyncio.Event | None = None, *, sip: bool = False) -> None:
    """Load the engines, listen, serve until cancelled or SIGTERM/SIGINT. ``sip`` also starts the SIP
    endpoint. On a signal: stop accepting calls, give calls in progress ``shutdown_grace_s`` to finish,
    end the rest (their records are written), then exit."""
    security.check_exposure(settings)
    if not security.is_loopback(settings.host) and (settings.audiosocket_port or sip):
        log.warning("AudioSocket and SIP carry no token: restrict them to your PBX's address with a firewall")
    log.info("loading models and warming them up ...")
    engines = await load_engines(settings)
    app = VoiceAgentServer(engines, settings)
    server = await app.start()
    for sock in server.sockets:
        host, port = sock.getsockname()[:2]
        log.info("listening on ws://%s:%d/ws (health: /healthz, metrics: /metrics)", host, port)
    audiosocket = await serve_audiosocket(engines, settings) if settings.audiosocket_port else None
    if audiosocket is not None:
        log.info("AudioSocket (Asterisk) on tcp://%s:%d", settings.host, settings.audiosocket_port)
    gateway = None
    if sip:
        from voiceagent.transports.sip import run_sip  # PJSIP is loaded only when SIP is wanted

        gateway = await run_sip(settings, engines)
    log.info("models: %s", engines.models())
    log.info("budgets (%s profile): %s", settings.profile, dataclasses.asdict(settings.budgets))
    if ready is not None:
        ready.set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("shutting down: no new calls; %d in progress get up to %.0f s", len(engines.calls.sessions),
                 settings.shutdown_grace_s)
        engines.calls.accepting = False
        ended = await engines.calls.drain(settings.shutdown_grace_s)
        log.info("shutdown: %d calls ended by the server; records written", ended)
    finally:
        if gateway is not None:
            await gateway.stop()
        if audiosocket is not None:
            audiosocket.close()
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
        await engines.close()
