"""One agent reply: model tokens -> clauses -> speech -> player, with the stages overlapped.

The model writes into a clause chunker; each finished clause goes (through a small bounded queue, so a
fast model waits for a slow voice rather than piling up text) to synthesis, and each clause's audio to
the player while the model is still writing the next. With ``overlap`` off, the same stages run strictly
one after the other (the whole reply is generated, then synthesised, then played): the baseline the
turn benchmark compares against.

Every clause passes the reply check (:mod:`voiceagent.stages.reply_check`) before it is synthesised: a
clause that invents a number, opens a closed day, echoes the caller or repeats an earlier reply stops
the model, and the fact-based fallback is said in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import time
from collections.abc import AsyncGenerator, Callable

from voiceagent.audio.pcm import float_to_pcm16
from voiceagent.audio.resample import resample
from voiceagent.engines.llm import ChatEngine, EngineError, Message, Tool
from voiceagent.engines.speech import Synthesizer
from voiceagent.pipeline.observer import CallObserver
from voiceagent.pipeline.player import AudioPlayer, Segment
from voiceagent.pipeline.timeline import TurnTimeline
from voiceagent.stages.chunker import SpokenReply, spoken_pieces
from voiceagent.stages.reply_check import ReplyCheck
from voiceagent.stages.reply_problem import Problem

_END = None
_APOLOGY = re.compile(r"^(?:I'm |I am )?sorry[,.!]?\s+(?=\S)", re.IGNORECASE)  # a fallback's opening apology
_CALLED = re.compile(r'"name"\s*:\s*"([A-Za-z0-9_]+)"')


@dataclasses.dataclass(slots=True)
class ReplyContext:
    """What a reply needs from its call."""

    llm: ChatEngine
    tts: Synthesizer
    player: AudioPlayer
    observer: CallObserver  # agent text and budget misses are reported here
    sample_rate: int
    max_tokens: int
    max_sentences: int
    temperature: float
    timeout_s: float  # an engine silent this long is dead
    overlap: bool
    on_audio_out: Callable[[float], None]  # first frame of the reply left the server
    check: ReplyCheck | None = None  # checks each clause before it is spoken
    fallback: str = ""  # said instead of a clause that fails the check (and of the rest of the reply), or of no reply
    tools: tuple[Tool, ...] = ()  # actions the model may call instead of answering (see ToolCalled)
    named_only: frozenset[str] = frozenset()  # tools whose arguments the call reads itself: stop at the name
    not_before: float = 0.0  # the first clause is not played before this time (time.monotonic()): see reply_not_before_ms


TOOL_CALL_TOKENS = 160  # room for a call's JSON (a message's text), beyond a spoken reply's max_tokens


class ToolCalled(Exception):
    """The model answered with a tool call (``text``, read whole), not words: nothing was spoken."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _Rejected(Exception):
    """A clause failed the reply check: the model is stopped and the fallback said instead."""

    def __init__(self, clause: str, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.clause = clause
        self.problem = problem


async def _tokens(
    ctx: ReplyContext, messages: list[Message], timeline: TurnTimeline
) -> AsyncGenerator[str, None]:
    """The model's stream with a deadline on every piece (a hung model raises TimeoutError)."""
    started = time.monotonic()
    max_tokens = max(ctx.max_tokens, TOOL_CALL_TOKENS) if ctx.tools else ctx.max_tokens
    stream = ctx.llm.stream(messages, max_tokens=max_tokens, temperature=ctx.temperature, tools=ctx.tools)
    iterator = aiter(stream)
    try:
        while True:
            try:
                piece = await asyncio.wait_for(anext(iterator), ctx.timeout_s)
            except StopAsyncIteration:
                return
            now = time.monotonic()
            if timeline.mark("llm_first_token", now):
                ctx.observer.budget_missed(timeline.stage("llm_first_token", now - started))
                timeline.waited("llm_first_token", timeline.engine_waits.get("llm", 0.0))
            yield piece
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def _words(
    ctx: ReplyContext, messages: list[Message], timeline: TurnTimeline
) -> AsyncGenerator[str, None]:
    """The model's pieces when it answers in words; a reply that starts as a tool call is read to its end
    and raised as :class:`ToolCalled` before anything is spoken."""
    head: str | None = ""
    async with contextlib.aclosing(_tokens(ctx, messages, timeline)) as tokens:
        async for piece in tokens:
            if head is not None:
                head += piece
                if not head.strip():
                    continue
                if head.lstrip().startswith(("{", "<")):
                    if ctx.tools:
                        raise ToolCalled(await _rest_of_call(ctx, head, tokens))
                    # Asked for words, the model wrote a call anyway: never read JSON to a caller.
                    raise _Rejected(head, Problem("call_as_words", "a tool call where words were asked for"))
                piece, head = head, None
            yield piece


async def _rest_of_call(ctx: ReplyContext, text: str, tokens: AsyncGenerator[str, None]) -> str:
    """The rest of a tool call. Once the model has named a tool whose arguments the call reads from the
    caller's words itself, the model is stopped there: its argument values would cost a second or more
    of generation and are checked against the caller's words anyway."""
    async for piece in tokens:
        text += piece
        named = _CALLED.search(text)
        if named is not None and named.group(1) in ctx.named_only:
            return json.dumps({"name": named.group(1), "arguments": {}})
    return text


async def _speak(ctx: ReplyContext, timeline: TurnTimeline, text: str, first: bool) -> None:
    """Synthesise one clause and queue it for playback."""
    started = time.monotonic()
    try:
        audio = await asyncio.wait_for(ctx.tts.synthesize(text), ctx.timeout_s)
    except (EngineError, TimeoutError):
        raise
    except Exception as exc:  # a voice's own error (onnxruntime, piper) is an engine failure all the same
        raise EngineError(f"speech synthesis failed: {exc!r}") from exc
    now = time.monotonic()
    if first:
        timeline.mark("tts_first_audio", now)
        ctx.observer.budget_missed(timeline.stage("tts_first_audio", now - started))
        timeline.waited("tts_first_audio", timeline.engine_waits.get("tts", 0.0))
        if ctx.not_before > now:  # a caller who goes on meanwhile cancels the reply before a word is heard
            await asyncio.sleep(ctx.not_before - now)
    pcm = float_to_pcm16(resample(audio, ctx.tts.sample_rate, ctx.sample_rate))
    await ctx.observer.agent_text(timeline.turn, text)
    ctx.player.enqueue(
        Segment(turn=timeline.turn, kind="reply", text=text, pcm=pcm, on_start=ctx.on_audio_out if first else None)
    )


async def speak_reply(ctx: ReplyContext, messages: list[Message], timeline: TurnTimeline) -> str:
    """Generate and speak a reply; returns the text spoken. Raises EngineError or TimeoutError when an
    engine fails or hangs, and :class:`ToolCalled` (nothing spoken) when the model calls one of
    ``ctx.tools``. Cancel-safe: cancelling stops the model and synthesis promptly."""
    timeline.mark("llm_start", time.monotonic())
    spoken: list[str] = []
    try:
        if ctx.overlap:
            await _overlapped(ctx, messages, timeline, spoken)
        else:
            await _in_sequence(ctx, messages, timeline, spoken)
    except _Rejected as rejected:
        problem = rejected.problem
        await ctx.observer.reply_rejected(timeline.turn, rejected.clause, problem.kind, problem.detail)
        if not spoken and problem.action in {t.name for t in ctx.tools}:
            # The model said in words what an action does: the call does the action (arguments from the caller).
            raise ToolCalled(json.dumps({"name": problem.action, "arguments": {}})) from None
    else:
        if spoken or not ctx.fallback:
            return " ".join(spoken)
        # the model wrote nothing to say: the caller is never left in silence
        await ctx.observer.reply_rejected(timeline.turn, "", "empty", "the model wrote nothing to say")
    for piece in spoken_pieces(_after(spoken, ctx.fallback)):  # the first is heard while the rest is made
        await _say(ctx, timeline, piece, spoken)
    return " ".join(spoken)


async def say_text(ctx: ReplyContext, timeline: TurnTimeline, text: str) -> str:
    """Speak ``text`` as the turn's reply, without the model (an action's result, a question for what
    an action still needs); returns it."""
    timeline.mark("llm_start", time.monotonic())
    spoken: list[str] = []
    for piece in spoken_pieces(text):  # the first clause alone: it is heard while the rest is made
        await _say(ctx, timeline, piece, spoken)
    return text


async def _say(ctx: ReplyContext, timeline: TurnTimeline, clause: str, spoken: list[str]) -> None:
    """Speak one clause of the reply (the first one marks the timeline)."""
    first = not spoken
    if first:
        timeline.mark("first_clause", time.monotonic())
    spoken.append(clause)
    await _speak(ctx, timeline, clause, first)


def _after(spoken: list[str], fallback: str) -> str:
    """The fallback without the words already said ("I'm sorry," then "I'm sorry, I don't know ..."), and
    without its opening apology when the caller already heard one ("Sorry," then "I don't know ...")."""
    said = " ".join(spoken).split()
    words = fallback.split()
    if said and [w.lower().strip(",.") for w in words[: len(said)]] == [w.lower().strip(",.") for w in said]:
        return " ".join(words[len(said):]) or fallback
    if any(w.lower().strip(",.!") == "sorry" for w in said) and (rest := _APOLOGY.sub("", fallback, count=1)) != fallback:
        return rest[:1].upper() + rest[1:]
    return fallback


def _checked(ctx: ReplyContext, clause: str) -> str:
    """``clause`` if it passes the reply check; raises :class:`_Rejected` if not."""
    if ctx.check is not None and (problem := ctx.check.clause(clause)) is not None:
        raise _Rejected(clause, problem)
    return clause


async def _in_sequence(ctx: ReplyContext, messages: list[Message], timeline: TurnTimeline, spoken: list[str]) -> None:
    """The whole reply is generated, then checked, synthesised and played (the benchmark baseline)."""
    async with contextlib.aclosing(_words(ctx, messages, timeline)) as tokens:
        text = "".join([piece async for piece in tokens])
    cut = SpokenReply(ctx.max_sentences)
    clauses = [*cut.feed(text + " "), *filter(None, [cut.flush()])]
    whole = " ".join(_checked(ctx, clause) for clause in clauses)
    if whole:
        await _say(ctx, timeline, whole, spoken)


async def _overlapped(ctx: ReplyContext, messages: list[Message], timeline: TurnTimeline, spoken: list[str]) -> None:
    """The model writes clauses into a small queue while each is checked, synthesised and queued for
    playback. A rejected clause cancels the model (the TaskGroup cancels the writer)."""
    clauses: asyncio.Queue[str | None] = asyncio.Queue(maxsize=4)

    async def write() -> None:
        cut = SpokenReply(ctx.max_sentences)
        async with contextlib.aclosing(_words(ctx, messages, timeline)) as tokens:
            async for piece in tokens:
                for clause in cut.feed(piece):
                    await clauses.put(clause)
                if cut.done:  # enough said: stop the model now
                    break
        if rest := cut.flush():
            await clauses.put(rest)
        await clauses.put(_END)

    async def say() -> None:
        while (clause := await clauses.get()) is not _END:
            await _say(ctx, timeline, _checked(ctx, clause), spoken)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(write())
            group.create_task(say())
    except* (EngineError, TimeoutError, _Rejected, ToolCalled) as failure:
        raise failure.exceptions[0] from None
