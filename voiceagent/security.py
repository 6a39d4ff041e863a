"""Who may connect: the auth token, the browser Origin check, and the rule that a server reachable from
other machines does not start without a token (see SECURITY.md for the threat model)."""

from __future__ import annotations

import hmac
import http
import ipaddress
import weakref
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request

from voiceagent import metrics
from voiceagent.config import ConfigError, Settings

# Connections that presented the token in the handshake (header or query); others may still present
# it in their first message (native ``start``, Twilio custom parameter).
_AUTHORIZED: weakref.WeakSet[ServerConnection] = weakref.WeakSet()


def is_loopback(host: str) -> bool:
    """True for loopback addresses and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond loopback without a token, unless ``insecure`` was asked for explicitly."""
    if not is_loopback(settings.host) and not settings.auth_token and not settings.insecure:
        raise ConfigError(
            f"refusing to listen on {settings.host} without an auth token: set auth_token "
            "(VOICEAGENT_AUTH_TOKEN) or, on a trusted network only, --insecure"
        )


def token_matches(settings: Settings, presented: str | None) -> bool:
    """Constant-time comparison with the configured token (always true when none is configured)."""
    if not settings.auth_token:
        return True
    return presented is not None and hmac.compare_digest(presented.encode(), settings.auth_token.encode())


def handshake_token(request: Request) -> str | None:
    """The token a client put in ``Authorization: Bearer ...`` or ``?token=...``."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    values = parse_qs(urlsplit(request.path).query).get("token")
    return values[0] if values else None


def origin_allowed(settings: Settings, request: Request) -> bool:
    """Browsers send ``Origin``: it must be in ``allowed_origins`` or, when that is empty, be this very
    server (same origin). Clients that send no Origin (telephony bridges, SDKs) are not browsers."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = [o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()]
    if allowed:
        return origin.rstrip("/") in allowed or "*" in allowed
    return urlsplit(origin).netloc.lower() == request.headers.get("Host", "").lower()


def check_request(
    settings: Settings, connection: ServerConnection, request: Request, *, token_later: bool
) -> tuple[http.HTTPStatus, str] | None:
    """Vet a WebSocket handshake (or a protected HTTP request). ``token_later``: the route may take the
    token in its first message instead. Returns a refusal, or None to go ahead."""
    if not origin_allowed(settings, request):
        metrics.AUTH_FAILURES.inc()
        return http.HTTPStatus.FORBIDDEN, "origin not allowed\n"
    if not settings.auth_token:
        return None
    if token_matches(settings, handshake_token(request)):
        _AUTHORIZED.add(connection)
        return None
    if token_later and handshake_token(request) is None:
        return None
    metrics.AUTH_FAILURES.inc()
    return http.HTTPStatus.UNAUTHORIZED, "missing or wrong token\n"


def authorized(settings: Settings, connection: ServerConnection, presented: str | None) -> bool:
    """Whether a connection may start a call: token in the handshake, or ``presented`` in its first message."""
    if connection in _AUTHORIZED or token_matches(settings, presented):
        return True
    metrics.AUTH_FAILURES.inc()
    return False
