"""The turn benchmark's caller against a loopback stand-in of the server (a protocol stand-in: it answers
every clip, and hangs up after a goodbye as the agent does): a call the agent ends is followed by a new one,
and every clip of every round is still measured."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from websockets.asyncio.server import ServerConnection, serve

from voiceagent.bench.turn import _run_mode

RATE = 16000
SPEECH = 0.3 * np.sin(np.linspace(0, 2 * np.pi * 80, RATE // 5)).astype(np.float32)  # 0.2 s of "voice"
GOODBYE_AFTER = 2  # turns: the stand-in agent hangs up after the second clip of a call
METRICS = {"type": "turn_metrics", "outcome": "answered", "turn_ms": 500.0, "timeline": {}, "budget_events": []}


async def _agent(ws: ServerConnection) -> None:
    """Answer each clip once its audio has gone quiet; end the call after the goodbye clip."""
    await ws.recv()  # start
    await ws.send(json.dumps({"type": "ready", "models": {"stt": "stand-in"}}))
    answered, voiced = 0, False
    async for message in ws:
        if not isinstance(message, bytes):
            if json.loads(message).get("type") == "stop":
                await ws.close()
                return
            continue
        loud = bool(np.abs(np.frombuffer(message, dtype=np.int16)).max(initial=0) > 1000)
        if loud:
            voiced = True
        elif voiced:  # the clip ended: answer it
            voiced = False
            answered += 1
            await ws.send(json.dumps(METRICS))
            await ws.send(bytes(3200))
            if answered == GOODBYE_AFTER:  # the goodbye plays out, then the line is closed
                await asyncio.sleep(0.5)
                await ws.send(json.dumps({"type": "ended", "reason": "agent_ended"}))
                await ws.close(1000, "agent_ended")
                return


async def test_a_call_the_agent_ends_is_followed_by_a_new_one() -> None:
    async with serve(_agent, "127.0.0.1", 0, close_timeout=0.5) as server:
        port = server.sockets[0].getsockname()[1]
        clips = [("question.wav", SPEECH), ("goodbye.wav", SPEECH), ("after.wav", SPEECH)]
        result = await _run_mode(f"ws://127.0.0.1:{port}/ws", clips, rounds=1)
    assert [t["clip"] for t in result["turns"]] == ["question.wav", "goodbye.wav", "after.wav"]
    assert all(t["answered"] for t in result["turns"])
    assert result["models"] == {"stt": "stand-in"}
