"""Synthetic callers against a running server: each plays real recordings at real-time pace, waits for the
answer, pauses like a person and speaks again; some barge in. Every loop is bounded in count and time.

Concurrency runs in steps (``callers=[1, 2, 4]``: each step holds that many calls for ``step_s``), so the
report can draw p95 against concurrency; a single step is a plain fixed-N soak. Callers within a step
start ``ramp_s`` apart so they do not all speak at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from voiceagent.audio.pcm import FloatAudio
from voiceagent.bench.stats import percentile, real_reply_ms
from voiceagent.client import Caller, load_audio, speech_end
from voiceagent.soak import server_probe
from voiceagent.twilio_client import TwilioCaller

log = logging.getLogger(__name__)

@dataclasses.dataclass(frozen=True, slots=True)
class SoakPlan:
    """What to run. Every duration is bounded; ``max_turns_per_call`` ends long calls (a new one starts)."""

    url: str = "ws://127.0.0.1:8765/ws"
    callers: tuple[int, ...] = (2,)  # concurrent calls, one step per value
    step_s: float = 60.0  # how long each step lasts
    ramp_s: float = 5.0  # callers of a step start spread over this long
    max_turns_per_call: int = 8  # a caller hangs up after this many turns and calls again
    audio: tuple[Path, ...] = ()  # recordings to speak (see voiceagent.bench.callers for the default ones)
    barge_in: float = 0.15  # share of turns where the caller talks over the answer
    twilio: float = 0.0  # share of callers that use /twilio (8 kHz mu-law) instead of /ws
    pause_s: tuple[float, float] = (0.5, 2.0)  # a person's pause between hearing the answer and speaking
    answer_timeout_s: float = 15.0  # no agent audio this long after speaking counts as an unanswered turn
    sample_every_s: float = 5.0  # server memory sampling period
    warmup_s: float = 600.0  # memory growth is judged after this (caches and pools fill first)
    seed: int = 7
    persona: str | None = None


@dataclasses.dataclass(slots=True)
class TurnSample:
    """One caller turn as the caller lived it."""

    at: float  # seconds since the soak started (end of the caller's speech)
    callers: int  # the step's concurrency
    active: int  # calls connected at that moment
    transport: str
    turn_ms: float | None  # end of speech -> first agent audio (a filler counts); None: unanswered
    barged: bool = False
    reply_ms: float | None = None  # end of speech -> first audio of the real reply; None: none, or unknown
    filler: bool | None = None  # a filler played first; None: the transport does not say (Twilio)


@dataclasses.dataclass(slots=True)
class SoakResult:
    """Everything measured; :func:`voiceagent.soak.report.build_report` turns it into the report."""

    plan: SoakPlan
    started: float
    finished: float = 0.0
    turns: list[TurnSample] = dataclasses.field(default_factory=list)
    turn_metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # server-side, native callers
    memory: list[tuple[float, dict[str, float]]] = dataclasses.field(default_factory=list)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    calls: int = 0
    dropped_calls: int = 0  # calls that ended without the caller hanging up (and not by the agent's choice)
    ended_by_agent: int = 0  # calls the agent ended itself (a goodbye, a transfer): not failures
    call_ids: list[str] = dataclasses.field(default_factory=list)
    health: dict[str, Any] = dataclasses.field(default_factory=dict)

    def error(self, code: str) -> None:
        """Count an error by code."""
        self.errors[code] = self.errors.get(code, 0) + 1


class _Voices:
    """The recordings, decoded once per rate, with where each one's speech ends."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self._cache: dict[tuple[Path, int], tuple[FloatAudio, float]] = {}

    def get(self, path: Path, rate: int) -> FloatAudio:
        key = (path, rate)
        if key not in self._cache:
            audio = load_audio(path, rate)
            self._cache[key] = (audio, speech_end(audio, rate))
        return self._cache[key][0]


class Soak:
    """Runs a :class:`SoakPlan`; :meth:`run` returns when the last step has ended."""

    def __init__(self, plan: SoakPlan, progress: Callable[[str], None] | None = None) -> None:
        if not plan.audio:
            raise ValueError("no recordings to speak: give audio files or a folder")
        self.plan = plan
        self.result = SoakResult(plan, started=time.monotonic())
        self._voices = _Voices(plan.audio)
        self._rng = random.Random(plan.seed)
        self._progress = progress
        self._active = 0
        self._step_callers = 0

    def _now(self) -> float:
        return time.monotonic() - self.result.started

    async def run(self) -> SoakResult:
        """Run every step, sampling server memory throughout."""
        base = server_probe.http_base(self.plan.url)
        self.result.health = await server_probe.health(base)
        for path in self.plan.audio:  # decode before the clock matters
            self._voices.get(path, 16000)
        self.result.started = time.monotonic()
        sampler = asyncio.create_task(self._sample_memory(base))
        reporter = asyncio.create_task(self._report_progress())
        try:
            for callers in self.plan.callers:
                await self._step(callers)
        finally:
            for task in (sampler, reporter):
                task.cancel()
            await asyncio.gather(sampler, reporter, return_exceptions=True)
            with contextlib.suppress(Exception):
                self.result.memory.append((self._now(), await server_probe.sample(base)))
            self.result.finished = time.monotonic()
        return self.result

    async def _step(self, callers: int) -> None:
        self._step_callers = callers
        deadline = time.monotonic() + self.plan.step_s
        async with asyncio.TaskGroup() as group:
            for index in range(callers):
                delay = self.plan.ramp_s * index / max(1, callers)
                twilio = (index + 0.5) / callers <= self.plan.twilio  # that share of the callers, exactly
                group.create_task(self._caller_loop(delay, deadline, twilio, random.Random(self._rng.random())))

    async def _caller_loop(self, delay: float, deadline: float, twilio: bool, rng: random.Random) -> None:
        await asyncio.sleep(delay)
        while time.monotonic() < deadline - 5:
            try:
                await asyncio.wait_for(self._one_call(deadline, twilio, rng), deadline - time.monotonic() + 60)
            except (OSError, TimeoutError, ConnectionError, ConnectionClosed) as exc:
                self.result.dropped_calls += 1
                self.result.error(type(exc).__name__)
                log.warning("soak caller: %r", exc)
                await asyncio.sleep(1.0)

    async def _one_call(self, deadline: float, twilio: bool, rng: random.Random) -> None:
        url = self.plan.url.rsplit("/", 1)[0] + "/twilio" if twilio else self.plan.url
        caller: Caller = TwilioCaller(url) if twilio else Caller(url, 16000)
        transport = "twilio" if twilio else "native"
        async with caller:
            self._active += 1
            self.result.calls += 1
            try:
                await caller.start(**({"persona": self.plan.persona} if self.plan.persona else {}))
                if caller.ready and "call_id" in caller.ready:
                    self.result.call_ids.append(str(caller.ready["call_id"]))
                await caller.wait_until_agent_quiet(timeout=30)
                for _ in range(self.plan.max_turns_per_call):
                    if time.monotonic() > deadline or caller.closed.is_set():
                        break
                    await self._turn(caller, transport, rng)
                if caller.closed.is_set():
                    raise ConnectionError("the server closed the call")
                if isinstance(caller, TwilioCaller):
                    await caller.stop()
                else:
                    await caller.send_json({"type": "stop"})
            except (ConnectionError, ConnectionClosed) as exc:
                if not _ended_by_agent(caller, exc):
                    raise
                self.result.ended_by_agent += 1  # the agent said goodbye (or transferred): a call's normal end
            finally:
                self._active -= 1
                self._collect(caller)

    async def _turn(self, caller: Caller, transport: str, rng: random.Random) -> None:
        path = rng.choice(self.plan.audio)
        speech = self._voices.get(path, caller.rate)
        metrics_before = len(caller.received.of_type("turn_metrics"))
        spoke_end, first = await caller.say(speech, answer_timeout=self.plan.answer_timeout_s)
        barged = first is not None and rng.random() < self.plan.barge_in
        sample = TurnSample(
            at=round(spoke_end - self.result.started, 3), callers=self._step_callers, active=self._active,
            transport=transport, turn_ms=None if first is None else round((first - spoke_end) * 1000, 1),
            barged=barged)
        self.result.turns.append(sample)
        if first is None:
            self.result.error("unanswered_turn")
        if barged:  # talk over the answer with another recording, after hearing some of it (sooner than
            await caller.silence(rng.uniform(0.8, 1.2))  # continue_window_ms it would be taken back)
            await caller.speak(self._voices.get(rng.choice(self.plan.audio), caller.rate))
        if transport == "native" and first is not None:
            await _until_turn_over(caller, metrics_before)
        with contextlib.suppress(TimeoutError):
            await caller.wait_until_agent_quiet(timeout=30)
        if transport == "native":  # the server's turn_metrics say whether a filler went first
            _real_reply(sample, caller.received.of_type("turn_metrics")[metrics_before:])
        await caller.silence(rng.uniform(*self.plan.pause_s))

    def _collect(self, caller: Caller) -> None:
        for event in caller.received.of_type("turn_metrics"):
            self.result.turn_metrics.append(event)
        for event in caller.received.of_type("error"):
            self.result.error(str(event.get("code")))

    async def _sample_memory(self, base: str) -> None:
        while True:
            try:
                self.result.memory.append((round(self._now(), 1), await server_probe.sample(base)))
            except OSError as exc:
                self.result.error("metrics_unreachable")
                log.warning("soak: /metrics: %r", exc)
            await asyncio.sleep(self.plan.sample_every_s)

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self._progress is None:
                continue
            recent = [t.reply_ms for t in self.result.turns[-200:]]
            p50, p95 = percentile(recent, 50), percentile(recent, 95)
            errors = sum(self.result.errors.values())
            rss = self.result.memory[-1][1].get("rss_mb", float("nan")) if self.result.memory else float("nan")
            self._progress(f"[{self._now():6.0f} s] step {self._step_callers} callers | active {self._active} | "
                           f"calls {self.result.calls} | turns {len(self.result.turns)} | real reply p50 {p50} ms "
                           f"p95 {p95} ms | errors {errors} | rss {rss:.0f} MB")


async def _until_turn_over(caller: Caller, metrics_before: int, timeout_s: float = 30.0) -> None:
    """Keep the line open (silence, as a phone line sends) until the server reports the turn: a filler and
    then a silence while a slow model writes are not the end of the answer, and a caller who spoke again in
    that silence would make the turn look continued instead of answered."""
    deadline = time.monotonic() + timeout_s
    while len(caller.received.of_type("turn_metrics")) <= metrics_before and time.monotonic() < deadline:
        if caller.closed.is_set():
            return
        await caller.silence(0.1)


def _real_reply(sample: TurnSample, metrics: list[dict[str, Any]]) -> None:
    """Fill in the real reply of a native caller's turn from the server's ``turn_metrics`` of it."""
    answered = [m for m in metrics if m.get("reply_ms") is not None]
    sample.filler = any(bool(m.get("filler")) for m in metrics)
    if not answered:
        return
    last = answered[-1]
    sample.reply_ms = real_reply_ms(sample.turn_ms, filler=sample.filler, server_turn_ms=last.get("turn_ms"),
                                    server_reply_ms=last["reply_ms"])
    if sample.reply_ms is not None:
        sample.reply_ms = round(sample.reply_ms, 1)


AGENT_ENDS = ("agent_ended", "transferred")  # the server's end reasons for a call the agent chose to end


def _ended_by_agent(caller: Caller, exc: Exception) -> bool:
    """Whether the call was ended by the agent (its ``ended`` event, or the close frame, says so)."""
    if any(e.get("reason") in AGENT_ENDS for e in caller.received.of_type("ended")):
        return True
    received = exc.rcvd if isinstance(exc, ConnectionClosed) else None
    return received is not None and received.reason in AGENT_ENDS
