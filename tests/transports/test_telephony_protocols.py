"""The telephony wire parsers (Twilio Media Streams, AudioSocket, chan_websocket control): known messages
parse to what they mean, and any random or malformed input either parses or raises ProtocolError with a
code: nothing else ever escapes (hypothesis)."""

from __future__ import annotations

import base64
import json
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.transports import twilio_protocol as tw
from voiceagent.transports.asterisk_ws_protocol import Control, command, parse_control
from voiceagent.transports.audiosocket_protocol import Kind, Parser, encode
from voiceagent.transports.native_protocol import ProtocolError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=16,
)
TWILIO_EVENTS = ["connected", "start", "media", "dtmf", "mark", "stop", "other"]


# ------------------------------------------------------------------ Twilio
def test_twilio_messages_parse_to_their_meaning() -> None:
    start = tw.parse_message(json.dumps({"event": "start", "streamSid": "MZ1", "start": {
        "streamSid": "MZ1", "callSid": "CA1", "customParameters": {"persona": "assistant"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
    assert start == tw.StreamStart("MZ1", "CA1", "ulaw", 8000, {"persona": "assistant"})
    media = tw.parse_message(json.dumps({"event": "media", "media": {"payload": base64.b64encode(b"\xff" * 160).decode()}}))
    assert isinstance(media, tw.Media) and media.payload == b"\xff" * 160
    assert tw.parse_message('{"event":"dtmf","dtmf":{"digit":"7"}}') == tw.Dtmf("7")
    assert tw.parse_message('{"event":"mark","mark":{"name":"3.1"}}') == tw.MarkPlayed("3.1")
    assert json.loads(tw.clear_message("MZ1")) == {"event": "clear", "streamSid": "MZ1"}
    assert json.loads(tw.mark_message("MZ1", "a"))["mark"] == {"name": "a"}


def _check_twilio(raw: str | bytes) -> None:
    try:
        message = tw.parse_message(raw)
    except ProtocolError as exc:
        assert exc.code and exc.message
    else:
        assert isinstance(message, tw.Connected | tw.StreamStart | tw.Media | tw.Dtmf | tw.MarkPlayed | tw.StreamStop)


@given(st.text(max_size=300) | st.binary(max_size=100))
def test_twilio_arbitrary_frames(raw: str | bytes) -> None:
    _check_twilio(raw)


@settings(max_examples=400)
@given(st.sampled_from(TWILIO_EVENTS), st.dictionaries(st.sampled_from(
    ["start", "media", "dtmf", "mark", "streamSid", "payload", "mediaFormat", "customParameters", "digit", "name"]),
    json_values, max_size=5))
def test_twilio_structured_but_wrong(event: str, body: dict[str, object]) -> None:
    _check_twilio(json.dumps({"event": event, **body}))
    for key in ("start", "media", "dtmf", "mark"):
        _check_twilio(json.dumps({"event": event, key: body}))


# ------------------------------------------------------------------ AudioSocket
def test_audiosocket_frames_survive_any_split() -> None:
    call = uuid.uuid4()
    stream = encode(Kind.UUID, call.bytes) + encode(Kind.AUDIO, bytes(320)) + encode(Kind.DTMF, b"#") + encode(Kind.HANGUP)
    for cut in range(1, len(stream)):
        parser = Parser()
        messages = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert [m.kind for m in messages] == [Kind.UUID, Kind.AUDIO, Kind.DTMF, Kind.HANGUP]
        assert messages[0].call_uuid() == str(call) and messages[2].digit() == "#"


@given(st.lists(st.binary(max_size=80), max_size=8))
def test_audiosocket_arbitrary_bytes(chunks: list[bytes]) -> None:
    parser = Parser(max_payload=4096)
    try:
        for chunk in chunks:
            for message in parser.feed(chunk):
                assert isinstance(message.kind, Kind)
                if message.kind is Kind.UUID:
                    try:
                        message.call_uuid()
                    except ProtocolError as exc:
                        assert exc.code == "bad_uuid"
    except ProtocolError as exc:
        assert exc.code in {"unknown_type", "frame_too_large", "odd_length"}


# ------------------------------------------------------------------ chan_websocket
def test_chan_websocket_control_in_both_forms() -> None:
    plain = parse_control("MEDIA_START connection_id:abc channel:WebSocket/abc/0x1 format:slin16 optimal_frame_size:640")
    assert plain == Control("MEDIA_START", {"connection_id": "abc", "channel": "WebSocket/abc/0x1",
                                            "format": "slin16", "optimal_frame_size": "640"}, False)
    assert plain.format == "slin16"
    as_json = parse_control('{"event":"DTMF_END","digit":"5","channel_id":"1.2"}')
    assert as_json.event == "DTMF_END" and as_json.params["digit"] == "5" and as_json.json_form
    assert command("FLUSH_MEDIA", False) == "FLUSH_MEDIA"
    assert json.loads(command("HANGUP", True)) == {"command": "HANGUP"}


@given(st.text(max_size=300))
def test_chan_websocket_arbitrary_text(text: str) -> None:
    try:
        control = parse_control(text)
        if control.event == "MEDIA_START":
            control.format  # noqa: B018 - may raise for an unsupported format
    except ProtocolError as exc:
        assert exc.code in {"bad_json", "bad_message", "message_too_large", "unsupported_media_format"}
    else:
        assert control.event == control.event.upper()


@given(json_values)
def test_chan_websocket_arbitrary_json(value: object) -> None:
    try:
        parse_control(json.dumps(value) if not isinstance(value, dict) else json.dumps({"event": "X", **value}))
    except ProtocolError as exc:
        assert exc.code in {"bad_json", "bad_message", "message_too_large"}
