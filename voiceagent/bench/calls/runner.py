"""The whole run: which calls, in which voices, over which paths, against one server; every turn judged
as it comes back, with a progress line. Calls are played one at a time, or ``concurrent`` at once (the
next call starts as soon as one ends), so relevance and latency can be read under load too."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from voiceagent.bench.calls.callers import PATHS, SpokenTurn, make_caller, path_audio, run_call
from voiceagent.bench.calls.events import TurnHeard, real_reply_ms
from voiceagent.bench.calls.judge import judge
from voiceagent.bench.calls.pauses import Sentence, pause_ms, pause_within
from voiceagent.bench.calls.report import EARLY_TURNS
from voiceagent.bench.calls.script import CallSpec, Script, TurnSpec
from voiceagent.bench.calls.voices import RATE, Voice, VoiceBank
from voiceagent.bench.calls.wer import keywords_missed


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to run."""

    scripts: tuple[Script, ...]
    paths: tuple[str, ...] = PATHS
    quick: bool = False
    max_turns: int | None = None  # per persona and path: whole calls, in :func:`select_calls` order
    seed: int = 7
    concurrent: int = 1  # calls played at once


def select_calls(script: Script, *, quick: bool, max_turns: int | None) -> list[CallSpec]:
    """The calls to play: the file's quick set, or every call, or (``max_turns``) the first long call (cut
    to half the budget if it is longer: later positions must still be there to compare), then short
    calls, then other long calls, each taken whole while it fits in ``max_turns``."""
    if quick:
        return [script.call(name) for name in script.quick]
    longs = [c for c in script.calls if c.kind == "long"]
    shorts = [c for c in script.calls if c.kind == "short"]
    if max_turns is None:
        return longs[:1] + shorts + longs[1:]
    if longs and len(longs[0].turns) > max_turns:
        keep = max(EARLY_TURNS + 1, max_turns // 2)
        longs[0] = dataclasses.replace(longs[0], name=f"{longs[0].name}[:{keep}]", turns=longs[0].turns[:keep])
    ordered = longs[:1] + shorts + longs[1:]
    chosen, total = [], 0
    for call in ordered:
        if total + len(call.turns) <= max_turns:
            chosen.append(call)
            total += len(call.turns)
    return chosen


def call_voices(calls: list[CallSpec], voices: list[Voice], real: list[Voice]) -> list[tuple[Voice, Voice | None]]:
    """One caller per call, rotating through the voices; a real speaker for turns real recordings can
    say (when there are any). The same assignment on every path, so paths compare like with like."""
    return [(voices[i % len(voices)], real[i % len(real)] if real else None) for i in range(len(calls))]


def sentence_for(bank: VoiceBank, voice: Voice, turn: TurnSpec, pause: int) -> Sentence:
    """The turn's speech in ``voice``: the whole sentence, or for a paused turn the whole sentence cut
    where its first part ends, with ``pause`` ms of silence there."""
    if turn.parts is None:
        return Sentence(bank.speech(voice, turn.say))
    whole = bank.speech(voice, " ".join(turn.parts))
    return pause_within(whole, bank.speech(voice, turn.parts[0]), bank.speech(voice, turn.parts[1]), pause, RATE)


def call_sentences(script: Script, path: str, call: CallSpec, speakers: list[Voice], bank: VoiceBank,
                   seed: int) -> list[Sentence]:
    """Every sentence of one call as ``path`` carries it; pauses drawn per call and position (the same on
    every path)."""
    out = []
    for position, (voice, turn) in enumerate(zip(speakers, call.turns, strict=True), start=1):
        spoken = sentence_for(bank, voice, turn, pause_ms(seed, script.persona, call.name, position))
        out.append(dataclasses.replace(spoken, audio=path_audio(path, spoken.audio)))
    return out


def _result(script: Script, path: str, call: CallSpec, index: int, voice: Voice, spoken: SpokenTurn,
            pause: int | None) -> dict[str, Any]:
    spec = call.turns[index]
    heard = spoken.heard
    verdict = judge(spec, heard.heard, persona_numbers=script.numbers,
                    caller_so_far=[t.say for t in call.turns[: index + 1]], transcript=heard.transcript)
    return {
        "persona": script.persona, "path": path, "call": call.name, "call_kind": call.kind, "position": index + 1,
        "turn": spec.id, "category": spec.category, "voice": voice.name, "voice_kind": voice.kind,
        "said": spec.say, "keywords": list(spec.keywords),
        "keywords_missed": keywords_missed(spec.keywords, heard.transcript), "transcript": heard.transcript,
        "heard": heard.heard, "ok": verdict.ok, "failed": list(verdict.failed), "passed": list(verdict.passed),
        "first_audio_ms": spoken.first_audio_ms, "real_reply_ms": real_reply_ms(spoken.first_audio_ms, heard),
        "filler": heard.filler, "server_turn_ms": heard.turn_ms, "server_reply_ms": heard.reply_ms,
        "outcome": heard.outcome, "paused": spec.paused, "pause_ms": pause, "cut_in": spoken.cut_in,
        "server_turns": heard.pieces, "split": heard.split,
        "server_timeline": heard.timeline, "server_stages": heard.stages, "end_of_turn": heard.end_of_turn,
    }


async def _play_call(script: Script, path: str, url: str, records: Path, call: CallSpec, seed: int,
                     sentences: list[Sentence], report: Callable[[int, SpokenTurn], None]) -> None:
    """One call; turns a failed call (the server hung up, a socket error) into unanswered turns."""
    done = 0

    def on_turn(index: int, spoken: SpokenTurn) -> None:
        nonlocal done
        done = index + 1
        report(index, spoken)

    try:
        await run_call(make_caller(path, url, seed), script.persona, records,
                       sentences, on_turn)
    except (OSError, ConnectionError, ConnectionClosed, TimeoutError) as exc:
        failed = TurnHeard(transcript="", heard="", filler=False, turn_ms=None, reply_ms=None,
                           outcome=f"call failed: {exc!r}")
        for index in range(done, len(call.turns)):
            report(index, SpokenTurn(failed, None))


async def run_plan(plan: Plan, url: str, records: Path, bank: VoiceBank, voices: list[Voice], real: list[Voice],
                   progress: Callable[[dict[str, Any], str], None]) -> list[dict[str, Any]]:
    """Play every selected call of every script over every path, ``plan.concurrent`` at a time; returns one
    result per turn. Every call's speech is made before the first call starts, so synthesis never runs
    beside a call that is streaming."""
    results: list[dict[str, Any]] = []
    jobs: list[Callable[[], Awaitable[None]]] = []
    for script in plan.scripts:
        calls = select_calls(script, quick=plan.quick, max_turns=plan.max_turns)
        for path in plan.paths:
            for number, (call, (voice, real_voice)) in enumerate(zip(calls, call_voices(calls, voices, real),
                                                                     strict=True), start=1):
                speakers = [real_voice if (t.real and real_voice) else voice for t in call.turns]
                where = f"call {number}/{len(calls)} {call.name}"
                sentences = call_sentences(script, path, call, speakers, bank, plan.seed)
                collect = _collector(script, path, call, speakers, sentences, where, results, progress)
                jobs.append(functools.partial(_play_call, script, path, url, records, call,
                                              plan.seed * 1000 + number, sentences, collect))
    await _run_at_most(max(1, plan.concurrent), jobs)
    return results


async def _run_at_most(concurrent: int, jobs: list[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` in order, at most ``concurrent`` at a time."""
    pending = iter(jobs)

    async def lane() -> None:
        for job in pending:  # each lane takes the next job not yet taken
            await job()

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrent, len(jobs))):
            group.create_task(lane())


def _collector(script: Script, path: str, call: CallSpec, speakers: list[Voice], sentences: list[Sentence],
               where: str, results: list[dict[str, Any]], progress: Callable[[dict[str, Any], str], None],
               ) -> Callable[[int, SpokenTurn], None]:
    """Judges each turn of one call as it comes back, keeps it and reports progress."""
    def report(index: int, spoken: SpokenTurn) -> None:
        result = _result(script, path, call, index, speakers[index], spoken, sentences[index].pause_ms)
        results.append(result)
        progress(result, f"{where} turn {index + 1}/{len(call.turns)}")

    return report
