"""Asterisk's chan_websocket control messages, parsed and built without any I/O.

Media travels as binary frames in the channel's format; control travels as text, either the plain-text
form (``MEDIA_START connection_id:abc channel:WebSocket/abc/0x1 format:ulaw optimal_frame_size:160``) or,
with ``control_message_format=json``, JSON objects with an ``event`` key. Both are accepted. Commands to
Asterisk are sent in the form the peer used.
"""

from __future__ import annotations

import dataclasses
import json

from voiceagent.transports.native_protocol import ProtocolError

# Asterisk format name -> (sample rate, bytes per sample, G.711 codec or None for linear PCM)
FORMATS: dict[str, tuple[int, int, str | None]] = {
    "ulaw": (8000, 1, "ulaw"),
    "alaw": (8000, 1, "alaw"),
    "slin": (8000, 2, None),
    "slin16": (16000, 2, None),
}
MAX_CONTROL_CHARS = 8192


@dataclasses.dataclass(frozen=True, slots=True)
class Control:
    """One event from Asterisk: its name and its parameters."""

    event: str
    params: dict[str, str]
    json_form: bool

    @property
    def format(self) -> str:
        """The media format of a ``MEDIA_START`` (checked against :data:`FORMATS`)."""
        name = self.params.get("format", "ulaw").lower()
        if name not in FORMATS:
            raise ProtocolError("unsupported_media_format",
                                f"format {name!r} is not supported; configure one of {sorted(FORMATS)}")
        return name


def parse_control(text: str) -> Control:
    """Parse one text frame from Asterisk."""
    if len(text) > MAX_CONTROL_CHARS:
        raise ProtocolError("message_too_large", "control message too long")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ProtocolError("bad_json", f"control message is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            raise ProtocolError("bad_message", "JSON control messages need a string 'event'")
        fields = {k: str(v) for k, v in data.items() if k != "event" and not isinstance(v, (dict, list))}
        return Control(event=data["event"].upper(), params=fields, json_form=True)
    words = stripped.split()
    if not words:
        raise ProtocolError("bad_message", "empty control message")
    params: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition(":")
        if not sep or not key:
            raise ProtocolError("bad_message", f"expected key:value, got {word[:40]!r}")
        params[key] = value
    return Control(event=words[0].upper(), params=params, json_form=False)


def command(name: str, json_form: bool) -> str:
    """A command to Asterisk (``FLUSH_MEDIA``, ``HANGUP`` ...) in the form the peer speaks."""
    return json.dumps({"command": name}) if json_form else name
