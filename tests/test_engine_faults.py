"""A dead or hanging language model never leaves the caller in silence: the filler plays at the turn
deadline, an apology follows with an ``error`` event, and the call and the server go on.
The faults are real sockets: a port where nothing listens, and a server that accepts and never answers."""

from __future__ import annotations

import asyncio
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, free_port, recording, run_server
from tests.speech import words
from voiceagent.client import Caller, load_audio
from voiceagent.config import load_settings
from voiceagent.records import read_record

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def black_hole() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a hung model server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    sock.close()


def fault_server(tmp_path_factory: pytest.TempPathFactory, llm: str, url: str) -> Iterator[RunningServer]:
    settings = load_settings(env={}, overrides={
        "port": free_port(), "llm": llm, "llm_url": url, "model": "phi3:mini", "engine_timeout_s": 2.0,
        "records_dir": str(tmp_path_factory.mktemp("fault-calls")),
    })
    with run_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def hung(tmp_path_factory: pytest.TempPathFactory, black_hole: int) -> Iterator[RunningServer]:
    yield from fault_server(tmp_path_factory, "openai", f"http://127.0.0.1:{black_hole}/v1")


@pytest.fixture(scope="module")
def dead(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from fault_server(tmp_path_factory, "ollama", f"http://127.0.0.1:{free_port()}")


async def test_hung_model_gets_a_filler_then_an_apology_and_the_call_goes_on(hung: RunningServer) -> None:
    speech = load_audio(recording("fsdd_5_nicolas_0.wav"), 8000)
    async with Caller(hung.url, 8000) as caller:
        await caller.start()
        await caller.wait_until_agent_quiet()
        for n in range(2):
            _, first_audio = await caller.say(speech)
            assert first_audio is not None
            metrics = await caller.wait_for("turn_metrics", after=n, timeout=30)
            await caller.wait_until_agent_quiet()
            assert metrics["outcome"] == "apology" and metrics["filler"] is True
            assert "turn" in {e["stage"] for e in metrics["budget_events"]}
        await caller.send_json({"type": "stop"})
        await caller.wait_for("ended")
    kinds = [e["kind"] for e in caller.received.of_type("agent_text") if e["turn"] > 0]
    assert kinds == ["filler", "apology", "filler", "apology"]
    assert {e["code"] for e in caller.received.of_type("error")} <= {"engine_timeout", "engine_error"}
    assert len(caller.received.of_type("error")) == 2
    health = await asyncio.to_thread(lambda: urllib.request.urlopen(f"{hung.http}/healthz", timeout=5).read())
    assert b'"ok"' in health


async def test_dead_model_server_gets_an_apology_with_an_error_code(dead: RunningServer) -> None:
    async with Caller(dead.url, 16000) as caller:
        ready = await caller.start()
        await caller.wait_until_agent_quiet()
        _, first_audio = await caller.say(load_audio(recording("fsdd_9_jackson_0.wav"), 16000))
        metrics = await caller.wait_for("turn_metrics")
        error = await caller.wait_for("error")
        await caller.wait_until_agent_quiet()
        await caller.send_json({"type": "stop"})
        await caller.wait_for("ended")  # the record's last entry (with the history) is written
    assert first_audio is not None
    assert error["code"] == "engine_error" and "ollama" in error["message"]
    assert metrics["outcome"] == "apology"
    apology = [e for e in caller.received.of_type("agent_text") if e["kind"] == "apology"]
    assert len(apology) == 1
    # the caller's words were heard, and are kept in the history even though no answer could be made
    transcripts = caller.received.of_type("transcript")
    assert transcripts and set(words(transcripts[0]["text"]).split()) & {"nine", "9"}, transcripts
    history = read_record(Path(dead.settings.records_dir) / f"{ready['call_id']}.jsonl")[-1]["history"]
    callers_words = [m["content"] for m in history if m["role"] == "user"]  # type: ignore[index]
    assert callers_words and set(words(callers_words[-1]).split()) & {"nine", "9"}, history


@pytest.fixture(scope="module")
def dead_with_fallback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = load_settings(env={}, overrides={
        "port": free_port(), "llm": "ollama", "llm_url": f"http://127.0.0.1:{free_port()}", "model": "phi3:mini",
        "llm_fallback": True, "records_dir": str(tmp_path_factory.mktemp("fallback-calls")),
    })
    with run_server(settings) as running:
        yield running


async def test_a_dead_model_server_falls_back_to_the_embedded_model(dead_with_fallback: RunningServer) -> None:
    async with Caller(dead_with_fallback.url, 16000) as caller:
        ready = await caller.start()
        await caller.wait_until_agent_quiet()
        _, first_audio = await caller.say(load_audio(recording("fsdd_9_jackson_0.wav"), 16000))
        metrics = await caller.wait_for("turn_metrics")
        await caller.wait_until_agent_quiet()
    assert "fallback llama_cpp" in ready["models"]["llm"]
    assert first_audio is not None and metrics["outcome"] == "answered"
    replies = [e for e in caller.received.of_type("agent_text") if e["kind"] == "reply"]
    assert replies and all(e["text"].strip() for e in replies)
    assert not caller.received.of_type("error")
    text = await asyncio.to_thread(lambda: urllib.request.urlopen(f"{dead_with_fallback.http}/metrics", timeout=5).read())
    fallbacks = [line for line in text.decode().splitlines() if line.startswith("voiceagent_llm_fallbacks_total")]
    assert fallbacks and float(fallbacks[0].split()[1]) >= 1
