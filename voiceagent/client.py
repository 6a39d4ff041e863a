"""A native-protocol client that behaves like a caller: it streams a recording at real-time pace, keeps
the line open with silence like a phone does, plays the agent's audio on a simulated clock, and measures
turn time where a caller feels it (end of its speech to the first agent audio received).
Used by the tests, the turn benchmark and the soak test."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Self

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from voiceagent.audio.pcm import FloatAudio, float_to_pcm16


def load_audio(path: str | Path, sample_rate: int) -> FloatAudio:
    """Decode any audio file (WAV, FLAC ...) to mono float32 at ``sample_rate`` (PyAV, via faster-whisper)."""
    from faster_whisper.audio import decode_audio

    return np.asarray(decode_audio(str(path), sampling_rate=sample_rate), dtype=np.float32)


LEAD_IN_S = 0.5  # silence the listener hears before a sentence (a caller keeps the line open between turns)
PIECE_S = 0.02  # the piece of audio a phone transport sends at a time


def speech_end(audio: FloatAudio, sample_rate: int, threshold: float = 0.5) -> float:
    """Seconds into ``audio`` where its last voiced frame ends, as the server's listener finds it: the
    same Silero VAD fed the same way (after a little silence, in 20 ms pieces through the streaming
    resampler), a frame right after a voiced one counting down to ``threshold`` - 0.15 (the endpointer's
    hysteresis). Analysed whole instead, the weak second half of a paused sentence ("Yes, my name is ...
    Peter Brown." in a fast voice over the phone line) came out as silence: the end 0.9 s too early."""
    from voiceagent.audio.resample import LISTENING_QUALITY, StreamResampler
    from voiceagent.engines.silero_vad import SileroModel
    from voiceagent.engines.speech import VAD_FRAME_SAMPLES as FRAME_SAMPLES
    from voiceagent.engines.speech import VAD_RATE

    global _VAD_MODEL
    if _VAD_MODEL is None:
        _VAD_MODEL = SileroModel()
    lead = round(LEAD_IN_S * sample_rate)
    fed = np.concatenate([np.zeros(lead, dtype=np.float32), np.asarray(audio, dtype=np.float32)])
    resampler = StreamResampler(sample_rate, VAD_RATE, LISTENING_QUALITY)
    stream, piece = _VAD_MODEL.stream(), round(PIECE_S * sample_rate)
    probs = [p for at in range(0, len(fed), piece) for _, p in stream.feed(resampler.process(fed[at:at + piece]))]
    last, voiced = -1, False
    for index, prob in enumerate(probs):
        voiced = prob >= threshold or (voiced and prob >= max(threshold - 0.15, 0.01))
        last = index if voiced else last
    return 0.0 if last < 0 else max(0.0, (last + 1) * FRAME_SAMPLES / VAD_RATE - LEAD_IN_S)


_VAD_MODEL: Any = None


@dataclasses.dataclass(slots=True)
class Received:
    """Everything the server sent, with client-side arrival times (monotonic seconds)."""

    events: list[tuple[float, dict[str, Any]]] = dataclasses.field(default_factory=list)
    audio: list[tuple[float, int]] = dataclasses.field(default_factory=list)  # (arrival, bytes)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """All events of one type, in order."""
        return [e for _, e in self.events if e.get("type") == kind]

    def final_transcripts(self) -> dict[int, str]:
        """Caller text by turn, with each revision applied (a continued turn replaces the one it revises)."""
        final: dict[int, str] = {}
        for event in self.of_type("transcript"):
            if event.get("revises") is not None:
                final.pop(event["revises"], None)
            final[event["turn"]] = event["text"]
        return final

    def first_audio_after(self, t: float) -> float | None:
        """Arrival time of the first agent audio frame at or after ``t``."""
        return next((at for at, _ in self.audio if at >= t), None)

    def audio_bytes_between(self, start: float, end: float) -> int:
        """Bytes of agent audio that arrived in [start, end)."""
        return sum(n for at, n in self.audio if start <= at < end)


class Caller:
    """One caller on one connection. Use as ``async with Caller(url) as caller``."""

    def __init__(self, url: str, sample_rate: int = 16000, frame_ms: int = 20) -> None:
        self.url = url
        self.rate = sample_rate
        self.frame = sample_rate * frame_ms // 1000
        self.received = Received()
        self.ready: dict[str, Any] | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._play_end = 0.0  # when the simulated speaker finishes what it has received
        self._next_send = 0.0  # when the next caller frame is due (real-time pacing)
        self.closed = asyncio.Event()

    async def __aenter__(self) -> Self:
        self._ws = await connect(self.url, max_size=2**22)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    @property
    def ws(self) -> ClientConnection:
        """The open connection."""
        assert self._ws is not None, "use 'async with'"
        return self._ws

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self._handle(message, time.monotonic())
                self._changed.set()
        finally:
            self.closed.set()
            self._changed.set()

    def _handle(self, message: str | bytes, now: float) -> None:
        """One message from the server: agent audio (binary) or an event (JSON)."""
        if isinstance(message, bytes):
            self._heard(len(message) // 2, now)
        else:
            self._event(json.loads(message), now)

    def _heard(self, samples: int, now: float) -> None:
        """Agent audio arrived: the simulated speaker plays it after what it already has."""
        self.received.audio.append((now, samples * 2))
        self._play_end = max(self._play_end, now) + samples / self.rate

    def _event(self, event: dict[str, Any], now: float) -> None:
        self.received.events.append((now, event))
        if event.get("type") == "clear":
            self._play_end = now

    async def _send_frame(self, pcm: bytes) -> None:
        """Send one frame of caller audio (16-bit PCM at the caller's rate)."""
        await self.ws.send(pcm)

    async def send_json(self, data: dict[str, Any]) -> None:
        """Send a JSON text frame."""
        await self.ws.send(json.dumps(data))

    async def start(self, **fields: Any) -> dict[str, Any]:
        """Send ``start`` and wait for ``ready``."""
        await self.send_json({"type": "start", "sample_rate": self.rate, **fields})
        self.ready = await self.wait_for("ready")
        return self.ready

    async def wait_for(self, kind: str, timeout: float = 30.0, after: int = 0) -> dict[str, Any]:
        """Wait for the ``after``-th-plus-one event of type ``kind`` (0: the first one)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received.of_type(kind)
            if len(found) > after:
                return found[after]
            if self.closed.is_set():
                raise ConnectionError(f"connection closed while waiting for {kind!r}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} event within {timeout} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def agent_speaking(self) -> bool:
        """True while the simulated speaker is still playing agent audio."""
        return time.monotonic() < self._play_end

    async def silence(self, seconds: float) -> None:
        """Stream silence in real time (a phone line is never quiet on the wire)."""
        await self.speak(np.zeros(int(seconds * self.rate), dtype=np.float32))

    async def speak(self, audio: FloatAudio) -> float:
        """Stream ``audio`` at real-time pace, continuing the pace of earlier calls (so back-to-back
        calls never send faster than real time); returns when its first frame was due."""
        pcm = float_to_pcm16(audio)
        step = self.frame * 2
        now = time.monotonic()
        if self._next_send < now - 0.1:  # the line was idle: start the clock again
            self._next_send = now
        first_due = self._next_send
        for offset in range(0, len(pcm), step):
            await asyncio.sleep(max(0.0, self._next_send - time.monotonic()))
            chunk = pcm[offset : offset + step]
            await self._send_frame(chunk)
            self._next_send += len(chunk) / 2 / self.rate
        return first_due

    async def wait_until_agent_quiet(self, timeout: float = 30.0, quiet: float = 0.5) -> None:
        """Keep the line open with silence until the agent has finished speaking (and stayed quiet), or
        has hung up (a goodbye, a transfer: it will say nothing more)."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            try:
                await self.silence(0.1)
            except ConnectionClosed:
                return
            if self.agent_speaking():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
        raise TimeoutError("the agent did not stop speaking")

    async def say(self, audio: FloatAudio, *, answer_timeout: float = 20.0) -> tuple[float, float | None]:
        """Speak ``audio``, then keep sending silence until agent audio arrives.

        Returns (time the last voiced sample was sent, time the first agent audio arrived or None).
        """
        voiced_until = speech_end(audio, self.rate)
        start = await self.speak(audio)
        spoke_end = start + voiced_until
        deadline = time.monotonic() + answer_timeout
        while time.monotonic() < deadline:
            first = self.received.first_audio_after(spoke_end)
            if first is not None:
                return spoke_end, first
            await self.silence(0.04)
        return spoke_end, None
