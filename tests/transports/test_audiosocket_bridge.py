"""The AudioSocket session state machine, without sockets: bytes in (cut anywhere), actions out."""

from __future__ import annotations

import uuid

from voiceagent.events import Error, Transfer
from voiceagent.transports.audiosocket import HANGUP, LEAD_MS, AudioSocketBridge
from voiceagent.transports.audiosocket_protocol import Kind, Parser, encode
from voiceagent.transports.bridge import (
    Action,
    CallParams,
    Close,
    EndCall,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    TransferCall,
)

CALL = uuid.UUID("12345678-1234-5678-1234-567812345678")


def bridge() -> AudioSocketBridge:
    return AudioSocketBridge(max_payload=640, remote="('10.0.0.1', 4000)")


def started() -> AudioSocketBridge:
    b = bridge()
    [start] = b.receive(encode(Kind.UUID, CALL.bytes))
    assert isinstance(start, StartCall)
    assert b.started("c1", "assistant") == []
    return b


def test_the_uuid_starts_a_call_however_the_stream_is_cut() -> None:
    stream = encode(Kind.UUID, CALL.bytes) + encode(Kind.AUDIO, b"\x01\x00" * 160) + encode(Kind.DTMF, b"#")
    for cut in range(1, len(stream)):
        b = bridge()
        actions: list[Action] = b.receive(stream[:cut])
        actions += b.receive(stream[cut:])
        actions += b.started("c1", "assistant")  # what came behind the UUID waited for the call
        assert actions == [
            StartCall(CallParams(transport="audiosocket", sample_rate=8000, playback_lead_ms=LEAD_MS,
                                 details={"asterisk_uuid": str(CALL), "remote": "('10.0.0.1', 4000)"})),
            PushAudio(b"\x01\x00" * 160), PushDtmf("#")], cut


def test_messages_before_the_uuid_are_out_of_order() -> None:
    [problem] = bridge().receive(encode(Kind.AUDIO, bytes(320)))
    assert problem == Problem("not_started", "AUDIO before the UUID message")


def test_a_bad_uuid_closes_without_a_call() -> None:
    [problem, close] = bridge().receive(encode(Kind.UUID, b"short"))
    assert isinstance(problem, Problem) and problem.code == "bad_uuid" and close == Close()


def test_keys_errors_and_a_second_uuid_in_a_call() -> None:
    b = started()
    assert b.receive(encode(Kind.DTMF, b"5")) == [PushDtmf("5")]
    assert b.receive(encode(Kind.DTMF, b"55")) == []  # not one key
    assert b.receive(encode(Kind.ERROR, b"\x02")) == [Problem("asterisk_error", "Asterisk reported error 0x02")]
    assert b.receive(encode(Kind.UUID, uuid.uuid4().bytes)) == []


def test_a_stream_out_of_step_ends_the_call_and_hangs_up() -> None:
    for garbage, code in ((b"\x42\x00\x01x", "unknown_type"), (b"\x10\x02\x82", "frame_too_large"),
                          (b"\x10\x00\x03abc", "odd_length")):
        b = started()
        [problem, end] = b.receive(garbage)
        assert isinstance(problem, Problem) and problem.code == code and problem.fatal
        assert end == EndCall(code)
        assert b.receive(encode(Kind.AUDIO, bytes(320))) == []  # nothing after it is trusted
        assert b.finished(code) == [Send(HANGUP)]


def test_text_is_not_part_of_the_protocol() -> None:
    [problem] = started().receive("hello")
    assert isinstance(problem, Problem) and problem.code == "unexpected_text"


def test_hang_up_from_either_side() -> None:
    b = started()
    assert b.receive(encode(Kind.AUDIO, bytes(320)) + encode(Kind.HANGUP) + encode(Kind.AUDIO, bytes(320))) == [
        PushAudio(bytes(320)), EndCall("caller_hangup")]
    assert b.finished("caller_hangup") == []  # Asterisk hung up: nothing to tell it
    b = started()
    assert b.call_ended("idle_timeout") == [Send(HANGUP), Close()]
    assert b.finished("idle_timeout") == []
    gone = started()  # the socket went silent or dropped: hang up anyway
    assert gone.finished("disconnected") == [Send(HANGUP)]


def test_refusal_hangs_up() -> None:
    b = bridge()
    b.receive(encode(Kind.UUID, CALL.bytes))
    assert b.refused("server_busy", "full") == [Problem("server_busy", "full"), Send(HANGUP), Close()]


def test_agent_audio_goes_out_in_20_ms_messages() -> None:
    [out] = started().agent_audio(bytes(range(200)) * 4)
    assert isinstance(out.data, bytes)  # type: ignore[union-attr]
    messages = Parser().feed(out.data)  # type: ignore[union-attr,arg-type]
    assert [len(m.payload) for m in messages] == [320, 320, 160]
    assert b"".join(m.payload for m in messages) == bytes(range(200)) * 4
    assert started().agent_event(Error(code="x", message="y")) == []


def test_a_transfer_leaves_the_target_under_the_uuid_then_hangs_up() -> None:
    b = started()
    assert b.agent_event(Transfer(to="+15550142")) == [TransferCall(str(CALL), "+15550142")]
    assert b.call_ended("transferred") == [Send(HANGUP), Close()]  # AudioSocket() returns to the dialplan
    assert b.agent_event(Transfer(to="+15550142")) == []  # once ended, there is no call to hand over


def test_the_agent_hanging_up_sends_the_hangup_message() -> None:
    assert started().call_ended("agent_ended") == [Send(HANGUP), Close()]
