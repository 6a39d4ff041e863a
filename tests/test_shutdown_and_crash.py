"""The server as a real process: SIGTERM drains calls gracefully (no new calls, a grace period, records
written, exit 0); SIGKILL mid-call loses nothing but the turn in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, recording
from voiceagent.client import Caller, load_audio
from voiceagent.records import read_record

pytestmark = pytest.mark.slow


class ServerProcess:
    """``python -m voiceagent serve`` on loopback."""

    def __init__(self, records: Path, **env: str) -> None:
        self.port = free_port()
        self.records = records
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voiceagent", "serve", "--port", str(self.port), "--records-dir", str(records)],
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read() if self.proc.stdout else ''}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError("server did not start")

    def output(self) -> str:
        return self.proc.stdout.read() if self.proc.stdout else ""


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "calls", VOICEAGENT_SHUTDOWN_GRACE_S="2")
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        server.proc.wait(10)


async def _one_answered_turn(caller: Caller) -> None:
    await caller.start()
    await caller.wait_until_agent_quiet()
    await caller.say(load_audio(recording("fsdd_5_jackson_0.wav"), 16000))
    await caller.wait_for("turn_metrics")
    await caller.wait_until_agent_quiet()


async def test_sigterm_refuses_new_calls_drains_the_rest_and_exits_cleanly(server_process: ServerProcess) -> None:
    async with Caller(server_process.url, 16000) as caller:
        await _one_answered_turn(caller)
        server_process.proc.send_signal(signal.SIGTERM)
        await caller.silence(0.5)
        async with Caller(server_process.url, 16000) as late:  # during the grace period
            await late.send_json({"type": "start", "sample_rate": 16000})
            refused = await late.wait_for("error", timeout=10)
        keep_talking = asyncio.create_task(caller.silence(10))
        ended = await caller.wait_for("ended", timeout=15)
        keep_talking.cancel()
        await asyncio.gather(keep_talking, return_exceptions=True)
    assert refused["code"] == "server_busy"
    assert ended["reason"] == "server_shutdown"
    assert server_process.proc.wait(30) == 0
    assert "shutting down" in server_process.output()
    record = read_record(server_process.records / f"{caller.ready['call_id']}.jsonl")  # type: ignore[index]
    assert record[-1]["kind"] == "end" and record[-1]["reason"] == "server_shutdown"
    assert any(e["kind"] == "reply" for e in record)


async def test_sigkill_mid_call_keeps_the_record_up_to_the_last_finished_turn(server_process: ServerProcess) -> None:
    async with Caller(server_process.url, 16000) as caller:
        await _one_answered_turn(caller)
        server_process.proc.kill()
        server_process.proc.wait(10)
    path = server_process.records / f"{caller.ready['call_id']}.jsonl"  # type: ignore[index]
    kinds = [e["kind"] for e in read_record(path)]
    assert kinds[0] == "start" and {"transcript", "reply", "turn_metrics"} <= set(kinds) and "end" not in kinds
    call_id = str(caller.ready["call_id"])  # type: ignore[index]
    listing = await asyncio.to_thread(_calls_cli, server_process.records)
    assert call_id in listing and "cut off" in listing
    shown = await asyncio.to_thread(_calls_cli, server_process.records, "show", call_id)
    assert "caller:" in shown and "agent:" in shown and "stopped abruptly" in shown


def _calls_cli(records: Path, *args: str) -> str:
    """``voiceagent calls ...`` as a user runs it."""
    command = [sys.executable, "-m", "voiceagent", "calls", *args, "--records-dir", str(records)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
