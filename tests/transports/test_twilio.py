"""Twilio Media Streams at /twilio: real 8 kHz recordings as mu-law over a real socket into the real server,
with a peer that echoes marks after playing the audio before them and honours clear, as Twilio does."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
from websockets.asyncio.client import connect

from tests.conftest import RunningServer, record_where, recording
from tests.speech import espeak, words
from voiceagent.client import load_audio
from voiceagent.twilio_client import TwilioCaller

pytestmark = pytest.mark.slow


def twilio_url(server: RunningServer) -> str:
    return server.url.removesuffix("/ws") + "/twilio"


def texts(record: list[dict[str, object]], kind: str) -> list[str]:
    return [str(e["text"]) for e in record if e["kind"] == kind]


def clicks(audio: np.ndarray, frame_sizes: list[int], floor: float = 0.02, ratio: float = 4.0) -> list[int]:
    """Sample positions where one frame meets the next with a step: a jump above ``floor`` that is more than
    ``ratio`` times the largest jump within 8 samples either side. Speech has steep samples anywhere
    (neighbouring jumps within about 2.5x of each other at 8 kHz); a seam that drops, repeats or pads
    audio stands alone."""
    jumps = np.abs(np.diff(audio))
    edges = np.cumsum(frame_sizes)[:-1] - 1
    found = []
    for edge in edges[edges < len(jumps)]:
        around = np.concatenate([jumps[max(0, edge - 8) : edge], jumps[edge + 1 : edge + 9]])
        if jumps[edge] > floor and jumps[edge] > ratio * max(float(around.max(initial=0.0)), 1e-3):
            found.append(int(edge))
    return found


async def test_a_phone_caller_is_answered_in_mulaw_with_marks_and_keypad(server: RunningServer) -> None:
    speech = load_audio(recording("fsdd_3_jackson_0.wav"), 8000)
    async with TwilioCaller(twilio_url(server)) as caller:
        await caller.start(persona="receptionist")
        await caller.wait_until_agent_quiet()  # the greeting
        greeting_media = len(caller.media)
        _, first_audio = await caller.say(speech)
        assert first_audio is not None, "no agent audio after the caller spoke"
        await caller.wait_until_agent_quiet()
        reply_media = caller.media[greeting_media:]
        before_keys = len(caller.media)
        await caller.press("3")
        await caller.silence(2.0)
        await caller.wait_until_agent_quiet()
        keyed_media = len(caller.media) - before_keys
        await caller.stop()
        await asyncio.wait_for(caller.closed.wait(), 10)  # the server hangs up after stop

    assert greeting_media > 0 and keyed_media > 0
    # Outbound media is well formed: whole 8 kHz mu-law samples, and the reply is speech, not silence.
    reply = np.frombuffer(b"".join(reply_media), dtype="<i2").astype(np.float32) / 32768
    assert len(reply) > 8000 * 0.5 and float(np.sqrt(np.mean(reply**2))) > 0.01
    # No clicks where frames meet (20 ms frames, and a shorter one where a segment ends).
    assert clicks(reply, frame_sizes=[len(m) // 2 for m in reply_media]) == []
    # A mark follows each clause; every mark came back once its audio had been played.
    marks = [e["mark"]["name"] for e in caller.received.of_type("mark")]
    assert marks and set(marks) <= set(caller.marks_echoed) | {marks[-1]}
    assert all(e["streamSid"] == caller.stream_sid for e in caller.received.of_type("mark"))

    record = record_where(server.settings.records_dir, "stream_sid", caller.stream_sid)
    assert record[0]["transport"] == "twilio" and record[0]["call_sid"] == caller.call_sid
    said = [words(t) for t in texts(record, "transcript")]
    assert any(w in said[0].split() for w in ("three", "3")), said
    assert "caller pressed 3" in said[-1]
    assert len(texts(record, "reply")) >= 2
    assert [e["digit"] for e in record if e["kind"] == "dtmf"] == ["3"]
    assert record[-1]["kind"] == "end" and record[-1]["reason"] == "caller_hangup"


async def listen(caller: TwilioCaller, since: float, seconds: float, timeout: float = 30.0) -> None:
    """Keep the line open until ``seconds`` of agent audio have arrived since ``since``."""
    deadline = time.monotonic() + timeout
    while caller.received.audio_bytes_between(since, time.monotonic()) < seconds * 8000 * 2:
        assert time.monotonic() < deadline, f"less than {seconds} s of agent audio came"
        await caller.silence(0.05)


async def test_barge_in_on_the_phone_clears_twilio_and_keeps_what_was_heard(server: RunningServer) -> None:
    question = espeak("Can you tell me about your prices and your opening hours", 8000)
    interruption = load_audio(recording("one_two_three.wav"), 8000)
    async with TwilioCaller(twilio_url(server)) as caller:
        await caller.start()
        await caller.wait_until_agent_quiet()
        _, first_audio = await caller.say(question)
        assert first_audio is not None
        # hear part of the answer: past any filler and past continue_window_ms of the reply (talked over
        # sooner, the reply would be taken back as unheard)
        await listen(caller, first_audio, 2.2)
        await caller.speak(interruption)  # then talk over it
        clear = await caller.wait_for("clear")
        clear_at = next(at for at, e in caller.received.events if e["type"] == "clear")
        await listen(caller, clear_at + 0.05, 0.2)  # the agent answers the interruption
        await caller.wait_until_agent_quiet()
        await caller.stop()
        await asyncio.wait_for(caller.closed.wait(), 10)  # the server hangs up after stop

    assert clear["streamSid"] == caller.stream_sid
    # after clear, agent audio stops at once (at most frames in flight) until the next answer
    next_audio = [at for at, _ in caller.received.audio if at > clear_at + 0.05]
    assert next_audio[0] > clear_at + 0.2
    record = record_where(server.settings.records_dir, "stream_sid", caller.stream_sid)
    interrupted = [e for e in record if e["kind"] == "interrupted"]
    assert interrupted, "the interruption is in the record"
    heard = str(interrupted[0]["heard"])
    assert heard, "the caller heard part of the answer, so something was heard"
    # the history keeps, as the answer to the question, exactly what the caller heard of it
    history: list[dict[str, str]] = record[-1]["history"]
    question_at = next(i for i, m in enumerate(history) if m["role"] == "user")
    assert history[question_at + 1 :][:1] == [{"role": "assistant", "content": heard}]


async def test_malformed_media_streams_frames_do_not_end_the_call(server: RunningServer) -> None:
    async with connect(twilio_url(server)) as ws:
        await ws.send("not json")
        await ws.send(json.dumps({"event": "media", "media": {"payload": "@@@"}}))  # before start: ignored
        await ws.send(b"\x00\x01")  # binary is not part of the protocol
        await ws.send(json.dumps({"event": "start", "start": {"streamSid": "MZbad",
                                                              "mediaFormat": {"encoding": "audio/l16"}}}))
        await ws.send(json.dumps({"event": "start", "streamSid": "MZok", "start": {"streamSid": "MZok"}}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))  # the call is up: its greeting plays
        await ws.send(json.dumps({"event": "media", "media": {"payload": "%%%"}}))
        await ws.send(json.dumps({"event": "dtmf", "dtmf": {"digit": "12"}}))
        await ws.send(json.dumps({"event": "stop"}))
        rest = [json.loads(m) async for m in ws]  # the server closes after stop
    assert first["event"] == "media" and first["streamSid"] == "MZok"
    assert all(m["streamSid"] == "MZok" for m in rest)
    record = record_where(server.settings.records_dir, "stream_sid", "MZok")
    errors = [e["code"] for e in record if e["kind"] == "error"]
    assert errors == ["bad_payload", "bad_message"]
    assert record[-1]["reason"] == "caller_hangup"
