"""The scripted caller against a real loopback WebSocket server: an agent that hangs up (a goodbye, a
transfer) is quiet, not an error (a benchmark run once died on the agent's own goodbye). And where the
caller's speech ends, by the server's own VAD, on a sentence the benchmark plays."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from voiceagent.bench.calls.callers import path_audio
from voiceagent.bench.calls.pauses import pause_within
from voiceagent.bench.calls.voices import RATE, VoiceBank, available_voices
from voiceagent.client import Caller, speech_end


async def _greet_and_hang_up(ws: ServerConnection) -> None:
    await ws.recv()  # start
    await ws.send(json.dumps({"type": "ready"}))
    await ws.send(bytes(3200))  # 0.1 s of agent audio at 16 kHz
    await ws.send(json.dumps({"type": "ended", "reason": "agent_ended"}))
    await ws.close(1000, "agent_ended")


async def test_an_agent_that_hung_up_is_quiet() -> None:
    async with serve(_greet_and_hang_up, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with Caller(f"ws://127.0.0.1:{port}") as caller:
            await caller.start()
            await asyncio.wait_for(caller.closed.wait(), 5)
            await caller.wait_until_agent_quiet(timeout=5)  # returns: no ConnectionClosed, no timeout
            assert caller.received.of_type("ended") == [{"type": "ended", "reason": "agent_ended"}]


@pytest.mark.slow
def test_the_end_of_speech_is_found_as_the_server_hears_it_a_weak_second_half_included(tmp_path: Path) -> None:
    """"Yes, my name is ... Peter Brown." in the fast piper voice, over the phone line, with a 303 ms pause:
    analysed as one clip, Silero heard "Peter Brown." as silence (below 0.5 throughout) and the caller's
    speech ended 0.9 s early, adding that to the reply time the benchmark measured. Fed as the server
    feeds it, the end is that of "Brown"."""
    bank = VoiceBank(cache=tmp_path)
    voice = next(v for v in available_voices() if v.name == "piper-joe-fast")
    sentence = pause_within(bank.speech(voice, "Yes, my name is Peter Brown."), bank.speech(voice, "Yes, my name is"),
                            bank.speech(voice, "Peter Brown."), 303, RATE)
    audio = path_audio("phone", sentence.audio)
    end, length = speech_end(audio, 8000), len(audio) / 8000
    first_part_end = length - sentence.tail_s
    assert first_part_end + 0.5 < end <= length  # "Peter Brown." counts
    assert end >= length - 0.25  # the end of the audio, give or take its last sound's fading tail
    assert abs(speech_end(np.zeros(8000, dtype=np.float32), 8000)) == 0.0  # silence: no speech at all
