"""The Twilio Media Streams session state machine, without sockets: frames in, actions out."""

from __future__ import annotations

import base64
import json
from typing import Any

from voiceagent.audio import g711
from voiceagent.events import Clear, Error, Transfer
from voiceagent.transports.bridge import (
    AcknowledgeMark,
    CallParams,
    Close,
    EndCall,
    HangUpCall,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    TransferCall,
)
from voiceagent.transports.twilio import TwilioBridge

SPEECH = bytes(range(0, 256, 3)) * 2  # G.711 bytes of every kind


def frame(event: str, **fields: Any) -> str:
    return json.dumps({"event": event, "streamSid": "MZ1", **fields})


def start_frame(encoding: str = "audio/x-mulaw", rate: int = 8000, **parameters: str) -> str:
    return frame("start", start={"streamSid": "MZ1", "callSid": "CA1", "customParameters": parameters,
                                 "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1}})


def media(payload: bytes, track: str = "inbound") -> str:
    return frame("media", media={"track": track, "payload": base64.b64encode(payload).decode()})


def started(encoding: str = "audio/x-mulaw") -> TwilioBridge:
    b = TwilioBridge()
    assert b.receive(frame("connected")) == []
    [start] = b.receive(start_frame(encoding))
    assert isinstance(start, StartCall)
    assert b.started("c1", "assistant") == []  # Media Streams has no ready message
    return b


def test_start_carries_persona_token_and_sids() -> None:
    b = TwilioBridge()
    assert b.receive(start_frame(persona="receptionist", token="t")) == [StartCall(CallParams(
        transport="twilio", sample_rate=8000, persona="receptionist",
        details={"stream_sid": "MZ1", "call_sid": "CA1"}, token="t", check_token=True))]


def test_inbound_media_is_decoded_in_the_stream_codec() -> None:
    assert started().receive(media(SPEECH)) == [PushAudio(g711.decode(SPEECH, "ulaw"))]
    assert started("audio/x-alaw").receive(media(SPEECH, "inbound_track")) == [PushAudio(g711.decode(SPEECH, "alaw"))]
    assert started().receive(media(SPEECH, "outbound")) == []  # our own audio echoed back is not the caller


def test_marks_and_keys_in_a_call() -> None:
    b = started()
    assert b.receive(frame("mark", mark={"name": "1.1"})) == [AcknowledgeMark("1.1")]
    assert b.receive(frame("dtmf", dtmf={"digit": "7"})) == [PushDtmf("7")]


def test_anything_before_start_is_ignored_and_a_second_start_is_refused() -> None:
    b = TwilioBridge()
    for early in (media(SPEECH), frame("mark", mark={"name": "1.1"}), frame("dtmf", dtmf={"digit": "1"})):
        assert b.receive(early) == []
    b = started()
    [again] = b.receive(start_frame())
    assert isinstance(again, Problem) and again.code == "already_started"


def test_malformed_frames_and_wrong_formats_are_problems() -> None:
    b = TwilioBridge()
    wrong = [b.receive(start_frame("audio/l16"))[0], b.receive(start_frame(rate=16000))[0],
             b.receive("not json")[0], b.receive(b"\x00\x01")[0], b.receive(frame("media", media={"payload": "@@"}))[0],
             b.receive(frame("dtmf", dtmf={"digit": "12"}))[0], b.receive(frame("nope"))[0]]
    assert [p.code for p in wrong if isinstance(p, Problem)] == [
        "unsupported_media_format", "unsupported_media_format", "bad_json", "unexpected_binary", "bad_payload",
        "bad_message", "unknown_event"]
    [start] = b.receive(start_frame())  # none of that spoiled the stream
    assert isinstance(start, StartCall)


def test_oversized_payload_is_refused() -> None:
    [problem] = started().receive(frame("media", media={"payload": "A" * ((1 << 20) + 4)}))
    assert isinstance(problem, Problem) and problem.code == "bad_message"


def test_hang_up_from_either_side() -> None:
    b = started()
    assert b.receive(frame("stop")) == [EndCall("caller_hangup")]
    assert b.receive(media(SPEECH)) == [] and b.finished("caller_hangup") == []
    b = started()
    assert b.call_ended("max_call_length") == [Close(1000, "max_call_length")]
    assert b.call_ended("max_call_length") == []


def test_refusals_close_the_stream() -> None:
    for code, close in (("unauthorized", Close(1008, "unauthorized")), ("server_busy", Close(1013, "server busy")),
                        ("unknown_persona", Close(1000, ""))):
        b = TwilioBridge()
        b.receive(start_frame())
        assert b.refused(code, "why") == [Problem(code, "why"), close]


def test_audio_marks_and_clear_out() -> None:
    b = started()
    pcm = g711.decode(SPEECH, "ulaw")
    [out] = b.agent_audio(pcm)
    assert isinstance(out, Send) and isinstance(out.data, str)
    sent = json.loads(out.data)
    assert sent["event"] == "media" and sent["streamSid"] == "MZ1"
    assert base64.b64decode(sent["media"]["payload"]) == g711.encode(pcm, "ulaw")
    [mark] = b.agent_mark("2.1")
    assert isinstance(mark, Send) and json.loads(str(mark.data)) == {"event": "mark", "streamSid": "MZ1",
                                                                     "mark": {"name": "2.1"}}
    [clear] = b.agent_event(Clear(turn=2, heard=""))
    assert json.loads(str(clear.data)) == {"event": "clear", "streamSid": "MZ1"}  # type: ignore[union-attr]
    assert b.agent_event(Error(code="x", message="y")) == []  # no channel for it: the log and record have it


def test_a_transfer_updates_the_call_by_its_sid_then_the_stream_closes() -> None:
    b = started()
    assert b.agent_event(Transfer(to="+15550142")) == [TransferCall("CA1", "+15550142")]
    assert b.call_ended("transferred") == [Close(1000, "transferred")]  # Twilio ends the stream itself too
    gone = started()
    gone.receive(frame("stop"))
    assert gone.agent_event(Transfer(to="+15550142")) == []  # the caller hung up first: nothing to hand over


def test_a_transfer_without_a_call_sid_is_a_problem() -> None:
    b = TwilioBridge()
    b.receive(json.dumps({"event": "start", "start": {"streamSid": "MZ1"}}))
    b.started("c1", "assistant")
    [problem] = b.agent_event(Transfer(to="+15550142"))
    assert isinstance(problem, Problem) and problem.code == "transfer_failed" and "callSid" in problem.message


def test_the_agent_hanging_up_ends_the_phone_call_before_the_stream() -> None:
    assert started().call_ended("agent_ended") == [HangUpCall("CA1"), Close(1000, "agent_ended")]
    b = started()
    assert b.receive(frame("stop")) == [EndCall("caller_hangup")]
    assert b.finished("agent_ended") == []  # the caller was gone first: nothing to hang up
