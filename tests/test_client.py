"""The scripted caller against a real loopback WebSocket server: an agent that hangs up (a goodbye, a
transfer) is quiet, not an error (a benchmark run once died on the agent's own goodbye)."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.server import ServerConnection, serve

from voiceagent.client import Caller


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
