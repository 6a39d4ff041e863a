"""The Asterisk chan_websocket session state machine, without sockets: frames in, actions out."""

from __future__ import annotations

import json

from voiceagent.audio import g711
from voiceagent.events import Clear, Transfer
from voiceagent.transports.asterisk_ws import AsteriskBridge
from voiceagent.transports.bridge import (
    CallParams,
    Close,
    EndCall,
    FlowControl,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    TransferCall,
)

ULAW = bytes(range(0, 256, 2))  # 128 G.711 bytes
PLAIN_START = "MEDIA_START connection_id:a1 channel:WebSocket/a1/0x1 format:ulaw optimal_frame_size:160 persona:x"


def started(start: str = PLAIN_START) -> AsteriskBridge:
    b = AsteriskBridge(max_frame_bytes=640)
    [action] = b.receive(start)
    assert isinstance(action, StartCall)
    assert b.started("c1", "assistant") == []
    return b


def test_media_start_in_both_forms() -> None:
    b = AsteriskBridge(max_frame_bytes=640)
    assert b.receive(PLAIN_START) == [StartCall(CallParams(
        transport="asterisk_ws", sample_rate=8000, persona="x",
        details={"connection_id": "a1", "channel": "WebSocket/a1/0x1"}))]
    [wide] = AsteriskBridge(max_frame_bytes=640).receive(
        json.dumps({"event": "MEDIA_START", "connection_id": "a2", "channel_id": "9.1", "format": "slin16"}))
    assert isinstance(wide, StartCall) and wide.params.sample_rate == 16000
    assert wide.params.details == {"connection_id": "a2", "channel_id": "9.1"}


def test_media_in_the_channel_format() -> None:
    assert started().receive(ULAW) == [PushAudio(g711.decode(ULAW, "ulaw"))]
    wide = started("MEDIA_START format:slin16")
    assert wide.receive(b"\x01\x02" * 320) == [PushAudio(b"\x01\x02" * 320)]
    [odd] = wide.receive(b"\x01\x02\x03")
    assert isinstance(odd, Problem) and odd.code == "odd_length"
    [big] = wide.receive(b"\x00" * 642)
    assert isinstance(big, Problem) and big.code == "frame_too_large"


def test_before_media_start_media_is_ignored_and_a_bad_format_can_be_retried() -> None:
    b = AsteriskBridge(max_frame_bytes=640)
    assert b.receive(ULAW) == [] and b.receive("DTMF_END digit:1") == []
    [bad] = b.receive("MEDIA_START format:opus")
    assert isinstance(bad, Problem) and bad.code == "unsupported_media_format"
    [start] = b.receive("MEDIA_START format:alaw")
    assert isinstance(start, StartCall)
    b.started("c1", "assistant")
    assert b.receive(ULAW) == [PushAudio(g711.decode(ULAW, "alaw"))]
    assert b.receive(PLAIN_START) == []  # a second MEDIA_START changes nothing


def test_control_in_a_call() -> None:
    b = started()
    assert b.receive("DTMF_END digit:9") == [PushDtmf("9")]
    assert b.receive("DTMF_END") == []  # no digit
    assert b.receive("MEDIA_XOFF") == [FlowControl("MEDIA_XOFF")]
    assert b.receive("SOMETHING_NEW x:1") == []
    [garbage] = b.receive("garbage without colon")
    assert isinstance(garbage, Problem) and garbage.code == "bad_message"
    [bad_json] = b.receive("{not json")
    assert isinstance(bad_json, Problem) and bad_json.code == "bad_json"


def test_hang_up_from_either_side_in_the_form_asterisk_used() -> None:
    b = started()
    assert b.receive("HANGUP") == [EndCall("caller_hangup")]
    assert b.receive(ULAW) == [] and b.finished("caller_hangup") == []
    assert AsteriskBridge.gone_reason == "caller_hangup"  # a closed socket is the caller hanging up
    b = started(json.dumps({"event": "MEDIA_START", "format": "ulaw"}))
    assert b.call_ended("idle_timeout") == [Send('{"command": "HANGUP"}'), Close()]
    assert b.call_ended("idle_timeout") == []


def test_refusal_hangs_up() -> None:
    b = AsteriskBridge(max_frame_bytes=640)
    b.receive(PLAIN_START)
    assert b.refused("server_busy", "full") == [Problem("server_busy", "full"), Send("HANGUP"), Close()]


def test_audio_and_barge_in_out() -> None:
    b = started()
    pcm = g711.decode(ULAW, "ulaw")
    assert b.agent_audio(pcm) == [Send(g711.encode(pcm, "ulaw"))]
    assert b.agent_event(Clear(turn=1, heard="")) == [Send("FLUSH_MEDIA")]
    assert started("MEDIA_START format:slin").agent_audio(b"\x01\x00") == [Send(b"\x01\x00")]


def test_a_transfer_leaves_the_target_under_the_dialplans_key_then_hangs_up() -> None:
    b = AsteriskBridge(max_frame_bytes=640, call_key="1761245643.7")
    [start] = b.receive(PLAIN_START + " channel_id:1761245643.8")
    assert isinstance(start, StartCall) and start.params.details["call_key"] == "1761245643.7"
    b.started("c1", "assistant")
    assert b.agent_event(Transfer(to="sip:desk@pbx.example")) == [TransferCall("1761245643.7", "sip:desk@pbx.example")]
    assert b.call_ended("transferred") == [Send("HANGUP"), Close()]  # Dial returns; the dialplan dials the target
    assert b.agent_event(Transfer(to="+15550142")) == []  # once ended, there is no call to hand over


def test_without_a_key_the_websocket_channels_id_is_the_key() -> None:
    b = started(json.dumps({"event": "MEDIA_START", "channel_id": "1761245643.8", "format": "ulaw"}))
    assert b.agent_event(Transfer(to="+15550142")) == [TransferCall("1761245643.8", "+15550142")]
    [problem] = started().agent_event(Transfer(to="+15550142"))  # an old plain-text MEDIA_START: no key at all
    assert isinstance(problem, Problem) and problem.code == "transfer_failed"


def test_the_agent_hanging_up_sends_hangup() -> None:
    assert started().call_ended("agent_ended") == [Send("HANGUP"), Close()]
