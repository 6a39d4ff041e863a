"""Transfers on Asterisk: neither AudioSocket nor chan_websocket can tell the dialplan where to send the
caller, so the target waits in the server's transfer book and the dialplan fetches it over HTTP once the
stream has ended (``GET /calls/<key>/transfer``, what ``CURL()`` does). Here over real sockets: a TCP
client speaks AudioSocket as ``AudioSocket()`` would, the real socket loop and bridge serve it with a
scripted call that transfers, and the real server answers the lookup."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import httpx
import pytest

from tests.conftest import free_port
from tests.fakes.links import Switch
from voiceagent.config import Settings
from voiceagent.events import Transfer
from voiceagent.server import VoiceAgentServer
from voiceagent.transports.audiosocket import HANGUP, AudioSocketBridge
from voiceagent.transports.audiosocket_protocol import Kind, encode
from voiceagent.transports.call_control import ControlFailed, DialplanControl, NoControl, TransferBook
from voiceagent.transports.endpoints import dialplan_key
from voiceagent.transports.links import StreamLink
from voiceagent.transports.session import Switchboard
from voiceagent.transports.socket_loop import SocketLoop

CALL_UUID = str(uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))


def test_the_book_keeps_targets_for_a_while_and_not_without_bound() -> None:
    now = [100.0]
    book = TransferBook(ttl_s=60.0, max_entries=2, clock=lambda: now[0])
    book.leave(CALL_UUID, "+15550142")
    assert book.get(CALL_UUID.upper()) == "+15550142"  # Asterisk's UUID() and ours may differ in case
    book.leave("1761245643.7", "sip:desk@pbx.example")
    book.leave("1761245643.8", "+15550100")
    assert book.get(CALL_UUID) is None and len(book) == 2  # the oldest went first
    now[0] += 61.0
    assert book.get("1761245643.7") is None and len(book) == 0  # expired
    for bad in ("", "../x", "a b", "k" * 129):
        with pytest.raises(ControlFailed, match="no usable call key"):
            book.leave(bad, "+15550142")
        assert book.get(bad) is None


def test_a_chan_websocket_dial_string_names_the_call_in_the_uri() -> None:
    # Dial(WebSocket/voiceagent/c(ulaw)v(call=${UNIQUEID}),,g): Asterisk appends the parameter to the URI
    assert dialplan_key("/asterisk?token=t&call=1761245643.7") == "1761245643.7"
    assert dialplan_key("/asterisk") == "" and dialplan_key("/asterisk?call=") == ""


async def test_without_call_control_nothing_can_be_transferred() -> None:
    with pytest.raises(ControlFailed, match="no way to transfer"):
        await NoControl().transfer("k", "+15550142")
    await NoControl().hang_up("k")


@pytest.fixture
async def lookup_server() -> AsyncIterator[tuple[str, TransferBook, Settings]]:
    """The real server's HTTP side on loopback, with a switchboard that holds only a transfer book."""
    book = TransferBook()
    settings = Settings(host="127.0.0.1", port=free_port(), auth_token="tok")
    board = cast(Switchboard, SimpleNamespace(settings=settings, transfers=book, personas={}))
    server = await VoiceAgentServer(board).start()
    yield f"http://127.0.0.1:{settings.port}", book, settings
    server.close()
    await server.wait_closed()


async def test_the_lookup_answers_the_target_as_plain_text_and_nothing_else(
        lookup_server: tuple[str, TransferBook, Settings]) -> None:
    base, book, _ = lookup_server
    book.leave(CALL_UUID, "+15550142")
    async with httpx.AsyncClient(base_url=base) as client:
        found = await client.get(f"/calls/{CALL_UUID}/transfer?token=tok")
        assert (found.status_code, found.text) == (200, "+15550142")
        assert found.headers["content-type"].startswith("text/plain")
        missing = await client.get("/calls/1761245643.9/transfer", headers={"Authorization": "Bearer tok"})
        assert (missing.status_code, missing.text) == (404, "")  # CURL() gives the dialplan an empty variable
        assert (await client.get(f"/calls/{CALL_UUID}/transfer")).status_code == 401  # the token is required
        assert (await client.get(f"/calls/{CALL_UUID}/transfer?token=nope")).status_code == 401
        assert (await client.get(f"/calls/{CALL_UUID}?token=tok")).status_code == 404


async def test_an_audiosocket_call_transferred_then_looked_up_by_the_dialplan(
        lookup_server: tuple[str, TransferBook, Settings]) -> None:
    base, book, _ = lookup_server
    switch = Switch()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = StreamLink(reader, writer)
        await SocketLoop(link, AudioSocketBridge(max_payload=640, remote=link.remote), switch,
                         DialplanControl(book)).run()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        # Asterisk: exten => 100,1,Answer() / same => n,AudioSocket(${VA_CALL},127.0.0.1:port)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(encode(Kind.UUID, uuid.UUID(CALL_UUID).bytes) + encode(Kind.AUDIO, bytes(320)))
        await writer.drain()
        for _ in range(200):
            if switch.calls:
                break
            await asyncio.sleep(0.01)
        call = switch.calls[0]
        await call.output.send_event(Transfer(to="+15550142"))  # the call side, after its last words
        call.hang_up("transferred")
        assert await asyncio.wait_for(reader.read(), 5) == HANGUP  # then the server closes: AudioSocket() returns
        writer.close()
        # same => n,Set(TRANSFER_TO=${CURL(http://voiceagent:8765/calls/${VA_CALL}/transfer?token=...)})
        async with httpx.AsyncClient(base_url=base) as client:
            answer = await client.get(f"/calls/{CALL_UUID}/transfer?token=tok")
        assert (answer.status_code, answer.text) == (200, "+15550142")
        assert call.end_reason == "transferred"
    finally:
        listener.close()
        await listener.wait_closed()
