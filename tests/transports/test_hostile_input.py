"""Random and malformed input on every endpoint at once (native, Twilio, chan_websocket, AudioSocket)
while a real caller talks: the caller is still answered, and the server still serves new calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import RunningServer, recording
from voiceagent.client import Caller, load_audio

pytestmark = pytest.mark.slow


def _garbage(rng: random.Random) -> str | bytes:
    choices: list[str | bytes] = [
        rng.randbytes(rng.randint(0, 3000)),
        "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 200))),
        json.dumps({"event": rng.choice(["start", "media", "mark", "dtmf", "stop"]),
                    "start": {"mediaFormat": rng.choice([None, 3, "x", {"encoding": "audio/x-mulaw"}])},
                    "media": {"payload": rng.choice(["", "@@", "AAAA", 5])}}),
        json.dumps({"type": rng.choice(["start", "stop", "nope"]), "sample_rate": rng.choice([8000, 7, "x", None])}),
        rng.choice(["MEDIA_START format:ulaw", "MEDIA_START format:opus", "DTMF_END digit:", "HANGUP", ": :"]),
        "[" * 5000,
    ]
    return rng.choice(choices)


async def _websocket_vandal(url: str, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(6):
        with contextlib.suppress(ConnectionClosed, InvalidStatus, OSError):
            async with connect(url, close_timeout=0.5) as ws:  # it reads nothing: the server's close waits unread
                for _ in range(rng.randint(1, 40)):
                    await ws.send(_garbage(rng))
                await asyncio.sleep(0.05)


async def _tcp_vandal(port: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(6):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(rng.randint(1, 20)):
                writer.write(rng.choice([rng.randbytes(rng.randint(0, 500)), b"\x01\x00\x10" + rng.randbytes(16),
                                         b"\x10\x00\x03abc", b"\x10\xff\xff"]))
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()


async def test_vandals_on_every_endpoint_do_not_hurt_a_real_call(server: RunningServer) -> None:
    base = server.url.removesuffix("/ws")
    speech = load_audio(recording("fsdd_6_jackson_0.wav"), 16000)
    vandals = [asyncio.create_task(_websocket_vandal(base + path, seed))
               for seed, path in enumerate(["/ws", "/twilio", "/asterisk", "/nowhere"])]
    vandals.append(asyncio.create_task(_tcp_vandal(server.settings.audiosocket_port, 99)))
    async with Caller(server.url, 16000) as caller:
        await caller.start()
        await caller.wait_until_agent_quiet()
        _, first_audio = await caller.say(speech)
        await asyncio.gather(*vandals)
        await caller.wait_until_agent_quiet()
    assert first_audio is not None, "the real caller was not answered while vandals were connected"
    said = " ".join(caller.received.final_transcripts().values()).lower()
    assert "six" in said or "6" in said
    async with Caller(server.url, 16000) as after:  # and the server still takes new calls
        ready = await after.start()
    assert ready["type"] == "ready"
