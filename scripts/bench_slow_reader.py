#!/usr/bin/env python3
"""What a caller that stops reading costs everyone else (issue 17's back-pressure goal), measured on one
real server with the product's defaults: a caller asks questions in turns while a second call runs beside
it, first one that reads normally, then one that stops reading after its first message (a tiny receive
buffer and a full receive queue: the server's writes back up). Printed per phase: the first caller's
reply at the client (p50 and p95, ms, fillers counted apart as in ``bench calls``), the server's own
``reply_ms``, and the server's resident memory before and after. A warm-up phase (two calls answered at
once) comes first: the first concurrent turns grow the model's buffers by a few hundred MB either way.

    .venv/bin/python scripts/bench_slow_reader.py [--turns 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import socket
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from voiceagent.audio.pcm import float_to_pcm16
from voiceagent.bench.calls.server import serving
from voiceagent.client import Caller, load_audio
from voiceagent.soak.server_probe import http_base, sample

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "audio"
RATE = 16000


def questions() -> list[np.ndarray]:
    """The recordings of real people the project has (digits and a short sentence)."""
    files = sorted(AUDIO.glob("fsdd_*.wav")) + [AUDIO / "one_two_three.wav"]
    return [load_audio(f, RATE) for f in files if f.exists()]


async def companion(url: str, words: np.ndarray, *, reads: bool, seconds: float) -> None:
    """The call beside: says ``words`` a second in, then keeps the line open with silence."""
    address = urlsplit(url)
    sock = socket.socket()
    if not reads:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    async with connect(url, sock=sock, max_queue=1 if not reads else 64) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": RATE}))
        await ws.recv()
        reader = asyncio.create_task(_drain(ws)) if reads else None
        pcm = bytes(2 * RATE) + float_to_pcm16(words) + bytes(int(2 * RATE * seconds))
        try:
            for offset in range(0, len(pcm), 640):
                await ws.send(pcm[offset : offset + 640])
                await asyncio.sleep(0.02)
        except (ConnectionClosed, asyncio.CancelledError):  # cut off by the server, or the phase is over
            pass
        if reader is not None:
            reader.cancel()


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def phase(url: str, qs: list[np.ndarray], turns: int, companion_reads: bool | None) -> dict[str, object]:
    """One caller's ``turns`` questions, with a companion that reads, one that does not, or none."""
    base = http_base(url)
    before = await sample(base)
    beside = None
    if companion_reads is not None:
        beside = asyncio.create_task(companion(url, qs[0], reads=companion_reads, seconds=10.0 * turns))
    client_ms: list[float] = []
    async with Caller(url, RATE) as caller:
        await caller.start()
        await caller.wait_until_agent_quiet()
        for i in range(turns):
            spoke_end, first = await caller.say(qs[(i + 1) % len(qs)])
            if first is not None:
                client_ms.append((first - spoke_end) * 1000)
            await caller.wait_until_agent_quiet()
        metrics = caller.received.of_type("turn_metrics")
    if beside is not None:
        beside.cancel()
        await asyncio.gather(beside, return_exceptions=True)
    after = await sample(base)
    reply = [float(m["reply_ms"]) for m in metrics if m.get("reply_ms") is not None]
    return {"first_audio_ms": _p(client_ms), "server_reply_ms": _p(reply),
            "fillers": sum(1 for m in metrics if m.get("filler")), "turns": len(metrics),
            "rss_mb": (round(before["rss_mb"]), round(after["rss_mb"]))}


def _p(xs: list[float]) -> tuple[float, float] | None:
    if not xs:
        return None
    return round(statistics.median(xs)), round(float(np.percentile(xs, 95)))


async def run(url: str, turns: int) -> None:
    qs = questions()
    await phase(url, qs, 2, companion_reads=True)  # warm-up: two calls answered at once
    for name, reads in (("reading companion", True), ("companion stops reading", False)):
        result = await phase(url, qs, turns, companion_reads=reads)
        print(f"{name:26s} {json.dumps(result)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores")
    with tempfile.TemporaryDirectory() as records, serving(Path(records)) as server:
        print(f"models: {server['health'].get('models')}")
        asyncio.run(run(f"{server['url']}/ws", args.turns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
