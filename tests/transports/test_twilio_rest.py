"""Transfers and hang-ups of /twilio calls through Twilio's REST API, against a real HTTP server on
loopback: a protocol stand-in for Twilio's REST API ("update a call in progress": ``POST /2010-04-01/
Accounts/{AccountSid}/Calls/{CallSid}.json``, form-encoded, HTTP basic auth), which keeps every request
and answers as told. The end-to-end tests drive the real socket loop, Twilio bridge and REST client with
a scripted call standing in for the call side."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import http
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.fakes.links import MemoryLink, Switch
from voiceagent.config import Settings
from voiceagent.events import Transfer
from voiceagent.transports.call_control import ControlFailed
from voiceagent.transports.socket_loop import SocketLoop
from voiceagent.transports.twilio import TwilioBridge
from voiceagent.transports.twilio_rest import TwilioRest, dial_twiml

ACCOUNT, TOKEN = "AC0123456789abcdef0123456789abcdef", "s3cret"
CALL_SID = "CA0123456789abcdef0123456789abcdef"
CALL_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL_SID}.json"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
TWILIO_START = json.dumps({"event": "start", "start": {"streamSid": "MZ1", "callSid": CALL_SID}})


@dataclasses.dataclass
class Request:
    method: str
    path: str
    authorization: str | None
    content_type: str | None
    form: dict[str, list[str]]


class TwilioStandIn:
    """Twilio's REST API as far as these tests need it: keeps each request, answers ``status`` and
    ``body`` (a call resource by default) after ``delay_s``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.status = http.HTTPStatus.OK
        self.body: dict[str, object] = {"sid": CALL_SID, "status": "in-progress"}
        self.delay_s = 0.0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                stand_in.requests.append(Request("POST", self.path, self.headers.get("Authorization"),
                                                 self.headers.get("Content-Type"), form))
                time.sleep(stand_in.delay_s)
                payload = json.dumps(stand_in.body).encode()
                self.send_response(stand_in.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self, **overrides: Any) -> Settings:
        base = Settings(twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_api_base=self.url)
        return dataclasses.replace(base, **overrides)


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    thread = threading.Thread(target=stand_in.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def test_the_twiml_dials_a_number_or_a_sip_uri() -> None:
    assert dial_twiml("+15550142") == "<Response><Dial>+15550142</Dial></Response>"
    assert dial_twiml(" tel:+1 (555) 014-2 ") == "<Response><Dial>+15550142</Dial></Response>"
    assert dial_twiml("sip:desk@pbx.example;transport=tls") == \
        "<Response><Dial><Sip>sip:desk@pbx.example;transport=tls</Sip></Dial></Response>"
    assert dial_twiml("sips:a@b.example?X-Case=1&X-Who=2") == \
        "<Response><Dial><Sip>sips:a@b.example?X-Case=1&amp;X-Who=2</Sip></Dial></Response>"
    for bad in ("", "the front desk", "+1</Dial><Hangup/>", "sip:<x>", "http://example.com", "1"):
        with pytest.raises(ControlFailed, match="neither a phone number nor a SIP URI"):
            dial_twiml(bad)


async def test_a_transfer_posts_the_dial_twiml_to_the_call_with_basic_auth(twilio: TwilioStandIn) -> None:
    await TwilioRest(twilio.settings()).transfer(CALL_SID, "+15550142")
    [request] = twilio.requests
    assert request.method == "POST" and request.path == CALL_PATH and request.authorization == BASIC
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form == {"Twiml": ["<Response><Dial>+15550142</Dial></Response>"]}


async def test_a_transfer_to_a_sip_uri_dials_sip(twilio: TwilioStandIn) -> None:
    await TwilioRest(twilio.settings(twilio_api_base=twilio.url + "/")).transfer(CALL_SID, "sip:desk@pbx.example")
    assert twilio.requests[0].path == CALL_PATH
    assert twilio.requests[0].form == {"Twiml": ["<Response><Dial><Sip>sip:desk@pbx.example</Sip></Dial></Response>"]}


async def test_hanging_up_completes_the_call(twilio: TwilioStandIn) -> None:
    await TwilioRest(twilio.settings()).hang_up(CALL_SID)
    [request] = twilio.requests
    assert request.path == CALL_PATH and request.authorization == BASIC and request.form == {"Status": ["completed"]}


async def test_without_credentials_a_transfer_fails_naming_the_settings_and_a_hang_up_is_skipped(
        twilio: TwilioStandIn) -> None:
    rest = TwilioRest(twilio.settings(twilio_account_sid="", twilio_auth_token=""))
    with pytest.raises(ControlFailed, match="twilio_account_sid and twilio_auth_token not set"):
        await rest.transfer(CALL_SID, "+15550142")
    await rest.hang_up(CALL_SID)  # closing the stream is all that can be done
    with pytest.raises(ControlFailed, match="^twilio_auth_token not set"):
        await TwilioRest(twilio.settings(twilio_auth_token="")).transfer(CALL_SID, "+15550142")
    assert twilio.requests == []


async def test_twilios_refusal_is_reported_in_its_own_words(twilio: TwilioStandIn) -> None:
    twilio.status = http.HTTPStatus.BAD_REQUEST
    twilio.body = {"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400}
    with pytest.raises(ControlFailed, match=r"answered 400: Call is not in-progress\. Cannot redirect\. \(code 21220\)"):
        await TwilioRest(twilio.settings()).transfer(CALL_SID, "+15550142")


async def test_an_unreachable_or_slow_api_fails_within_the_timeout(twilio: TwilioStandIn) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(ControlFailed, match="ConnectError"):
        await TwilioRest(twilio.settings(twilio_api_base=closed)).transfer(CALL_SID, "+15550142")
    twilio.delay_s = 0.5
    started = time.monotonic()
    with pytest.raises(ControlFailed, match="ReadTimeout"):
        await TwilioRest(twilio.settings(), timeout_s=0.1).hang_up(CALL_SID)
    assert time.monotonic() - started < 0.4


async def test_sids_that_are_not_path_segments_are_refused(twilio: TwilioStandIn) -> None:
    with pytest.raises(ControlFailed, match="no usable callSid"):
        await TwilioRest(twilio.settings()).transfer("../../Messages", "+15550142")
    with pytest.raises(ControlFailed, match="not an account SID"):
        await TwilioRest(twilio.settings(twilio_account_sid="AC/x")).hang_up(CALL_SID)
    assert twilio.requests == []


async def serve_twilio_call(settings: Settings) -> tuple[MemoryLink, asyncio.Task[None], Switch]:
    link, switch = MemoryLink(TWILIO_START), Switch()
    task = asyncio.create_task(SocketLoop(link, TwilioBridge(), switch, TwilioRest(settings)).run())
    for _ in range(200):
        if switch.calls:
            return link, task, switch
        await asyncio.sleep(0.01)
    raise AssertionError("no call started")


async def test_end_to_end_a_transfer_on_a_twilio_stream(twilio: TwilioStandIn) -> None:
    link, task, switch = await serve_twilio_call(twilio.settings())
    call = switch.calls[0]
    await call.output.send_event(Transfer(to="+15550142"))  # after the goodbye words, as the call does
    assert len(twilio.requests) == 1 and link.closed is None  # updated while the stream is still open
    call.hang_up("transferred")
    await asyncio.wait_for(task, 5)
    assert twilio.requests[0].form == {"Twiml": ["<Response><Dial>+15550142</Dial></Response>"]}
    assert call.errors == [] and call.notes[0][0] == "transfer_handoff" and link.closed == (1000, "transferred")


async def test_end_to_end_the_agent_hanging_up_completes_the_twilio_call(twilio: TwilioStandIn) -> None:
    link, task, switch = await serve_twilio_call(twilio.settings())
    switch.calls[0].hang_up("agent_ended")
    await asyncio.wait_for(task, 5)
    assert [r.form for r in twilio.requests] == [{"Status": ["completed"]}] and link.closed == (1000, "agent_ended")


async def test_end_to_end_a_transfer_without_credentials_fails_clearly(twilio: TwilioStandIn) -> None:
    _, task, switch = await serve_twilio_call(twilio.settings(twilio_auth_token=""))
    call = switch.calls[0]
    await call.output.send_event(Transfer(to="+15550142"))
    call.hang_up("transferred")
    await asyncio.wait_for(task, 5)
    assert call.errors == [("transfer_failed", False)] and twilio.requests == []
    assert call.error_messages == [
        "transfer to +15550142 failed: twilio_auth_token not set: Twilio's REST API cannot be used"]
