"""Shared fixtures: real recordings, and one real server (real models, real socket) per test session."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voiceagent.config import Settings, load_settings

SHARED_AUDIO = Path(os.environ.get("VOICEAGENT_TEST_AUDIO", Path(__file__).resolve().parents[2] / "shared" / "audio"))


def recording(name: str) -> Path:
    """A real recording from ../shared/audio (skips the test if the folder is missing)."""
    path = SHARED_AUDIO / name
    if not path.is_file():
        pytest.skip(f"recording {path} not found")
    return path


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A free TCP (or, with SOCK_DGRAM, UDP) port on loopback."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class RunningServer:
    """A voiceagent server running in a background thread with its own event loop."""

    settings: Settings
    url: str
    http: str
    loop: asyncio.AbstractEventLoop


@contextlib.contextmanager
def run_server(settings: Settings, *, sip: bool = False) -> Iterator[RunningServer]:
    """Start the real server (real engines) on loopback in a thread; stop it afterwards."""
    from voiceagent.app import run_server as serve

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    async def main() -> None:
        started = asyncio.Event()
        task = asyncio.create_task(serve(settings, started, sip=sip))
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            failure.append(task.exception() or RuntimeError("server stopped"))
            ready.set()
            return
        ready.set()
        await task

    def target() -> None:
        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    ready.wait(600)
    if failure:
        raise failure[0]
    try:
        yield RunningServer(settings, f"ws://127.0.0.1:{settings.port}/ws", f"http://127.0.0.1:{settings.port}", loop)
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(30)


def record_where(records_dir: str | Path, key: str, value: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The call record whose ``start`` entry has ``key == value`` (transports without a call_id event),
    once its ``end`` entry is written."""
    return records_where(records_dir, key, value, count=1, timeout=timeout)[0]


def records_where(records_dir: str | Path, key: str, value: str, *, count: int,
                  timeout: float = 10.0) -> list[list[dict[str, Any]]]:
    """``count`` finished call records whose ``start`` entry has ``key == value``."""
    from voiceagent.records import read_record

    deadline = time.monotonic() + timeout
    while True:
        found = [entries for path in Path(records_dir).glob("*.jsonl")
                 if (entries := read_record(path)) and entries[0].get(key) == value and entries[-1]["kind"] == "end"]
        if len(found) >= count:
            return found[:count]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} finished call records with {key}={value!r}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server with the bundled models, shared by the end-to-end tests."""
    settings = load_settings(
        env={},
        overrides={"port": free_port(), "audiosocket_port": free_port(),
                   "records_dir": str(tmp_path_factory.mktemp("calls")), "temperature": 0.0,
                   "actions_db": str(tmp_path_factory.mktemp("actions") / "actions.db")},
    )
    with run_server(settings) as running:
        yield running
