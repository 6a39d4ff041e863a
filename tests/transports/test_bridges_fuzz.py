"""Any sequence of frames, valid or not, in any order: every bridge answers with well-formed actions, never
raises, hands the call nothing before it is up, and reads nothing after either side has ended (hypothesis)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.transports.asterisk_ws import AsteriskBridge
from voiceagent.transports.audiosocket import AudioSocketBridge
from voiceagent.transports.audiosocket_protocol import Kind, encode
from voiceagent.transports.bridge import (
    AcknowledgeMark,
    Action,
    Bridge,
    Close,
    EndCall,
    FlowControl,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
)
from voiceagent.transports.native import NativeBridge
from voiceagent.transports.twilio import TwilioBridge

TO_THE_CALL = (PushAudio, PushDtmf, AcknowledgeMark, FlowControl)
frames = st.lists(st.text(max_size=60) | st.binary(max_size=80), max_size=6)


def media(payload: bytes) -> str:
    return json.dumps({"event": "media", "media": {"payload": base64.b64encode(payload).decode()}})


PROTOCOL_FRAMES: dict[str, list[str | bytes]] = {
    "native": ['{"type": "start"}', '{"type": "start", "sample_rate": 8000}', '{"type": "stop"}', b"\x00\x01",
               b"\x00", bytes(700), '{"type": "start", "sample_rate": 7}'],
    "twilio": ['{"event": "connected"}', json.dumps({"event": "start", "start": {"streamSid": "MZ"}}),
               media(bytes(160)), '{"event": "mark", "mark": {"name": "1.1"}}', '{"event": "dtmf", "dtmf": {"digit": "1"}}',
               '{"event": "stop"}', b"\x00"],
    "asterisk": ["MEDIA_START format:ulaw", "MEDIA_START format:slin16", "MEDIA_START format:opus", "DTMF_END digit:4",
                 "MEDIA_XON", "HANGUP", bytes(160), b"\x00\x01\x02", bytes(700)],
    "audiosocket": [encode(Kind.UUID, bytes(16)), encode(Kind.UUID, b"x"), encode(Kind.AUDIO, bytes(320)),
                    encode(Kind.DTMF, b"7"), encode(Kind.HANGUP), encode(Kind.ERROR, b"\x01"), b"\x10\x00",
                    b"\x42\x00\x00", b"\x10\x00\x03abc"],
}
BRIDGES: dict[str, Callable[[], Bridge]] = {
    "native": lambda: NativeBridge(max_frame_bytes=640, models={}, budgets={}),
    "twilio": TwilioBridge,
    "asterisk": lambda: AsteriskBridge(max_frame_bytes=640),
    "audiosocket": lambda: AudioSocketBridge(max_payload=640, remote="peer"),
}


def run(bridge: Bridge, inputs: list[str | bytes], accept: list[bool]) -> None:
    """Feed ``inputs`` as the socket loop would, starting or refusing calls as ``accept`` says."""
    decisions = iter(accept)
    calls = 0
    for data in inputs:
        was_closed = bridge.closed
        pending = bridge.receive(data)
        assert not (was_closed and pending), "input read after the session ended"
        while pending:
            action = pending.pop(0)
            assert isinstance(action, Action)  # type: ignore[misc,arg-type]
            if isinstance(action, TO_THE_CALL):
                assert bridge.in_call, f"{action} with no call up"
            if isinstance(action, Problem):
                assert action.code and action.message
            if isinstance(action, Send | Close | EndCall):
                continue
            if isinstance(action, StartCall):
                assert action.params.transport == bridge.transport and action.params.sample_rate > 0
                ok = next(decisions, True)
                calls += ok
                assert calls <= 1, "a second call on one connection"
                pending += bridge.started("c", "p") if ok else bridge.refused("server_busy", "full")
    bridge.finished("disconnected")
    assert bridge.closed and bridge.call_ended("late") == []


@settings(max_examples=150)
@given(st.sampled_from(sorted(BRIDGES)), st.data(), st.lists(st.booleans(), max_size=3))
def test_protocol_frames_in_any_order(name: str, data: st.DataObject, accept: list[bool]) -> None:
    inputs = data.draw(st.lists(st.sampled_from(PROTOCOL_FRAMES[name]) | frames.map(lambda f: f[0] if f else ""),
                                max_size=12))
    run(BRIDGES[name](), inputs, accept)


@settings(max_examples=100)
@given(st.sampled_from(sorted(BRIDGES)), frames)
def test_garbage(name: str, inputs: list[str | bytes]) -> None:
    run(BRIDGES[name](), inputs, [True])
