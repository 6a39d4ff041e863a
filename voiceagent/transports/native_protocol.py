"""The native WebSocket protocol's client -> server half, parsed without any I/O.

Text frames are JSON objects with a ``type``: ``start`` (``sample_rate``; optional ``persona``,
``prompt``, ``token``) and ``stop``. Binary frames are 16-bit little-endian mono PCM at the session rate.
Every violation raises :class:`ProtocolError` with a stable ``code`` that goes into the ``error`` event.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from voiceagent.config import SUPPORTED_SAMPLE_RATES

MAX_PROMPT_CHARS = 4000
PROTOCOL_VERSION = 1  # sent in ``ready``; raised when a change could break an existing client


class ProtocolError(ValueError):
    """A client message broke the protocol. ``code`` is machine-readable, the message human-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True, slots=True)
class Start:
    """Begin a call."""

    sample_rate: int
    persona: str | None = None
    prompt: str | None = None  # replaces the persona's system prompt for this call
    token: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Stop:
    """Hang up."""


ClientMessage = Start | Stop


def _optional_str(data: dict[str, object], key: str, limit: int = 200) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError("bad_message", f"'{key}' must be a string of at most {limit} characters")
    return value


def json_object(text: str, what: str = "text frames") -> dict[str, Any]:
    """Decode a frame that must be a JSON object, or raise ``bad_json``."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"{what} must be JSON objects: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", f"{what} must be JSON objects")
    return data


def parse_text(text: str) -> ClientMessage:
    """Parse one text frame."""
    data = json_object(text)
    kind = data.get("type")
    if kind == "stop":
        return Stop()
    if kind != "start":
        raise ProtocolError("unknown_type", f"unknown message type {kind!r} (expected 'start' or 'stop')")
    rate = data.get("sample_rate", 16000)
    if isinstance(rate, bool) or not isinstance(rate, int):
        raise ProtocolError("bad_message", "'sample_rate' must be an integer")
    if rate not in SUPPORTED_SAMPLE_RATES:
        raise ProtocolError(
            "unsupported_sample_rate",
            f"sample rate {rate} Hz is not supported; use one of {', '.join(map(str, SUPPORTED_SAMPLE_RATES))}",
        )
    return Start(
        sample_rate=rate,
        persona=_optional_str(data, "persona"),
        prompt=_optional_str(data, "prompt", MAX_PROMPT_CHARS),
        token=_optional_str(data, "token"),
    )


def check_audio(data: bytes, max_bytes: int) -> None:
    """Validate one binary audio frame."""
    if len(data) > max_bytes:
        raise ProtocolError("frame_too_large", f"audio frame of {len(data)} bytes is over the {max_bytes}-byte limit")
    if len(data) % 2:
        raise ProtocolError("odd_length", "audio frames must hold whole 16-bit samples (an even number of bytes)")
