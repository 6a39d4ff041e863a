"""Asterisk AudioSocket framing (type-length-value over TCP), without any I/O.

Each message: 1 byte type, 2 bytes big-endian payload length, payload. Types: 0x00 hang-up, 0x01 the
call's UUID (16 bytes, first), 0x03 DTMF (one ASCII digit), 0x10 audio (signed linear 16-bit, 8 kHz, mono;
little-endian, as Asterisk sends it), 0xff error (one byte of error code).
"""

from __future__ import annotations

import dataclasses
import enum
import struct
import uuid

from voiceagent.transports.native_protocol import ProtocolError

HEADER = struct.Struct(">BH")
SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms at 8 kHz, 16-bit


class Kind(enum.IntEnum):
    """AudioSocket message types."""

    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """One decoded message."""

    kind: Kind
    payload: bytes

    def call_uuid(self) -> str:
        """The UUID of a ``UUID`` message, as text."""
        if len(self.payload) != 16:
            raise ProtocolError("bad_uuid", f"UUID payload must be 16 bytes, not {len(self.payload)}")
        return str(uuid.UUID(bytes=self.payload))

    def digit(self) -> str:
        """The key of a ``DTMF`` message."""
        if len(self.payload) != 1:
            raise ProtocolError("bad_dtmf", "DTMF payload must be one byte")
        return chr(self.payload[0])


def decode_header(header: bytes) -> tuple[Kind, int]:
    """Type and payload length from the 3-byte header; unknown types raise :class:`ProtocolError`."""
    kind, length = HEADER.unpack(header)
    try:
        return Kind(kind), length
    except ValueError:
        raise ProtocolError("unknown_type", f"unknown AudioSocket message type 0x{kind:02x}") from None


def encode(kind: Kind, payload: bytes = b"") -> bytes:
    """One message on the wire."""
    if len(payload) > 0xFFFF:
        raise ValueError("AudioSocket payloads are at most 65535 bytes")
    return HEADER.pack(kind, len(payload)) + payload


class Parser:
    """Incremental decoder: feed bytes as they arrive, take whole messages out."""

    def __init__(self, max_payload: int = 0xFFFF) -> None:
        self._buffer = bytearray()
        self._max = max_payload

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; returns the messages now complete. Raises :class:`ProtocolError`."""
        self._buffer += data
        out: list[Message] = []
        while len(self._buffer) >= HEADER.size:
            kind, length = decode_header(bytes(self._buffer[: HEADER.size]))
            if length > self._max:
                raise ProtocolError("frame_too_large", f"payload of {length} bytes is over {self._max}")
            if kind is Kind.AUDIO and length % 2:
                raise ProtocolError("odd_length", "16-bit audio needs an even number of bytes")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            out.append(Message(kind, bytes(self._buffer[HEADER.size : end])))
            del self._buffer[:end]
        return out
