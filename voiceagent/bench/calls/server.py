"""A real ``voiceagent serve`` process on a free loopback port, as deployed, for the benchmark to call.

Started with the product's defaults (budgets, fillers, temperature) except where the caller of
:func:`serving` overrides them; call records go to a folder of the run (the ``/twilio`` path reads
what the server heard and said from them)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def serving(records: Path, *, model: str | None = None, extra_args: tuple[str, ...] = (),
            env: dict[str, str] | None = None, start_timeout_s: float = 300.0) -> Iterator[dict[str, Any]]:
    """Run the server until the block ends. Yields ``url`` (ws://127.0.0.1:PORT), ``health`` (the
    /healthz answer: version and models) and ``personas`` (names, when the server lists them)."""
    port = free_port()
    records.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "voiceagent", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--records-dir", str(records), "--log-level", "WARNING", *extra_args]
    if model:
        args += ["--model", model]
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"voiceagent serve exited with {proc.returncode}")
            try:
                health = _get_json(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("voiceagent serve did not start in time") from None
                time.sleep(0.5)
        personas: list[str] | None = None
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            personas = [str(p["name"]) for p in _get_json(f"http://127.0.0.1:{port}/personas")]
        yield {"url": f"ws://127.0.0.1:{port}", "health": health, "personas": personas}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
