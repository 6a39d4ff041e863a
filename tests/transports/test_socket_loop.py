"""The shared socket loop with an in-memory link and a scripted call (no sockets, no models): it starts
calls, carries out every kind of action, and ends calls the same way for every bridge."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.fakes.links import MemoryLink, Switch
from voiceagent.events import Clear
from voiceagent.pipeline.player import MarkingOutput
from voiceagent.transports.audiosocket import HANGUP, AudioSocketBridge
from voiceagent.transports.audiosocket_protocol import Kind, encode
from voiceagent.transports.bridge import Bridge
from voiceagent.transports.native import NativeBridge
from voiceagent.transports.session import TooManyCalls, UnknownPersona
from voiceagent.transports.socket_loop import SocketLoop
from voiceagent.transports.twilio import TwilioBridge


def native() -> NativeBridge:
    return NativeBridge(max_frame_bytes=640, models={}, budgets={})


async def serve(link: MemoryLink, bridge: Bridge, switch: Switch) -> SocketLoop:
    loop = SocketLoop(link, bridge, switch)
    await asyncio.wait_for(loop.run(), 5)
    return loop


async def test_a_native_call_from_start_to_stop() -> None:
    link, switch = MemoryLink('{"type": "start", "sample_rate": 8000}', b"\x01\x00" * 80, b"\x00",
                              '{"type": "stop"}'), Switch()
    await serve(link, native(), switch)
    [call] = switch.calls
    assert call.audio == [b"\x01\x00" * 80]
    assert call.errors == [("odd_length", False)]  # a problem in a call goes through the call
    assert [m["type"] for m in link.json()] == ["ready", "error", "ended"]
    assert link.json()[-1]["reason"] == "caller_stop" and call.end_reason == "caller_stop"
    assert link.closed == (1000, "")


async def test_problems_before_a_call_reach_the_client_without_one() -> None:
    link, switch = MemoryLink(b"\x00\x00", "not json"), Switch()
    link.hang_up()
    await serve(link, native(), switch)
    assert [(m["type"], m["code"]) for m in link.json()] == [("error", "not_started"), ("error", "bad_json")]
    assert not switch.calls


@pytest.mark.parametrize(("refusal", "code", "close"), [
    (TooManyCalls("full"), "server_busy", (1013, "server busy")),
    (None, "unauthorized", (1008, "unauthorized")),
])
async def test_refused_calls_close_with_the_right_code(refusal: Exception | None, code: str,
                                                       close: tuple[int, str]) -> None:
    link = MemoryLink('{"type": "start"}', b"\x00\x00", authorized=refusal is not None)
    switch = Switch(refusal)
    await serve(link, native(), switch)
    assert [m["code"] for m in link.json()] == [code] and link.closed == close and not switch.calls


async def test_an_unknown_persona_leaves_the_native_connection_open() -> None:
    link = MemoryLink('{"type": "start", "persona": "nobody"}')
    task = asyncio.create_task(SocketLoop(link, native(), Switch(UnknownPersona("no persona 'nobody'"))).run())
    await asyncio.sleep(0.05)
    assert [m["code"] for m in link.json()] == ["unknown_persona"] and link.closed is None
    link.hang_up()
    await asyncio.wait_for(task, 5)


async def test_a_call_that_ends_on_its_own_says_goodbye_once_and_closes() -> None:
    link, switch = MemoryLink('{"type": "start"}'), Switch()
    task = asyncio.create_task(SocketLoop(link, native(), switch).run())
    await asyncio.sleep(0.05)
    switch.calls[0].hang_up("idle_timeout")
    await asyncio.wait_for(task, 5)
    assert [m["type"] for m in link.json()] == ["ready", "ended"]
    assert link.json()[-1]["reason"] == "idle_timeout" and link.closed == (1000, "idle_timeout")


async def test_the_goodbye_is_said_even_when_the_loop_notices_the_end_first() -> None:
    link, switch = MemoryLink('{"type": "start"}'), Switch(late_goodbye=True)
    task = asyncio.create_task(SocketLoop(link, native(), switch).run())
    await asyncio.sleep(0.05)
    switch.calls[0].hang_up("server_shutdown")
    await asyncio.sleep(0.01)
    link.incoming.put_nowait(b"\x00\x00")  # the loop wakes, sees the call has ended, and finishes
    await asyncio.wait_for(task, 5)
    await asyncio.sleep(0.25)  # the late notice comes and finds the goodbye said
    assert [m["type"] for m in link.json()] == ["ready", "ended"] and link.closed == (1013, "server_shutdown")


async def test_a_peer_that_goes_away_ends_the_call() -> None:
    link, switch = MemoryLink('{"type": "start"}'), Switch()
    link.hang_up()
    await serve(link, native(), switch)
    assert switch.calls[0].end_reason == "disconnected"


async def test_twilio_marks_keys_and_the_marking_output() -> None:
    start = json.dumps({"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1"}})
    link, switch = MemoryLink(start, '{"event": "mark", "mark": {"name": "1.1"}}',
                              '{"event": "dtmf", "dtmf": {"digit": "4"}}'), Switch()
    task = asyncio.create_task(SocketLoop(link, TwilioBridge(), switch).run())
    await asyncio.sleep(0.05)
    call = switch.calls[0]
    assert isinstance(call.output, MarkingOutput)
    await call.output.send_mark("1.2")
    await asyncio.sleep(0.01)  # written by the connection's outbox task
    assert call.marks == ["1.1"] and call.digits == ["4"]
    assert json.loads(link.sent[-1])["mark"] == {"name": "1.2"}
    link.incoming.put_nowait('{"event": "stop"}')
    await asyncio.wait_for(task, 5)
    assert call.end_reason == "caller_hangup"


async def test_audiosocket_out_of_step_ends_the_call_with_a_fatal_error_and_a_hang_up() -> None:
    link = MemoryLink(encode(Kind.UUID, bytes(16)) + encode(Kind.AUDIO, bytes(320)), b"\x42\x00\x01x")
    switch = Switch()
    await serve(link, AudioSocketBridge(max_payload=640, remote="peer"), switch)
    [call] = switch.calls
    assert call.audio == [bytes(320)]  # audio in the same chunk as the UUID reached the call
    assert call.errors == [("unknown_type", True)] and call.end_reason == "unknown_type"
    assert link.sent == [HANGUP]
    assert not isinstance(call.output, MarkingOutput)


class SlowReaderLink(MemoryLink):
    """A peer that reads nothing until ``read_on`` is set (a stand-in for a full socket)."""

    def __init__(self, *incoming: str | bytes) -> None:
        super().__init__(*incoming)
        self.read_on = asyncio.Event()

    async def send(self, data: str | bytes) -> None:
        await self.read_on.wait()
        await super().send(data)


async def test_reading_goes_on_while_the_peer_does_not_read_and_a_barge_in_drops_unread_audio() -> None:
    link, switch = SlowReaderLink('{"type": "start", "sample_rate": 8000}', b"\x01\x00" * 80), Switch()
    task = asyncio.create_task(SocketLoop(link, native(), switch).run())
    await asyncio.sleep(0.05)
    call = switch.calls[0]
    assert call.audio == [b"\x01\x00" * 80]  # the caller's audio got through; "ready" is still unsent
    for _ in range(3):
        await asyncio.wait_for(call.output.send_audio(b"\x02\x00" * 160), 0.5)  # never waits on the peer
    await call.output.send_event(Clear(turn=1, heard=""))
    link.read_on.set()
    await asyncio.sleep(0.05)
    assert [m["type"] for m in link.json()] == ["ready", "clear"]
    assert not [m for m in link.sent if isinstance(m, bytes)]  # the audio the caller cut off never went out
    link.hang_up()
    await asyncio.wait_for(task, 5)


async def test_a_peer_that_stops_reading_ends_the_call_with_that_reason() -> None:
    link, switch = SlowReaderLink('{"type": "start", "sample_rate": 8000}'), Switch()
    await asyncio.wait_for(SocketLoop(link, native(), switch, send_stall_s=0.1).run(), 5)
    assert link.aborted and switch.calls[0].end_reason == "peer_not_reading"
