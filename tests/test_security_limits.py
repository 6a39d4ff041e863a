"""Who gets in and how much they may do, against the real server on loopback: the token (header, query,
start message, TwiML parameter), the Origin check, the call limit (close 1013), idle and input-rate limits,
a crowd of callers with a slow reader among them, and a caller that stops reading altogether."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import RunningServer, free_port, recording, run_server
from voiceagent.audio.pcm import FloatAudio, float_to_pcm16
from voiceagent.client import Caller, load_audio
from voiceagent.config import ConfigError, load_settings
from voiceagent.records import read_record
from voiceagent.security import check_exposure
from voiceagent.twilio_client import TwilioCaller

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = load_settings(env={}, overrides={
        "port": free_port(), "records_dir": str(tmp_path_factory.mktemp("guarded")), "auth_token": TOKEN,
        "max_calls": 2, "idle_timeout_s": 3.0, "temperature": 0.0,
        "send_stall_s": 6.0, "send_buffer_bytes": 16384,  # a peer that stops reading is found in seconds
    })
    with run_server(settings) as running:
        yield running


def test_a_server_beyond_loopback_needs_a_token_or_an_explicit_insecure() -> None:
    with pytest.raises(ConfigError, match="auth token"):
        check_exposure(load_settings(env={}, overrides={"host": "0.0.0.0"}))
    check_exposure(load_settings(env={}, overrides={"host": "0.0.0.0", "auth_token": "x"}))
    check_exposure(load_settings(env={}, overrides={"host": "0.0.0.0", "insecure": True}))
    result = subprocess.run([sys.executable, "-m", "voiceagent", "serve", "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "without an auth token" in result.stderr and "Traceback" not in result.stderr


async def test_the_token_is_required_wherever_it_can_be_given(guarded: RunningServer) -> None:
    # no token at all: the handshake may go ahead (the token can come in `start`), the call may not
    async with connect(guarded.url) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        event = json.loads(await ws.recv())
        assert event["type"] == "error" and event["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # a wrong token in the handshake is refused outright
    with pytest.raises(InvalidStatus) as refused:
        async with connect(guarded.url, additional_headers={"Authorization": "Bearer nope"}):
            pass
    assert refused.value.response.status_code == 401
    # the right token: in the header, the query, or the start message
    for url, headers, start in ((guarded.url, {"Authorization": f"Bearer {TOKEN}"}, {}),
                                (guarded.url + f"?token={TOKEN}", {}, {}),
                                (guarded.url, {}, {"token": TOKEN})):
        async with connect(url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000, **start}))
            assert json.loads(await ws.recv())["type"] == "ready"
    # Twilio carries it as a custom parameter
    async with TwilioCaller(guarded.url.removesuffix("/ws") + "/twilio") as caller:
        await caller.start(token="wrong")
        await asyncio.wait_for(caller.closed.wait(), 10)
    assert caller.ws.close_code == 1008 and not caller.media
    await asyncio.to_thread(_metrics_need_the_token, guarded)


def _metrics_need_the_token(guarded: RunningServer) -> None:
    """/metrics is protected too; /healthz is not."""
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(guarded.http + "/metrics", timeout=5)
    assert denied.value.code == 401
    request = urllib.request.Request(guarded.http + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert b"voiceagent_auth_failures_total" in urllib.request.urlopen(request, timeout=5).read()
    assert urllib.request.urlopen(guarded.http + "/healthz", timeout=5).status == 200


async def test_cross_site_websocket_hijacking_is_refused(guarded: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(guarded.url, additional_headers=headers, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    same_origin = f"http://127.0.0.1:{guarded.settings.port}"
    async with connect(guarded.url, additional_headers=headers, origin=same_origin) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        assert json.loads(await ws.recv())["type"] == "ready"


async def test_the_call_limit_refuses_cleanly_and_a_crowd_with_a_slow_reader_stays_bounded(
    guarded: RunningServer,
) -> None:
    url = guarded.url + f"?token={TOKEN}"
    question = load_audio(recording("one_two_three.wav"), 16000)
    rss_before = await asyncio.to_thread(_rss_mb, guarded)
    # a slow reader: a call whose client never reads (its receive queue fills, then TCP pushes back)
    async with connect(url, max_queue=1, close_timeout=0.5) as slow:  # the server's close waits unread
        await slow.send(json.dumps({"type": "start", "sample_rate": 16000}))
        async with Caller(url, 16000) as caller:
            await caller.start()
            # the caller's line stays open meanwhile (the fixture ends calls after 3 s without audio)
            line = asyncio.create_task(caller.silence(60))
            # more clients than the limit: every one is refused at once with 1013, none hangs
            crowd = [connect(url) for _ in range(4)]
            refused = 0
            for attempt in crowd:
                async with attempt as extra:
                    await extra.send(json.dumps({"type": "start", "sample_rate": 16000}))
                    event = json.loads(await asyncio.wait_for(extra.recv(), 5))
                    assert event["code"] == "server_busy"
                    with pytest.raises(ConnectionClosed) as closed:
                        await asyncio.wait_for(extra.recv(), 5)
                    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
                    refused += 1
            # readiness says so too (a load balancer sends new calls elsewhere); liveness does not
            with pytest.raises(urllib.error.HTTPError) as not_ready:
                await asyncio.to_thread(urllib.request.urlopen, guarded.http + "/readyz", timeout=5)
            status = json.loads(not_ready.value.read())
            assert not_ready.value.code == 503 and status["ready"] is False and status["active"] == 2
            health = json.loads(await asyncio.to_thread(lambda: urllib.request.urlopen(guarded.http + "/healthz").read()))
            assert health["calls"]["spare"] == 0 and health["calls"]["max_calls"] == 2
            # meanwhile the slow reader keeps streaming, and the well-behaved caller is answered
            pacer = asyncio.create_task(_stream_silence(slow, 16000, seconds=8))
            line.cancel()
            await asyncio.gather(line, return_exceptions=True)
            await caller.wait_until_agent_quiet()
            _, first_audio = await caller.say(question)
            pacer.cancel()
            await asyncio.gather(pacer, return_exceptions=True)
    assert refused == 4
    assert first_audio is not None, (f"the well-behaved call was not answered beside the slow reader: "
                                     f"{[e for _, e in caller.received.events if e.get('type') != 'audio'][-12:]}")
    assert await asyncio.to_thread(_rss_mb, guarded) - rss_before < 150  # nothing piles up for the slow reader


async def test_a_caller_that_stops_reading_is_still_heard_then_cut_off_and_others_are_served(
    guarded: RunningServer,
) -> None:
    """Receiving never waits on sending: the non-reader's words are transcribed while the agent's answer
    to them cannot go out; after ``send_stall_s`` of a write going nowhere the call ends with
    ``peer_not_reading`` in its record. Meanwhile another caller is answered. (What it costs the other
    call and the server's memory is measured by scripts/bench_slow_reader.py, not asserted here.)"""
    url = guarded.url + f"?token={TOKEN}"
    question = load_audio(recording("one_two_three.wav"), 16000)
    address = urlsplit(guarded.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel pushes back after a few KB
    sock.connect((address.hostname, address.port))
    async with connect(url, sock=sock, max_queue=1) as deaf:
        await deaf.send(json.dumps({"type": "start", "sample_rate": 16000}))
        call_id = json.loads(await deaf.recv())["call_id"]  # the only message it ever reads
        words = np.concatenate([np.zeros(16000, dtype=np.float32), question])  # over the greeting it cannot hear
        talker = asyncio.create_task(_stream_silence(deaf, 16000, seconds=20, words=words))
        async with Caller(url, 16000) as caller:
            await caller.start()
            await caller.wait_until_agent_quiet()
            _, first_audio = await caller.say(question)
        record_path = Path(guarded.settings.records_dir) / f"{call_id}.jsonl"
        record: list[dict[str, object]] = []
        for _ in range(300):
            record = read_record(record_path) if record_path.exists() else []
            if record and record[-1]["kind"] == "end":
                break
            await asyncio.sleep(0.1)
        talker.cancel()
        await asyncio.gather(talker, return_exceptions=True)
    assert first_audio is not None, "the other call was not answered beside the caller that stopped reading"
    assert record and record[-1]["kind"] == "end" and record[-1]["reason"] == "peer_not_reading", record[-1:]
    assert any(e["kind"] == "transcript" and str(e["text"]).strip() for e in record)  # heard while stalled


async def test_idle_and_too_fast_callers_are_ended_with_a_reason_in_the_record(guarded: RunningServer) -> None:
    url = guarded.url + f"?token={TOKEN}"
    async with Caller(url, 16000) as idle:
        await idle.start()
        ended = await idle.wait_for("ended", timeout=15)  # sends nothing at all
    assert ended["reason"] == "idle_timeout"
    async with Caller(url, 16000) as flood:
        await flood.start()
        noise = np.zeros(16000 * 15, dtype=np.int16).tobytes()  # 15 s of audio, sent at once
        for offset in range(0, len(noise), 3200):
            await flood.ws.send(noise[offset : offset + 3200])
        error = await flood.wait_for("error", timeout=10)
        ended = await flood.wait_for("ended", timeout=10)
    assert error["code"] == "input_too_fast" and ended["reason"] == "input_too_fast"
    for caller, reason in ((idle, "idle_timeout"), (flood, "input_too_fast")):
        record = read_record(Path(guarded.settings.records_dir) / f"{caller.ready['call_id']}.jsonl")  # type: ignore[index]
        assert record[-1]["kind"] == "end" and record[-1]["reason"] == reason


async def _stream_silence(ws: object, rate: int, seconds: float, words: FloatAudio | None = None) -> None:
    """Real-time caller audio in 20 ms frames: any ``words``, then ``seconds`` of silence."""
    pcm = (float_to_pcm16(words) if words is not None else b"") + bytes(2 * int(rate * seconds))
    step = 2 * rate // 50
    for offset in range(0, len(pcm), step):
        await ws.send(pcm[offset : offset + step])  # type: ignore[attr-defined]
        await asyncio.sleep(0.02)


def _rss_mb(server: RunningServer) -> float:
    request = urllib.request.Request(server.http + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    for line in urllib.request.urlopen(request, timeout=5).read().decode().splitlines():
        if line.startswith("process_resident_memory_bytes"):
            return float(line.split()[1]) / 1e6
    raise AssertionError("no process_resident_memory_bytes in /metrics")
