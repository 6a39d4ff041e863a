"""Asterisk chan_websocket at /asterisk: what Asterisk sends after Dial(WebSocket/...) (MEDIA_START, binary
G.711 or slin16 media, DTMF_END), over a real socket into the real server."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RunningServer, record_where, recording
from tests.speech import espeak, words
from voiceagent.audio import g711
from voiceagent.client import Caller, load_audio

pytestmark = pytest.mark.slow


class AsteriskChannel(Caller):
    """An Asterisk WebSocket channel: media in the channel's format, commands kept as events."""

    def __init__(self, url: str, fmt: str) -> None:
        super().__init__(url, 16000 if fmt == "slin16" else 8000)
        self.fmt = fmt
        self.commands: list[str] = []

    async def _send_frame(self, pcm: bytes) -> None:
        await self.ws.send(g711.encode(pcm, "ulaw") if self.fmt == "ulaw" else pcm)

    def _handle(self, message: str | bytes, now: float) -> None:
        if isinstance(message, bytes):
            samples = len(message) if self.fmt == "ulaw" else len(message) // 2
            self._heard(samples, now)
            return
        name = json.loads(message)["command"] if message.startswith("{") else message
        self.commands.append(name)
        self._event({"type": name}, now)


def url(server: RunningServer) -> str:
    return server.url.removesuffix("/ws") + "/asterisk"


async def test_an_asterisk_websocket_channel_is_answered_and_barge_in_flushes(server: RunningServer) -> None:
    question = espeak("Can you tell me about your prices and your opening hours", 8000)
    interruption = load_audio(recording("one_two_three.wav"), 8000)
    async with AsteriskChannel(url(server), "ulaw") as chan:
        await chan.ws.send("MEDIA_START connection_id:vatest1 channel:WebSocket/vatest1/0x1 format:ulaw "
                           "optimal_frame_size:160 ptime:20")
        await chan.wait_until_agent_quiet()
        _, first_audio = await chan.say(question)
        assert first_audio is not None
        await chan.silence(0.3)
        await chan.speak(interruption)
        await chan.wait_for("FLUSH_MEDIA")
        await chan.wait_until_agent_quiet()
        await chan.ws.send("DTMF_END digit:9")
        await chan.silence(2.0)
        await chan.wait_until_agent_quiet()
    record = record_where(server.settings.records_dir, "connection_id", "vatest1")
    said = [words(str(e["text"])) for e in record if e["kind"] == "transcript"]
    # the words that tiny.en hears in every run of this 8 kHz espeak voice ("prices" comes out as "pricing",
    # "private" or "price is", depending on the silence before the turn)
    assert any("tell me" in s and "opening" in s for s in said), said
    assert any(e["kind"] == "interrupted" for e in record)
    assert "caller pressed 9" in said[-1]
    assert record[0]["transport"] == "asterisk_ws" and record[-1]["reason"] == "caller_hangup"


async def test_json_control_and_wideband_slin16(server: RunningServer) -> None:
    speech = load_audio(recording("jfk.flac"), 16000)[: 16000 * 3]
    async with AsteriskChannel(url(server), "slin16") as chan:
        await chan.ws.send(json.dumps({"event": "MEDIA_START", "connection_id": "vatest2", "format": "slin16",
                                       "optimal_frame_size": 640, "ptime": 20, "channel_variables": {}}))
        await chan.wait_until_agent_quiet()
        await chan.ws.send("DTMF_END")  # no digit: ignored
        await chan.ws.send("garbage without colon")
        await chan.say(speech)
        await chan.wait_until_agent_quiet()
        heard = sum(n for _, n in chan.received.audio) / 2 / 16000
    assert heard > 1.0  # greeting and answer, at 16 kHz
    record = record_where(server.settings.records_dir, "connection_id", "vatest2")
    assert record[0]["sample_rate"] == 16000
    # the clip ends 3 s in, inside "Americans": tiny.en writes "America" or "Americans"
    assert "fellow america" in words(" ".join(str(e["text"]) for e in record if e["kind"] == "transcript"))
    assert [e["code"] for e in record if e["kind"] == "error"] == ["bad_message"]
