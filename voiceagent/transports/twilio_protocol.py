"""Twilio Media Streams (bidirectional), parsed and built without any I/O.

Inbound text frames are JSON with an ``event``: ``connected``, ``start`` (stream and call SIDs, media
format, custom parameters), ``media`` (base64 audio, 8 kHz mu-law), ``dtmf``, ``mark`` (a mark we sent has
been played) and ``stop``. Outbound: ``media``, ``mark`` and ``clear``. Telnyx, SignalWire and Plivo speak
the same shape. Every violation raises :class:`ProtocolError`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

from voiceagent.audio.g711 import G711Codec
from voiceagent.transports.native_protocol import ProtocolError, json_object

_ENCODINGS: dict[str, G711Codec] = {"audio/x-mulaw": "ulaw", "audio/pcmu": "ulaw", "audio/x-alaw": "alaw",
                                    "audio/pcma": "alaw"}
MAX_PARAMETERS = 32


@dataclasses.dataclass(frozen=True, slots=True)
class Connected:
    """The socket is up; ``start`` follows."""


@dataclasses.dataclass(frozen=True, slots=True)
class StreamStart:
    """The stream's metadata."""

    stream_sid: str
    call_sid: str
    codec: G711Codec
    sample_rate: int
    parameters: dict[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Media:
    """One chunk of caller audio (G.711 bytes)."""

    payload: bytes
    track: str


@dataclasses.dataclass(frozen=True, slots=True)
class Dtmf:
    """A keypad press."""

    digit: str


@dataclasses.dataclass(frozen=True, slots=True)
class MarkPlayed:
    """A mark we sent: everything before it has been played to the caller."""

    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class StreamStop:
    """The call is over (caller hung up, or the stream was stopped)."""


TwilioMessage = Connected | StreamStart | Media | Dtmf | MarkPlayed | StreamStop


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ProtocolError("bad_message", f"'{key}' must be an object")
    return value


def _string(data: dict[str, Any], key: str, limit: int = 256) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError("bad_message", f"'{key}' must be a string of at most {limit} characters")
    return value


def parse_message(text: str | bytes) -> TwilioMessage:
    """Parse one inbound frame."""
    if isinstance(text, bytes):
        raise ProtocolError("unexpected_binary", "Media Streams frames are JSON text")
    data = json_object(text, "Media Streams frames")
    event = data.get("event")
    if event == "connected":
        return Connected()
    if event == "start":
        start = _object(data, "start")
        fmt = start.get("mediaFormat") or {"encoding": "audio/x-mulaw", "sampleRate": 8000}
        if not isinstance(fmt, dict):
            raise ProtocolError("bad_message", "'mediaFormat' must be an object")
        encoding = str(fmt.get("encoding", "")).lower()
        rate = fmt.get("sampleRate", 8000)
        if encoding not in _ENCODINGS or rate != 8000:
            raise ProtocolError("unsupported_media_format",
                                f"only 8 kHz mu-law or A-law is supported, not {encoding!r} at {rate!r} Hz")
        params = start.get("customParameters") or {}
        if not isinstance(params, dict) or len(params) > MAX_PARAMETERS:
            raise ProtocolError("bad_message", f"'customParameters' must be an object of at most {MAX_PARAMETERS}")
        return StreamStart(
            stream_sid=_string(start, "streamSid") if "streamSid" in start else _string(data, "streamSid"),
            call_sid=str(start.get("callSid", ""))[:256],
            codec=_ENCODINGS[encoding],
            sample_rate=8000,
            parameters={str(k)[:64]: str(v)[:4000] for k, v in params.items()},
        )
    if event == "media":
        media = _object(data, "media")
        try:
            payload = base64.b64decode(_string(media, "payload", 1 << 20), validate=True)
        except binascii.Error:
            raise ProtocolError("bad_payload", "media payload is not valid base64") from None
        return Media(payload=payload, track=str(media.get("track", "inbound")))
    if event == "dtmf":
        digit = _string(_object(data, "dtmf"), "digit", 1)
        return Dtmf(digit=digit)
    if event == "mark":
        return MarkPlayed(name=_string(_object(data, "mark"), "name"))
    if event == "stop":
        return StreamStop()
    raise ProtocolError("unknown_event", f"unknown event {event!r}")


def media_message(stream_sid: str, payload: bytes) -> str:
    """Outbound audio: G.711 bytes for the caller to hear."""
    return json.dumps({"event": "media", "streamSid": stream_sid,
                       "media": {"payload": base64.b64encode(payload).decode("ascii")}})


def mark_message(stream_sid: str, name: str) -> str:
    """Ask to be told (a ``mark`` back) when the audio sent so far has been played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Drop all audio buffered for the caller (barge-in)."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})
