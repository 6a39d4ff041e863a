"""One websockets server: ``/ws`` (native protocol), plus ``/healthz``, ``/readyz``, ``/metrics`` and the transfer lookup
of Asterisk dialplans (``/calls/<key>/transfer``) over plain HTTP."""

from __future__ import annotations

import http
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from voiceagent import __version__, security
from voiceagent.config import Settings
from voiceagent.transports.endpoints import handle_asterisk, handle_native, handle_twilio, transfer_target
from voiceagent.transports.session import Switchboard

log = logging.getLogger(__name__)

Handler = Callable[[ServerConnection, Switchboard, Settings], Awaitable[None]]
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

    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.settings = board.settings

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """HTTP endpoints; ``None`` lets a WebSocket handshake on a known route go ahead."""
        path = request.path.split("?", 1)[0]
        if path == "/healthz":  # alive (liveness): always 200 while the server runs
            body = json.dumps({"status": "ok", "version": __version__, "models": self.board.models(),
                               "calls": self.board.calls.status()})
            return _response(http.HTTPStatus.OK, body.encode(), "application/json")
        if path == "/readyz":  # takes one more call now (readiness): 503 when full, too slow or draining
            status = self.board.calls.status()
            code = http.HTTPStatus.OK if status["ready"] else http.HTTPStatus.SERVICE_UNAVAILABLE
            return _response(code, json.dumps(status).encode(), "application/json")
        if path == "/metrics":
            refusal = security.check_request(self.settings, connection, request, token_later=False)
            if refusal is not None:
                return _response(refusal[0], refusal[1].encode(), "text/plain")
            return _response(http.HTTPStatus.OK, generate_latest(), CONTENT_TYPE_LATEST)
        if path == "/personas":
            personas = [
                {"name": p.name, "description": p.description, "default": p.name == self.settings.persona}
                for p in self.board.personas.values()
            ]
            return _response(http.HTTPStatus.OK, json.dumps(personas).encode(), "application/json")
        if path.startswith("/calls/"):
            return self._transfer(connection, request, path)
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

    def _transfer(self, connection: ServerConnection, request: Request, path: str) -> Response:
        """Where a transferred Asterisk call goes, as plain text for the dialplan's ``CURL()``; 404 with an
        empty body when there is no transfer for the call (so the variable is empty)."""
        refusal = security.check_request(self.settings, connection, request, token_later=False)
        if refusal is not None:
            return _response(refusal[0], refusal[1].encode(), "text/plain")
        target = transfer_target(self.board, path)
        if target is None:
            return _response(http.HTTPStatus.NOT_FOUND, b"", "text/plain")
        return _response(http.HTTPStatus.OK, target.encode(), "text/plain; charset=utf-8")

    async def handler(self, connection: ServerConnection) -> None:
        """Hand a WebSocket connection to its transport."""
        path = connection.request.path.split("?", 1)[0] if connection.request else ""
        await WEBSOCKET_ROUTES[path](connection, self.board, self.settings)

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
