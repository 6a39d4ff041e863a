"""Transfer to a person and the agent's own hang-up, through the shared socket loop for every WebSocket
and stream transport. A scripted call does what the real one does: it sends the ``transfer`` event once
its last words have been played and ends ``transferred``, or it ends ``agent_ended``. The loop must carry
out what each bridge asks, in order, with the route's call control."""

from __future__ import annotations

import asyncio
import json
import uuid

from tests.fakes.links import MemoryLink, ScriptedCall, Switch
from voiceagent.events import Transfer
from voiceagent.transports.asterisk_ws import AsteriskBridge
from voiceagent.transports.audiosocket import HANGUP, AudioSocketBridge
from voiceagent.transports.audiosocket_protocol import Kind, encode
from voiceagent.transports.bridge import Bridge
from voiceagent.transports.call_control import CallControl, ControlFailed, DialplanControl, TransferBook
from voiceagent.transports.native import NativeBridge
from voiceagent.transports.socket_loop import SocketLoop
from voiceagent.transports.twilio import TwilioBridge

TWILIO_START = json.dumps({"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1"}})
CALL_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class RecordingControl:
    """A call control that keeps what it was asked, and whether the stream was already closed then."""

    name = "recording"

    def __init__(self, link: MemoryLink, fail: str | None = None) -> None:
        self.link = link
        self.fail = fail
        self.asked: list[tuple[str, str, str, bool]] = []

    async def transfer(self, ref: str, to: str) -> None:
        self.asked.append(("transfer", ref, to, self.link.closed is not None))
        if self.fail:
            raise ControlFailed(self.fail)

    async def hang_up(self, ref: str) -> None:
        self.asked.append(("hang_up", ref, "", self.link.closed is not None))
        if self.fail:
            raise ControlFailed(self.fail)


async def in_call(link: MemoryLink, bridge: Bridge,
                  control: CallControl | None = None) -> tuple[asyncio.Task[None], ScriptedCall]:
    switch = Switch()
    task = asyncio.create_task(SocketLoop(link, bridge, switch, control).run())
    for _ in range(200):
        if switch.calls:
            return task, switch.calls[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no call started")


async def transfer(call: ScriptedCall, task: asyncio.Task[None], to: str) -> None:
    """What the call does: the event after the goodbye words, then the end."""
    await call.output.send_event(Transfer(to=to))
    call.hang_up("transferred")
    await asyncio.wait_for(task, 5)


async def agent_hangs_up(call: ScriptedCall, task: asyncio.Task[None]) -> None:
    call.hang_up("agent_ended")
    await asyncio.wait_for(task, 5)


def native() -> NativeBridge:
    return NativeBridge(max_frame_bytes=640, models={}, budgets={})


async def test_native_client_gets_the_transfer_then_ended_transferred() -> None:
    link = MemoryLink('{"type": "start", "sample_rate": 8000}')
    task, call = await in_call(link, native())
    await transfer(call, task, "+15550142")
    assert link.json()[1:] == [{"type": "transfer", "to": "+15550142"}, {"type": "ended", "reason": "transferred"}]
    assert link.closed == (1000, "transferred") and call.errors == []


async def test_native_client_hears_the_agent_hang_up() -> None:
    link = MemoryLink('{"type": "start", "sample_rate": 8000}')
    task, call = await in_call(link, native())
    await agent_hangs_up(call, task)
    assert link.json()[-1] == {"type": "ended", "reason": "agent_ended"} and link.closed == (1000, "agent_ended")


async def test_twilio_transfer_updates_the_call_while_the_stream_is_open_then_closes() -> None:
    link = MemoryLink(TWILIO_START)
    control = RecordingControl(link)
    task, call = await in_call(link, TwilioBridge(), control)
    await transfer(call, task, "+15550142")
    assert control.asked == [("transfer", "CA1", "+15550142", False)]
    assert call.notes == [("transfer_handoff", {"to": "+15550142", "ref": "CA1", "by": "recording"})]
    assert call.errors == [] and call.end_reason == "transferred" and link.closed == (1000, "transferred")


async def test_a_failed_twilio_transfer_reaches_the_call_as_transfer_failed() -> None:
    link = MemoryLink(TWILIO_START)
    control = RecordingControl(link, fail="Twilio's REST API answered 401: Authenticate (code 20003)")
    task, call = await in_call(link, TwilioBridge(), control)
    await transfer(call, task, "+15550142")
    assert call.errors == [("transfer_failed", False)] and call.notes == []
    assert link.closed == (1000, "transferred")


async def test_a_connection_without_call_control_cannot_transfer() -> None:
    link = MemoryLink(TWILIO_START)
    task, call = await in_call(link, TwilioBridge())
    await transfer(call, task, "+15550142")
    assert call.errors == [("transfer_failed", False)]


async def test_twilio_agent_hang_up_ends_the_phone_call_before_closing_the_stream() -> None:
    link = MemoryLink(TWILIO_START)
    control = RecordingControl(link)
    task, call = await in_call(link, TwilioBridge(), control)
    await agent_hangs_up(call, task)
    assert control.asked == [("hang_up", "CA1", "", False)] and link.closed == (1000, "agent_ended")


async def test_twilio_other_ends_only_close_the_stream() -> None:
    link = MemoryLink(TWILIO_START)
    control = RecordingControl(link)
    task, call = await in_call(link, TwilioBridge(), control)
    call.hang_up("idle_timeout")
    await asyncio.wait_for(task, 5)
    assert control.asked == [] and link.closed == (1000, "idle_timeout")


async def test_a_failed_twilio_hang_up_still_closes_the_stream() -> None:
    link = MemoryLink(TWILIO_START)
    task, call = await in_call(link, TwilioBridge(), RecordingControl(link, fail="unreachable"))
    await agent_hangs_up(call, task)
    assert link.closed == (1000, "agent_ended")


async def test_audiosocket_transfer_leaves_the_target_under_the_uuid_and_hangs_up() -> None:
    book = TransferBook()
    link = MemoryLink(encode(Kind.UUID, CALL_UUID.bytes))
    task, call = await in_call(link, AudioSocketBridge(max_payload=640, remote="pbx"), DialplanControl(book))
    await transfer(call, task, "+15550142")
    assert book.get(str(CALL_UUID)) == "+15550142" and book.get(str(CALL_UUID).upper()) == "+15550142"
    assert link.sent == [HANGUP] and link.closed is not None
    assert call.notes == [("transfer_handoff", {"to": "+15550142", "ref": str(CALL_UUID), "by": "dialplan"})]


async def test_audiosocket_agent_hang_up_leaves_no_target() -> None:
    book = TransferBook()
    link = MemoryLink(encode(Kind.UUID, CALL_UUID.bytes))
    task, call = await in_call(link, AudioSocketBridge(max_payload=640, remote="pbx"), DialplanControl(book))
    await agent_hangs_up(call, task)
    assert link.sent == [HANGUP] and len(book) == 0


async def test_asterisk_websocket_transfer_leaves_the_target_under_the_dialplans_key() -> None:
    book = TransferBook()
    link = MemoryLink("MEDIA_START connection_id:va channel:WebSocket/va/0x1 channel_id:1761245643.8 format:ulaw")
    bridge = AsteriskBridge(max_frame_bytes=640, call_key="1761245643.7")
    task, call = await in_call(link, bridge, DialplanControl(book))
    await transfer(call, task, "sip:desk@pbx.example")
    assert book.get("1761245643.7") == "sip:desk@pbx.example" and book.get("1761245643.8") is None
    assert link.sent == ["HANGUP"] and link.closed == (1000, "")
