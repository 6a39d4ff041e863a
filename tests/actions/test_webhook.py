"""Action webhooks against a real HTTP server on loopback: the signature (and the receiving-side snippets
of docs/webhooks.md), the reply contract, timeouts and retries."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from voiceagent.actions.webhook import (
    SIGNATURE_HEADER,
    WebhookClient,
    WebhookError,
    WebhookReply,
    check_url,
    sign,
    verify,
)

SECRET = "whsec-test-0123456789"
TIMEOUT_S = 0.3  # the timeout tests' timeout: short, so the whole file runs in a few seconds
SLACK_S = 0.5  # scheduling slack on two busy cores
CALM_S = 2.0  # the other tests' timeout: a loaded machine must not turn a quick reply into a timeout
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
ARGUMENTS = {"name": "Ann", "day": "2026-12-01", "time": "09:30"}
KEY = "call-1-book_appointment-1"


def docs_block(language: str) -> str:
    """The one code block of that language in docs/webhooks.md."""
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1, f"expected one {language} block in {DOCS}"
    return str(blocks[0])


def docs_verify() -> Callable[..., bool]:
    """``verify_signature`` from the Python snippet of docs/webhooks.md, exactly as written there."""
    namespace: dict[str, Any] = {}
    exec(docs_block("python"), namespace)  # noqa: S102 (this repository's own documentation)
    return namespace["verify_signature"]  # type: ignore[no-any-return]


@dataclass
class Answer:
    """What the test server answers to one request."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    delay_s: float = 0.0  # before the status line
    trickle_s: float = 0.0  # between the body's bytes (0: the body at once)


@dataclass
class Seen:
    """One request as the test server received it."""

    headers: dict[str, str]
    body: bytes
    verified: bool  # by voiceagent.actions.webhook.verify
    verified_docs: bool  # by the documented snippet


class Hook:
    """A real HTTP server on loopback, a receiving side as documented: it checks the signature with both
    ``verify`` and the docs' snippet (401 when a secret is set and either fails), then answers each
    request with the next scripted Answer (the last one repeats)."""

    def __init__(self, answers: list[Answer], secret: str) -> None:
        self.answers, self.secret, self.seen = answers, secret, list[Seen]()
        snippet, hook, lock = docs_verify(), self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get(SIGNATURE_HEADER, "")
                ok = verify(hook.secret, header, body, now=time.time())
                ok_docs = snippet(hook.secret, header, body)
                with lock:
                    hook.seen.append(Seen({k.lower(): v for k, v in self.headers.items()}, body, ok, ok_docs))
                    answer = hook.answers[min(len(hook.seen), len(hook.answers)) - 1]
                if hook.secret and not (ok and ok_docs):
                    answer = Answer(401, b'{"ok": false, "reason": "bad signature"}')
                time.sleep(answer.delay_s)
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                if answer.status in (301, 302, 307):
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                body = answer.body
                for chunk in [body[i : i + 1] for i in range(len(body))] if answer.trickle_s else [body]:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(answer.trickle_s)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the client hung up on a slow answer: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/voiceagent"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


StartHook = Callable[..., Hook]


@pytest.fixture
def hook() -> Iterator[StartHook]:
    """Start a test webhook server: ``hook(Answer(...), ..., secret=SECRET)``."""
    hooks: list[Hook] = []

    def start(*answers: Answer, secret: str = SECRET) -> Hook:
        hooks.append(Hook(list(answers) or [Answer()], secret))
        return hooks[-1]

    yield start
    for started in hooks:
        started.close()


@pytest.fixture
async def client() -> AsyncIterator[WebhookClient]:
    """A client as configured by default but for a longer timeout: 2 retries."""
    webhooks = WebhookClient(SECRET, CALM_S, 2)
    yield webhooks
    await webhooks.aclose()


@pytest.fixture
async def quick() -> AsyncIterator[WebhookClient]:
    """A client with the short TIMEOUT_S, for the timeout tests."""
    webhooks = WebhookClient(SECRET, TIMEOUT_S, 2)
    yield webhooks
    await webhooks.aclose()


async def send(client: WebhookClient, url: str, *, idempotent: bool = True) -> WebhookReply:
    return await client.call(
        url,
        call_id="call-1",
        persona="garage",
        action="book_appointment",
        arguments=ARGUMENTS,
        key=KEY,
        idempotent=idempotent,
    )


def ok_body(**fields: Any) -> bytes:
    return json.dumps({"ok": True, **fields}).encode()


async def test_signed_request_carries_the_action(client: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(body=ok_body(say="You're booked for Monday.", details={"booking_id": "B-1"})))
    reply = await send(client, server.url)
    assert (reply.ok, reply.say, reply.reason, reply.details) == (
        True,
        "You're booked for Monday.",
        "",
        {"booking_id": "B-1"},
    )
    assert (reply.status, reply.attempts) == (200, 1) and 0 < reply.ms < CALM_S * 1000
    [seen] = server.seen
    assert seen.verified and seen.verified_docs
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"].startswith("voiceagent/")
    assert seen.headers["idempotency-key"] == KEY
    assert abs(int(seen.headers[SIGNATURE_HEADER.lower()].split(",")[0].removeprefix("t=")) - time.time()) < 5
    body = json.loads(seen.body)
    assert {k: v for k, v in body.items() if k != "sent_at"} == {
        "call_id": "call-1",
        "persona": "garage",
        "action": "book_appointment",
        "arguments": ARGUMENTS,
        "idempotency_key": KEY,
    }
    assert abs(datetime.fromisoformat(body["sent_at"]).timestamp() - time.time()) < 5


async def test_wrong_secret_fails_verification(hook: StartHook) -> None:
    server = hook(Answer())
    forger = WebhookClient("not-the-secret", CALM_S, 2)
    with pytest.raises(WebhookError) as failure:
        await send(forger, server.url)
    await forger.aclose()
    assert (failure.value.kind, failure.value.status, failure.value.attempts) == ("http_status", 401, 1)
    [seen] = server.seen
    assert not seen.verified and not seen.verified_docs


def test_sign_and_verify() -> None:
    body, now = b'{"a":1}', 1_700_000_000
    # printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    assert sign("secret", now, body) == "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
    header = f"t={now},v1={sign('secret', now, body)}"
    assert verify("secret", header, body, now=now + 299)
    rotating = f"t={now},v1={sign('old', now, body)},v1={sign('secret', now, body)}"
    assert verify("secret", rotating, body, now=now)
    assert not verify("wrong", header, body, now=now)
    assert not verify("secret", header, b'{"a":2}', now=now)
    assert not verify("secret", header, body, now=now + 301)  # stale
    assert not verify("secret", header, body, now=now - 301)  # from the future
    assert not verify("", f"t={now},v1={sign('', now, body)}", body, now=now)
    for bad in ("", f"t={now}", header.split(",")[1], f"t=x{now},v1=00", f"t={now},v1=é"):
        assert not verify("secret", bad, body, now=now)


def snippet_cases() -> list[tuple[str, bytes, bool]]:
    """(header, body, valid) for SECRET: fresh, a second v1, wrong secret, stale, future, tampered."""
    body, now = b'{"call_id":"c1"}', int(time.time())
    return [
        (f"t={now},v1={sign(SECRET, now, body)}", body, True),
        (f"t={now},v1={sign('old', now, body)},v1={sign(SECRET, now, body)}", body, True),
        (f"t={now},v1={sign('wrong', now, body)}", body, False),
        (f"t={now - 400},v1={sign(SECRET, now - 400, body)}", body, False),
        (f"t={now + 400},v1={sign(SECRET, now + 400, body)}", body, False),
        (f"t={now},v1={sign(SECRET, now, body)}", b'{"call_id":"c2"}', False),
        (f"t={now}", body, False),
    ]


def test_docs_python_snippet_verifies() -> None:
    snippet = docs_verify()
    for header, body, valid in snippet_cases():
        assert snippet(SECRET, header, body) is valid, header


def test_docs_node_snippet_verifies() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    program = docs_block("javascript") + (
        "const [secret, header] = process.argv.slice(-2);\n"
        "console.log(verifySignature(secret, header, require('fs').readFileSync(0)));\n"
    )
    for header, body, valid in snippet_cases():
        command = ["node", "-e", program, SECRET, header]
        run = subprocess.run(command, input=body, capture_output=True, timeout=30, check=False)
        assert run.stdout.decode().strip() == str(valid).lower(), (header, run.stderr.decode())


def test_docs_curl_example_is_accepted(hook: StartHook) -> None:
    if shutil.which("curl") is None or shutil.which("openssl") is None:
        pytest.skip("curl or openssl is not installed")
    server = hook(Answer(body=ok_body(say="Got it.")))
    script = docs_block("sh").replace("your-webhook-secret", SECRET)
    script = script.replace("https://example.com/hooks/voiceagent", server.url)
    run = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30, check=False)
    assert json.loads(run.stdout) == {"ok": True, "say": "Got it."}, run.stderr.decode()
    assert server.seen[0].verified and server.seen[0].verified_docs


async def test_refusal_is_a_reply(client: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(body=b'{"ok": false, "reason": "That slot is taken."}'))
    reply = await send(client, server.url)
    assert (reply.ok, reply.reason, reply.say, reply.details, reply.attempts) == (
        False,
        "That slot is taken.",
        "",
        {},
        1,
    )


async def test_unsigned_without_a_secret(hook: StartHook, caplog: pytest.LogCaptureFixture) -> None:
    server = hook(Answer(), secret="")
    unsigned = WebhookClient("", CALM_S, 2)
    with caplog.at_level(logging.WARNING, "voiceagent.actions.webhook"):
        assert (await send(unsigned, server.url)).ok
    await unsigned.aclose()
    assert SIGNATURE_HEADER.lower() not in server.seen[0].headers
    assert "unsigned" in caplog.text


async def test_slow_server_times_out_within_the_timeout(quick: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(delay_s=1.0))
    started = time.monotonic()
    with pytest.raises(WebhookError) as failure:
        await send(quick, server.url, idempotent=False)
    assert TIMEOUT_S * 0.9 < time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert (failure.value.kind, failure.value.attempts, len(server.seen)) == ("timeout", 1, 1)


async def test_trickling_reply_times_out(quick: WebhookClient, hook: StartHook) -> None:
    # Each byte comes well within httpx's per-read timeout: only the bound on the whole attempt stops it.
    server = hook(Answer(body=ok_body(say="x" * 20), trickle_s=0.1))
    started = time.monotonic()
    with pytest.raises(WebhookError) as failure:
        await send(quick, server.url, idempotent=False)
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert failure.value.kind == "timeout"


async def test_retries_of_a_slow_server_stay_bounded(quick: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(delay_s=1.0))
    started = time.monotonic()
    with pytest.raises(WebhookError) as failure:
        await send(quick, server.url)
    assert time.monotonic() - started < 3 * TIMEOUT_S + 0.2 + 0.4 + SLACK_S
    assert (failure.value.kind, failure.value.attempts, len(server.seen)) == ("timeout", 3, 3)


async def test_idempotent_action_retried_after_503s(client: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(503, b"busy"), Answer(503, b"busy"), Answer(body=ok_body(say="Done.")))
    started = time.monotonic()
    reply = await send(client, server.url)
    assert (reply.ok, reply.say, reply.status, reply.attempts) == (True, "Done.", 200, 3)
    assert time.monotonic() - started >= 0.2 + 0.4  # the backoffs
    assert [seen.headers["idempotency-key"] for seen in server.seen] == [KEY] * 3
    assert len({seen.body for seen in server.seen}) == 1
    assert all(seen.verified and seen.verified_docs for seen in server.seen)


async def test_429_is_retried(client: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(429, b""), Answer())
    assert (await send(client, server.url)).attempts == 2 and len(server.seen) == 2


async def test_non_idempotent_action_is_tried_once(client: WebhookClient, hook: StartHook) -> None:
    server = hook(Answer(503, b"busy"), Answer())
    with pytest.raises(WebhookError) as failure:
        await send(client, server.url, idempotent=False)
    assert (failure.value.kind, failure.value.status, failure.value.attempts) == ("http_status", 503, 1)
    assert len(server.seen) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 302])
async def test_4xx_and_redirects_are_not_retried(client: WebhookClient, hook: StartHook, status: int) -> None:
    server = hook(Answer(status, b'{"error": "no"}'), Answer())
    with pytest.raises(WebhookError) as failure:
        await send(client, server.url)
    assert (failure.value.kind, failure.value.status, failure.value.attempts) == ("http_status", status, 1)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    "status, body",
    [
        (200, b"not json"),
        (200, b"[true]"),
        (200, b'{"say": "no ok"}'),
        (200, b'{"ok": "yes"}'),
        (200, b'{"ok": true, "say": 3}'),
        (200, b'{"ok": true, "details": []}'),
        (200, b'{"ok": false}'),
        (204, b""),
        (200, ok_body(say="x" * 70_000)),
    ],
)
async def test_bad_reply(client: WebhookClient, hook: StartHook, status: int, body: bytes) -> None:
    server = hook(Answer(status, body), Answer())
    with pytest.raises(WebhookError) as failure:
        await send(client, server.url)
    assert (failure.value.kind, failure.value.attempts, len(server.seen)) == ("bad_reply", 1, 1)


async def test_refused_connection(client: WebhookClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/voiceagent"
    with pytest.raises(WebhookError) as once:
        await send(client, url, idempotent=False)
    assert (once.value.kind, once.value.attempts) == ("connection", 1)
    started = time.monotonic()
    with pytest.raises(WebhookError) as retried:
        await send(client, url)
    assert (retried.value.kind, retried.value.attempts) == ("connection", 3)
    assert time.monotonic() - started >= 0.2 + 0.4


async def test_urls(client: WebhookClient, caplog: pytest.LogCaptureFixture) -> None:
    for bad in ("ftp://example.com/hook", "file:///etc/passwd", "example.com/hook", "https://"):
        with pytest.raises(ValueError):
            await send(client, bad)
    with caplog.at_level(logging.WARNING, "voiceagent.actions.webhook"):
        for fine in ("https://example.com/h", "http://127.0.0.1:9/h", "http://localhost/h", "http://[::1]/h"):
            check_url(fine)
        assert caplog.text == ""
        check_url("http://example.com/hook")
    assert "plain http" in caplog.text
