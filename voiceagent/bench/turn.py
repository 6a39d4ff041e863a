"""Turn-time benchmark: real recordings as callers, overlapped pipeline against the same pipeline run
strictly in sequence, in one run on one machine.

Each mode gets its own server process (``voiceagent serve``, as deployed) on loopback; one caller plays
every recording at real-time pace, waits for the agent's answer and lets it finish, then speaks again.
Turn time is measured at the client: the end of the caller's voiced audio (Silero VAD, the server's own
definition) to the first agent audio received. Fillers are switched off (turn budget raised) and
decoding is greedy, so both modes say the same words and are measured on the reply itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from voiceagent.bench.callers import default_callers
from voiceagent.bench.machine import describe, machine
from voiceagent.bench.stats import percentile
from voiceagent.client import Caller, load_audio
from voiceagent.config import Settings

SEGMENTS = [  # (name, from mark, to mark) on the server's timeline
    ("endpoint", "speech_end", "endpoint"),
    ("stt (after endpoint)", "endpoint", "stt_done"),
    ("llm first token", "stt_done", "llm_first_token"),
    ("first clause", "llm_first_token", "first_clause"),
    ("tts first audio", "first_clause", "tts_first_audio"),
    ("send", "tts_first_audio", "audio_out"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(settings: Settings, overlap: bool, port: int) -> subprocess.Popen[bytes]:
    # Same replies in both modes (greedy decoding), and no fillers: the reply itself is measured.
    env = {**os.environ, "VOICEAGENT_BUDGET_TURN_MS": "60000", "VOICEAGENT_RECORDS_DIR": "",
           "VOICEAGENT_TEMPERATURE": "0"}
    args = [sys.executable, "-m", "voiceagent", "serve", "--port", str(port), "--llm", settings.llm,
            "--log-level", "WARNING"]
    if settings.model:
        args += ["--model", settings.model]
    if settings.llm_url:
        args += ["--llm-url", settings.llm_url]
    if not overlap:
        args.append("--no-overlap")
    proc = subprocess.Popen(args, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("server did not start")


async def _run_mode(url: str, clips: list[tuple[str, Any]], rounds: int) -> dict[str, Any]:
    """Every clip ``rounds`` times over, in one call; a call the agent ends (a caller's "Thank you, that is
    all. Goodbye." is answered with the goodbye and the end of the call) is followed by a new one."""
    turns: list[dict[str, Any]] = []
    waiting = [clip for _ in range(rounds) for clip in clips]
    models: dict[str, Any] = {}
    while waiting:
        async with Caller(url, 16000) as caller:
            ready = await caller.start()
            models = ready["models"]
            await caller.wait_until_agent_quiet()
            while waiting and not caller.closed.is_set():
                name, audio = waiting.pop(0)
                turns.append(await _turn(caller, name, audio))
            if not caller.closed.is_set():
                await caller.send_json({"type": "stop"})
    return {"models": models, "turns": turns}


async def _turn(caller: Caller, name: str, audio: Any) -> dict[str, Any]:
    """Say one clip and wait for the answer; the turn as the report keeps it."""
    n_metrics = len(caller.received.of_type("turn_metrics"))
    spoke_end, first = await caller.say(audio)
    try:
        await caller.wait_for("turn_metrics", after=n_metrics, timeout=30)
        await caller.wait_until_agent_quiet(timeout=60)
    except TimeoutError:
        pass
    metrics = [m for m in caller.received.of_type("turn_metrics")[n_metrics:] if m["outcome"] == "answered"]
    if first is None or not metrics:
        return {"clip": name, "answered": False}
    server = metrics[-1]
    print(f"  {name:24s} client {(first - spoke_end) * 1000:6.0f} ms   server {server['turn_ms'] or -1:6.0f} ms  "
          f"(stt done {server['timeline'].get('stt_done', 0):4.0f}, "
          f"first token {server['timeline'].get('llm_first_token', 0):4.0f}, "
          f"first clause {server['timeline'].get('first_clause', 0):4.0f})", flush=True)
    return {"clip": name, "answered": True, "client_ms": (first - spoke_end) * 1000, "server": server}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    answered = [t for t in result["turns"] if t["answered"]]
    client = [t["client_ms"] for t in answered]
    server = [t["server"]["turn_ms"] for t in answered if t["server"]["turn_ms"] is not None]
    segments: dict[str, float | None] = {}
    for label, a, b in SEGMENTS:
        values = [max(0.0, t["server"]["timeline"][b] - t["server"]["timeline"][a]) for t in answered
                  if a in t["server"]["timeline"] and b in t["server"]["timeline"]]
        segments[label] = percentile(values, 50)
    return {
        "turns": len(result["turns"]), "answered": len(answered),
        "client_median_ms": percentile(client, 50),
        "client_p95_ms": percentile(client, 95),
        "server_median_ms": percentile(server, 50),
        "segments_median_ms": segments,
        "budget_misses": sum(len(t["server"]["budget_events"]) for t in answered),
    }


async def run_turn_bench(settings: Settings, *, rounds: int, audio: list[str] | None, json_out: str | None) -> int:
    """Run both modes and print the comparison. Returns a process exit code."""
    paths = [Path(p) for p in audio] if audio else list(default_callers())
    if not paths:
        print("no recordings to speak: pass --audio FILES", file=sys.stderr)
        return 2
    clips = [(path.name, load_audio(path, 16000)) for path in paths]
    results: dict[str, Any] = {"machine": machine(), "rounds": rounds, "clips": [c[0] for c in clips]}
    print(f"machine: {describe(results['machine'])}")
    print(f"callers: {len(clips)} recordings x {rounds} rounds, 16 kHz, real-time pace, over loopback")
    for mode, overlap in (("overlapped", True), ("sequential", False)):
        port = _free_port()
        print(f"\n== {mode} ==", flush=True)
        proc = _start_server(settings, overlap, port)
        try:
            raw = await _run_mode(f"ws://127.0.0.1:{port}/ws", clips, rounds)
        finally:
            proc.terminate()
            proc.wait(30)
        results["models"] = raw["models"]
        results[mode] = {"summary": _summary(raw), "turns": raw["turns"]}

    results["sequential_over_overlapped"] = _print_comparison(results)
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2, default=str))
        print(f"results written to {json_out}")
    return 0


def _ms(value: float | None, width: int = 10) -> str:
    return f"{'n/a':>{width}s}  " if value is None else f"{value:>{width}.0f}ms"


def _print_comparison(results: dict[str, Any]) -> float | None:
    """Print both modes side by side; returns sequential / overlapped median turn time."""
    over, seq = results["overlapped"]["summary"], results["sequential"]["summary"]
    print(f"\nmodels: {results['models']}")
    print(f"{'':24s}{'overlapped':>12s}{'sequential':>12s}")
    print(f"{'turns answered':24s}{over['answered']:>12d}{seq['answered']:>12d}")
    for key, label in (("client_median_ms", "median turn (client)"), ("client_p95_ms", "p95 turn (client)"),
                       ("server_median_ms", "median turn (server)")):
        print(f"{label:24s}{_ms(over[key])}{_ms(seq[key])}")
    print("median time per segment (server timeline) and share of the overlapped median turn:")
    for label, _, _ in SEGMENTS:
        o, s = over["segments_median_ms"][label], seq["segments_median_ms"][label]
        share = f"{100 * o / over['server_median_ms']:4.0f}%" if o is not None and over["server_median_ms"] else "n/a"
        print(f"  {label:22s}{_ms(o)}{_ms(s)}   {share}")
    if not over["client_median_ms"] or seq["client_median_ms"] is None:
        return None
    ratio = float(seq["client_median_ms"] / over["client_median_ms"])
    print(f"sequential / overlapped median turn: {ratio:.2f}x")
    return ratio
