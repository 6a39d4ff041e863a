"""The server as a real process: SIGTERM drains calls gracefully (no new calls, a grace period, records
written, exit 0); SIGKILL mid-call loses nothing but the turn in flight, and the server restarted on the
same records serves at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import free_port, recording
from voiceagent.actions.store import ActionStore
from voiceagent.client import Caller, load_audio
from voiceagent.records import read_record

pytestmark = pytest.mark.slow
# What the caller says in a turn: not a spoken "five", which tiny.en can hear as "Bye." (the agent then
# rightly ends the call, and the test has no call left to kill).
CALLER_SAYS = "one_two_three.wav"


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
    await caller.say(load_audio(recording(CALLER_SAYS), 16000))
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


async def test_sigkill_mid_call_keeps_the_record_up_to_the_last_finished_turn(server_process: ServerProcess,
                                                                             tmp_path: Path) -> None:
    """Each entry is written whole (one write) as it happens, so SIGKILL loses no finished turn; a line
    torn by the kill is skipped with a warning; the restarted server needs no recovery and serves at once."""
    async with Caller(server_process.url, 16000) as caller:
        await _one_answered_turn(caller)
        server_process.proc.kill()
        server_process.proc.wait(10)
    path = server_process.records / f"{caller.ready['call_id']}.jsonl"  # type: ignore[index]
    kinds = [e["kind"] for e in read_record(path)]
    assert kinds[0] == "start" and {"transcript", "reply", "turn_metrics"} <= set(kinds) and "end" not in kinds
    call_id = str(caller.ready["call_id"])  # type: ignore[index]
    listing = (await asyncio.to_thread(_calls_cli, server_process.records)).stdout
    assert call_id in listing and "cut off" in listing
    shown = (await asyncio.to_thread(_calls_cli, server_process.records, "show", call_id)).stdout
    assert "caller:" in shown and "agent:" in shown and "stopped abruptly" in shown

    # The kill tore the line being written (a kill can stop a write between pages): it is skipped, with a warning.
    with path.open("ab") as record:
        record.write(b'{"at": 1, "kind": "reply", "turn": 2, "text": "We are open unt')
    torn = await asyncio.to_thread(_calls_cli, server_process.records, "show", call_id)
    assert "caller:" in torn.stdout and "agent:" in torn.stdout
    assert f"warning: {call_id}.jsonl: skipped 1 unreadable line" in torn.stderr
    assert "1 unreadable line skipped" in (await asyncio.to_thread(_calls_cli, server_process.records)).stdout

    # Restarted on the same folder (with a retention period, so the start-up pruning runs too).
    stale = server_process.records / "stale.jsonl"
    stale.write_text('{"at": 0, "kind": "start"}\n')
    then = time.time() - 2 * 86400
    os.utime(stale, (then, then))
    store = ActionStore(tmp_path / "actions.db")
    store.take_message("receptionist", name="Old Caller", phone="5550100", text="old",
                       now=datetime.now() - timedelta(days=2))
    restarted = await asyncio.to_thread(ServerProcess, server_process.records, VOICEAGENT_RETENTION_DAYS="1",
                                        VOICEAGENT_ACTIONS_DB=str(store.path))
    try:
        async with Caller(restarted.url, 16000) as again:
            await again.start()  # no recovery step: the first call is taken
            await again.wait_until_agent_quiet()
            await again.say(load_audio(recording(CALLER_SAYS), 16000))  # waits for the answer
            await again.wait_until_agent_quiet()
        new_path = restarted.records / f"{again.ready['call_id']}.jsonl"  # type: ignore[index]
        for _ in range(100):  # the end is written once the server has seen the hang-up
            if any(e["kind"] == "end" for e in read_record(new_path)):
                break
            await asyncio.sleep(0.1)
        assert {"transcript", "reply", "turn_metrics", "end"} <= {e["kind"] for e in read_record(new_path)}
        for _ in range(100):  # pruned at start, on a worker thread
            if not stale.exists() and not store.messages():
                break
            await asyncio.sleep(0.1)
        assert not stale.exists() and store.messages() == [] and path.exists()
    finally:
        restarted.proc.kill()
        restarted.proc.wait(10)


def _calls_cli(records: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``voiceagent calls ...`` as a user runs it."""
    command = [sys.executable, "-m", "voiceagent", "calls", *args, "--records-dir", str(records)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
