"""Asterisk AudioSocket: a real TCP connection to the real server, speaking the TLV protocol as Asterisk's
AudioSocket() application does (UUID, signed linear 8 kHz audio every 20 ms, DTMF, hang-up)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Self

import numpy as np
import pytest

from tests.conftest import RunningServer, record_where, recording
from tests.speech import words
from voiceagent.client import Caller, load_audio
from voiceagent.transports.audiosocket_protocol import FRAME_BYTES, Kind, Parser, encode

pytestmark = pytest.mark.slow


class AsteriskPeer(Caller):
    """What Asterisk does on an AudioSocket() channel, with the agent's audio played on a simulated clock."""

    def __init__(self, port: int) -> None:
        super().__init__("tcp://127.0.0.1", 8000)
        self.port = port
        self.uuid = uuid.uuid4()
        self.kinds: list[Kind] = []
        self.frames: list[bytes] = []
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._writer.write(encode(Kind.UUID, self.uuid.bytes))
        self._reader = asyncio.create_task(self._read_tcp(reader))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._writer is not None
        self._writer.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read_tcp(self, reader: asyncio.StreamReader) -> None:
        parser = Parser()
        try:
            while data := await reader.read(4096):
                for message in parser.feed(data):
                    self.kinds.append(message.kind)
                    if message.kind is Kind.AUDIO:
                        self.frames.append(message.payload)
                        self._heard(len(message.payload) // 2, time.monotonic())
                self._changed.set()
        finally:
            self.closed.set()
            self._changed.set()

    async def send_raw(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def _send_frame(self, pcm: bytes) -> None:
        await self.send_raw(encode(Kind.AUDIO, pcm))


async def test_an_asterisk_call_is_answered_over_audiosocket(server: RunningServer) -> None:
    speech = load_audio(recording("fsdd_7_nicolas_0.wav"), 8000)
    async with AsteriskPeer(server.settings.audiosocket_port) as peer:
        await peer.wait_until_agent_quiet()  # the greeting
        greeting_frames = len(peer.frames)
        _, first_audio = await peer.say(speech)
        assert first_audio is not None, "no agent audio after the caller spoke"
        await peer.wait_until_agent_quiet()
        reply = np.frombuffer(b"".join(peer.frames[greeting_frames:]), dtype="<i2").astype(np.float32) / 32768
        await peer.send_raw(encode(Kind.DTMF, b"5"))
        await peer.silence(2.0)
        await peer.wait_until_agent_quiet()
        await peer.send_raw(encode(Kind.HANGUP))
        await asyncio.wait_for(peer.closed.wait(), 10)

    assert greeting_frames > 0
    assert all(0 < len(f) <= FRAME_BYTES and len(f) % 2 == 0 for f in peer.frames)  # 20 ms frames at most
    assert float(np.sqrt(np.mean(reply**2))) > 0.01
    record = record_where(server.settings.records_dir, "asterisk_uuid", str(peer.uuid))
    said = [words(str(e["text"])) for e in record if e["kind"] == "transcript"]
    assert any(w in said[0].split() for w in ("seven", "7")), said
    assert "caller pressed 5" in said[-1]
    assert record[-1]["reason"] == "caller_hangup"


async def test_a_broken_stream_ends_only_its_own_call(server: RunningServer) -> None:
    async with AsteriskPeer(server.settings.audiosocket_port) as peer:
        await peer.silence(0.5)
        await peer.send_raw(b"\x42\x00\x01x")  # an unknown message type: the stream is out of step
        await asyncio.wait_for(peer.closed.wait(), 10)
    record = record_where(server.settings.records_dir, "asterisk_uuid", str(peer.uuid))
    assert [e["code"] for e in record if e["kind"] == "error"] == ["unknown_type"]
    assert record[-1]["reason"] == "unknown_type"
    assert peer.kinds[-1] is Kind.HANGUP  # Asterisk is told to hang up
    # the server still answers a new call
    async with AsteriskPeer(server.settings.audiosocket_port) as again:
        await again.wait_until_agent_quiet()
        assert again.frames
