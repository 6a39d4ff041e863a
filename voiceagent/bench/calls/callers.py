"""One scripted call over one path: wideband over the native protocol (``/ws``, 16 kHz), or a phone line
over ``/twilio`` (band-limited 8 kHz mu-law, via :class:`voiceagent.twilio_client.TwilioCaller`), with
or without background noise. The caller speaks each sentence at real-time pace, waits for the answer
and lets it finish, as a person would; what was heard is read back per turn."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voiceagent.audio.pcm import FloatAudio, float_to_pcm16, pcm16_to_float
from voiceagent.bench.calls.events import (
    Timed,
    TurnHeard,
    find_record,
    last_turn_finished,
    record_events,
    turn_heard,
)
from voiceagent.bench.calls.line import line_noise, phone_speech, set_level
from voiceagent.bench.calls.pauses import Sentence, cut_in, pause_window
from voiceagent.client import Caller
from voiceagent.twilio_client import TwilioCaller

PATHS = ("wideband", "phone", "phone_noise")
ANSWER_TIMEOUT_S = 15.0  # no agent audio this long after the caller's speech: an unanswered turn
TURN_TIMEOUT_S = 60.0  # longest wait for the server to finish a turn and the agent to stop talking


class NoisyTwilioCaller(TwilioCaller):
    """A Twilio caller in a noisy place: line noise is mixed into every frame sent, speech and the
    silence between sentences alike, before mu-law encoding."""

    def __init__(self, url: str, noise: FloatAudio) -> None:
        super().__init__(url)
        self._noise = noise
        self._at = 0

    async def _send_frame(self, pcm: bytes) -> None:
        audio = pcm16_to_float(pcm)
        idx = (self._at + np.arange(len(audio))) % len(self._noise)
        self._at = int(idx[-1]) + 1 if len(idx) else self._at
        await super()._send_frame(float_to_pcm16(np.clip(audio + self._noise[idx], -1.0, 1.0)))


def path_audio(path: str, speech: FloatAudio, rate: int = 16000) -> FloatAudio:
    """A caller sentence (at ``rate``) as the path carries it: 16 kHz, or the 8 kHz phone band."""
    if path == "wideband":
        return set_level(speech)
    return phone_speech(speech, rate)


def make_caller(path: str, base_url: str, seed: int) -> Caller:
    """The client for ``path`` against ``ws://host:port``."""
    if path == "wideband":
        return Caller(f"{base_url}/ws", 16000)
    if path == "phone":
        return TwilioCaller(f"{base_url}/twilio")
    if path == "phone_noise":
        return NoisyTwilioCaller(f"{base_url}/twilio", line_noise(30.0, seed))
    raise ValueError(f"unknown path {path!r}; have {PATHS}")


@dataclasses.dataclass(frozen=True, slots=True)
class SpokenTurn:
    """What the caller lived through in one turn."""

    heard: TurnHeard
    first_audio_ms: float | None  # end of the caller's speech -> first agent audio received
    cut_in: bool | None = None  # a paused turn: agent audio arrived while the caller was mid-sentence


class CallSession:
    """A connected call on one path; :meth:`turn` speaks one sentence and returns what came back."""

    def __init__(self, caller: Caller, records: Path) -> None:
        self.caller = caller
        self.records = records
        self._record: Path | None = None

    def events(self) -> list[Timed]:
        """Everything the server told about the call so far, in native event shapes."""
        if not isinstance(self.caller, TwilioCaller):
            return list(self.caller.received.events)
        if self._record is None:
            self._record = find_record(self.records, self.caller.call_sid)
        return [] if self._record is None else record_events(self._record)

    async def turn(self, sentence: Sentence) -> SpokenTurn:
        """Speak ``sentence``, wait until the server has finished the turn and the agent is quiet."""
        start = time.monotonic()
        spoke_end, first = await self.caller.say(sentence.audio, answer_timeout=ANSWER_TIMEOUT_S)
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline and not self.caller.closed.is_set():
            with contextlib.suppress(TimeoutError):
                await self.caller.wait_until_agent_quiet(timeout=max(1.0, deadline - time.monotonic()))
            if first is None or last_turn_finished(self.events(), start):
                break
        with contextlib.suppress(TimeoutError):
            await self.caller.wait_until_agent_quiet(timeout=max(1.0, deadline - time.monotonic()))
        heard = turn_heard(self.events(), start, time.monotonic())
        first_ms = None if first is None else round((first - spoke_end) * 1000, 1)
        window = pause_window(sentence, spoke_end)
        cut = None if window is None else cut_in((at for at, _ in self.caller.received.audio), window)
        return SpokenTurn(heard, first_ms, cut)


async def run_call(caller: Caller, persona: str, records: Path, sentences: list[Sentence],
                   on_turn: Callable[[int, SpokenTurn], None]) -> None:
    """Call, hear the greeting out, speak every sentence in order, hang up."""
    async with caller:
        await caller.start(persona=persona)
        with contextlib.suppress(TimeoutError):
            await caller.wait_until_agent_quiet(timeout=30)
        session = CallSession(caller, records)
        for index, sentence in enumerate(sentences):
            if caller.closed.is_set():
                raise ConnectionError("the server closed the call")
            on_turn(index, await session.turn(sentence))
        if isinstance(caller, TwilioCaller):
            await caller.stop()
        else:
            await caller.send_json({"type": "stop"})
