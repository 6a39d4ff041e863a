"""Action webhooks: an action (book_appointment, take_message, ...) sent to the business's own endpoint.

One POST of a compact JSON body, signed the way Stripe signs its webhooks: ``Voiceagent-Signature:
t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` with the shared secret. Each attempt takes at
most ``timeout_s``; only idempotent actions are retried. The contract and the receiving side's check are
in docs/webhooks.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from voiceagent import __version__

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Voiceagent-Signature"
MAX_REPLY_BYTES = 64 * 1024  # a longer reply is a bad reply: the agent speaks a sentence, not a page
BACKOFF_S = 0.2  # the first retry waits 0.2 s, the second 0.4 s, ...
ErrorKind = Literal["timeout", "http_status", "bad_reply", "connection"]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256, keyed with ``secret``, of ``f"{timestamp}."`` followed by the raw body."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance_s: float = 300) -> bool:
    """Whether a ``Voiceagent-Signature`` header is valid for the raw ``body``: one of its ``v1`` values
    (several are allowed while a secret rotates) matches, compared in constant time, and its timestamp
    is within ``tolerance_s`` of ``now`` (stale or far-future requests fail, which bounds replays)."""
    if not secret:
        return False
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, s.encode()) for s in signatures)


def check_url(url: str) -> None:
    """Raise ValueError for a URL that is not ``http(s)://host/...``; log a warning for plain http to a
    host other than loopback (the caller's details would cross the network in clear)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"webhook URL {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"webhook URL {url!r} must be http(s)://host/...")
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        log.warning("webhook to %s is plain http: the caller's details cross in clear", parsed.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebhookReply:
    """The endpoint's answer: ``ok`` with an optional sentence to ``say`` and ``details``, or not ``ok``
    with a short spoken ``reason``; ``status`` of the last attempt, ``attempts`` made, ``ms`` in all."""

    ok: bool
    say: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    attempts: int = 1
    ms: float = 0.0


class WebhookError(Exception):
    """A webhook call that failed: ``kind`` is "timeout", "http_status" (not 2xx), "bad_reply" (not the
    documented JSON) or "connection"; ``str()`` is the message; ``status`` is the HTTP status if any."""

    def __init__(
        self, kind: ErrorKind, message: str, *, status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        """Whether another attempt may help: timeouts, connection errors, 5xx and 429 (never other 4xx)."""
        status = self.status or 0
        if self.kind == "http_status":
            return status >= 500 or status == 429
        return self.kind in ("timeout", "connection")


class WebhookClient:
    """Sends actions to webhooks. Each attempt is bounded by ``timeout_s`` (connection, upload, reply, all
    together); an idempotent action is retried up to ``retries`` times, after 0.2 s, 0.4 s, ..., so a call
    takes at most ``(retries + 1) * timeout_s`` plus the backoffs. Without a secret requests go unsigned."""

    def __init__(
        self, secret: str, timeout_s: float, retries: int, *, client: httpx.AsyncClient | None = None
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"webhook timeout_s must be positive, not {timeout_s}")
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self._secret = secret
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._checked: set[str] = set()

    async def call(
        self,
        url: str,
        *,
        call_id: str,
        persona: str,
        action: str,
        arguments: dict[str, Any],
        key: str,
        idempotent: bool,
    ) -> WebhookReply:
        """POST the action to ``url`` and return the endpoint's reply; raise WebhookError when it fails
        (after the retries, for an idempotent action), ValueError for a URL that is not http(s)."""
        if url not in self._checked:
            check_url(url)
            if not self._secret:
                log.warning("webhooks go unsigned (no webhook_secret): forgeries cannot be told apart")
            self._checked.add(url)
        sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        payload = {"call_id": call_id, "persona": persona, "action": action, "arguments": arguments}
        payload |= {"idempotency_key": key, "sent_at": sent_at}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        most = 1 + (self.retries if idempotent else 0)
        started, attempt, what = time.perf_counter(), 0, f"{action} (call {call_id})"
        while True:
            attempt += 1
            try:
                status, content = await self._attempt(url, body, key)
                ok, say, reason, details = _parse(content, status)
            except WebhookError as exc:
                exc.attempts = attempt
                if attempt >= most or not exc.retryable:
                    log.warning("webhook %s failed, %d tries: %s: %s", what, attempt, exc.kind, exc)
                    raise
                log.info("webhook %s: %s: %s; retrying", what, exc.kind, exc)
                await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))
                continue
            ms = round((time.perf_counter() - started) * 1000, 1)
            return WebhookReply(ok, say, reason, details, status=status, attempts=attempt, ms=ms)

    async def _attempt(self, url: str, body: bytes, key: str) -> tuple[int, bytes]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"voiceagent/{__version__}",
            "Idempotency-Key": key,
        }
        if self._secret:
            timestamp = int(time.time())
            headers[SIGNATURE_HEADER] = f"t={timestamp},v1={sign(self._secret, timestamp, body)}"
        try:
            async with asyncio.timeout(self.timeout_s):  # httpx times each phase: this bounds them together
                async with self._client.stream("POST", url, content=body, headers=headers) as response:
                    if not 200 <= response.status_code < 300:
                        status = response.status_code
                        raise WebhookError("http_status", f"HTTP {status}", status=status)
                    content = bytearray()
                    async for chunk in response.aiter_bytes():
                        content += chunk
                        if len(content) > MAX_REPLY_BYTES:
                            raise WebhookError("bad_reply", f"reply longer than {MAX_REPLY_BYTES} bytes")
                    return response.status_code, bytes(content)
        except (TimeoutError, httpx.TimeoutException):
            raise WebhookError("timeout", f"no complete reply within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise WebhookError("connection", f"{type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        """Close the HTTP client (one passed in by the caller is left open)."""
        if self._own_client:
            await self._client.aclose()


def _parse(content: bytes, status: int) -> tuple[bool, str, str, dict[str, Any]]:
    """``ok``, ``say``, ``reason`` and ``details`` of a reply, or WebhookError("bad_reply")."""
    try:
        data = json.loads(content)
    except ValueError:
        raise WebhookError("bad_reply", "reply is not JSON", status=status) from None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        raise WebhookError("bad_reply", 'reply is not a JSON object with a boolean "ok"', status=status)
    for name, kind in (("say", str), ("reason", str), ("details", dict)):
        if data.get(name) is not None and not isinstance(data[name], kind):
            raise WebhookError("bad_reply", f'"{name}" must be a JSON {kind.__name__}', status=status)
    say, reason, details = data.get("say") or "", data.get("reason") or "", data.get("details") or {}
    if not data["ok"] and not reason.strip():
        raise WebhookError("bad_reply", 'a reply with "ok": false needs a "reason" to say', status=status)
    return data["ok"], say, reason, details
