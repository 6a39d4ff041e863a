"""One agent reply to one caller turn, owned and cancelled as one unit.

A :class:`ReplyHandle` goes from the caller's words (a transcription, or a keypad turn's text) through
the model and speech synthesis to the first reply frame played. It plays a filler when the reply is not
out by the turn deadline, and a spoken apology when an engine fails or hangs. Cancelling it (barge-in,
the caller going on, hang-up) stops the model and synthesis; the coordinator then says how the turn ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time

from voiceagent.actions.slots import names_in
from voiceagent.actions.when import resolve_time
from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.llm import EngineError
from voiceagent.engines.worker import collect_waits
from voiceagent.personas import Fact, relevant_facts
from voiceagent.personas.model import WEEKDAYS, Weekday
from voiceagent.pipeline.action_desk import Decision, Say
from voiceagent.pipeline.action_turn import ActionTurn
from voiceagent.pipeline.context import CallContext
from voiceagent.pipeline.recognizer import Transcription
from voiceagent.pipeline.reply import ReplyContext, ToolCalled, speak_reply
from voiceagent.pipeline.timeline import TurnTimeline
from voiceagent.stages.fact_answer import fact_answer
from voiceagent.stages.reply_check import ReplyCheck, fallback_reply
from voiceagent.stages.thanks import CLOSING, WELCOME, thanks_only
from voiceagent.stages.unfinished import sounds_unfinished
from voiceagent.stages.unknown_question import unknown_thing

log = logging.getLogger(__name__)

EARLY_ENDS = ("model", "silence", "unsure", "question")  # what may end a turn before the longest silence wait


def today() -> Weekday:
    """The weekday now, on this server's clock ("today" and "tomorrow" in the caller's words)."""
    return WEEKDAYS[datetime.date.today().weekday()]


class ReplyHandle:
    """The answer to caller turn ``number``. Call :meth:`start` once; :meth:`cancel` stops it."""

    def __init__(
        self, ctx: CallContext, number: int, timeline: TurnTimeline, *, audio: FloatAudio,
        heard: Transcription | str, revises: int | None = None, may_ask_again: bool = True, asked_before: int = 0,
    ) -> None:
        """``may_ask_again``: if nothing is heard in this turn, the caller may be asked to say it again;
        ``asked_before``: how many turns right before this one did so."""
        self.ctx = ctx
        self.number = number
        self.timeline = timeline
        self.audio = audio  # everything the caller said in this turn (with any continued fragment)
        self.revises = revises  # the earlier turn this one continues (the caller was not finished)
        self._heard = heard  # the transcription under way, or a keypad turn's text
        self.user_text: str | None = None
        self.outcome = "answered"
        self.may_ask_again = may_ask_again
        self.asked_again = False  # nothing was heard and the caller was asked to say it again
        self.asked_before = asked_before
        self.filler = False
        self.cancelled = False  # stopped by the call: the call reports how it ended
        self._audio_out = asyncio.Event()  # the first agent audio of this turn left (reply or filler)
        self._reply_out = asyncio.Event()  # the first audio of the real reply left (after any filler)
        self._task: asyncio.Task[None] | None = None
        self.desk_before = ctx.desk.checkpoint()  # what the call's actions waited for before this turn
        self._acting: ActionTurn | None = None
        self._hold_ms = 0.0  # silence its reply waits for: words that need more, or a partial answer to the desk

    @property
    def asks_in_a_row(self) -> int:
        """Turns in a row, up to this one, in which the caller was asked to say it again."""
        return self.asked_before + 1 if self.asked_again else 0

    def start(self) -> None:
        """Begin answering (in a task of its own)."""
        self._task = asyncio.create_task(self._run())

    @property
    def running(self) -> bool:
        """True while the answer is being worked out (transcribing, generating or synthesising)."""
        return self._task is not None and not self._task.done()

    @property
    def acted(self) -> bool:
        """True once this turn started an action (it happened, even if the turn is taken back)."""
        return self._acting is not None and self._acting.ran

    @property
    def reply_heard(self) -> bool:
        """True once the first frame of the real reply (not a filler) was sent to the caller."""
        return self.timeline.reply_out is not None

    async def cancel(self) -> None:
        """Stop the answer and wait until it has stopped. The caller of this reports the turn."""
        self.cancelled = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def abandon(self) -> None:
        """Cancel without waiting or reporting (the call is going away)."""
        self.cancelled = True
        if self._task is not None:
            self._task.cancel()

    async def report(self, *, interrupted: bool) -> None:
        """Send the turn's metrics everywhere (once the turn is over)."""
        if interrupted:
            self.outcome = "interrupted"
        event = self.timeline.to_metrics(outcome=self.outcome, filler=self.filler, interrupted=interrupted)
        await self.ctx.observer.turn_finished(event)

    # ----------------------------------------------------------------- the answer
    async def _run(self) -> None:
        collect_waits(self.timeline.engine_waits)  # the model's and synthesis' queue waits of this turn
        filler = asyncio.create_task(self._filler_at_deadline())
        try:
            text = await self._caller_words()
            if text is None:
                return
            if not text:
                self.outcome = "empty"
                filler.cancel()
                await self._ask_again()
                return
            await self.ctx.observer.transcript(self.number, text, self.revises)
            await self._wait_if_unfinished(text)
            self.ctx.history.add_user(text)
            self.user_text = text
            # everything the caller said since the agent last spoke: words kept from a turn they went on
            # with (see Call._within_sentence) are read with this turn's by the desk and the action checks
            await self._reply(self.ctx.history.open_question() or text, *self._ground())  # facts, check, fallback
        finally:
            filler.cancel()
            # Not current_task().cancelling(): a TaskGroup whose child failed leaves it raised on 3.11.
            if not self.cancelled:
                await self.report(interrupted=False)

    async def _ask_again(self) -> None:
        """Nothing was heard in the caller's speech. Stay quiet until ``ask_again_after_s`` after it, in
        case they go on (their voice cancels this and the turn is carried into theirs), then ask them to
        say it again (not turn after turn: see ``may_ask_again``; a noisy line would hear it over and over)."""
        ctx = self.ctx
        wait_s = ctx.settings.ask_again_after_s
        if wait_s <= 0 or not self.may_ask_again:
            return
        await asyncio.sleep(max(0.0, self.timeline.marks["speech_end"] + wait_s - time.monotonic()))
        self.asked_again = True
        ctx.queue_phrase(self.number, "reprompt", ctx.persona.not_heard, on_start=self._on_audio)
        await ctx.observer.agent_text(self.number, ctx.persona.not_heard, "reprompt")
        with contextlib.suppress(TimeoutError):  # the turn's metrics end when it is heard
            await asyncio.wait_for(self._audio_out.wait(), ctx.settings.engine_timeout_s)

    async def _caller_words(self) -> str | None:
        """The caller's words (stripped), or None after apologising for a failed recognizer."""
        if isinstance(self._heard, str):
            return self._heard.strip()
        try:
            text, seconds, waited = await self._heard
        except Exception as exc:  # noqa: BLE001 - a failed STT engine gets an apology (TimeoutError too)
            await self._apologise("stt_failed", f"speech recognition failed: {exc!r}")
            return None
        self.timeline.mark("stt_done", time.monotonic())
        self.ctx.observer.budget_missed(self.timeline.stage("stt", seconds))
        self.timeline.waited("stt", waited)
        return text.strip()

    async def _wait_if_unfinished(self, text: str) -> None:
        """A turn ended early (the end-of-turn model called it finished, or the short silence wait) whose
        words trail off or end on a word that needs another ("Can I bring my car in on") is answered only
        once the silence reaches ``turn_max_silence_ms``: the model's time is not spent on half a sentence.
        One that gives only part of what the action desk asked for ("It's Mike Ross," to "your name, the day
        and the time": ``partial_answer_hold``) has the desk's answer made at once and heard only then.
        Either way the caller's voice coming back before then cancels the reply, the two pieces are one
        turn, and nothing has been done (see :class:`ActionTurn`)."""
        ctx, ended = self.ctx, self.timeline.end_of_turn
        if ended.get("reason") not in EARLY_ENDS:
            return
        unfinished = sounds_unfinished(text)
        if unfinished:
            ended["held_unfinished"] = True
            ctx.observer.held_unfinished()
        elif ctx.settings.partial_answer_hold and ctx.desk.answers_in_part(text, datetime.date.today()):
            ended["held_partial"] = True
            ctx.observer.held_partial()
        else:
            return
        self._hold_ms = ctx.settings.turn_max_silence_ms  # heard no sooner (and no filler meanwhile either)
        if unfinished:  # nothing is worked out before then
            await asyncio.sleep(max(0.0, self._not_before() - time.monotonic()))

    def _ground(self) -> tuple[tuple[Fact, ...], ReplyCheck | None, str]:
        """Put the persona's facts that match the caller's words beside the question, and make the
        check (with its fact-based fallback) the reply must pass. Returns the facts, the check and the
        fallback."""
        ctx, settings = self.ctx, self.ctx.settings
        business, history = ctx.persona.business, ctx.history
        question = history.open_question()
        facts = (relevant_facts(business, question, today=today(), at=resolve_time(question, business.open_at_some_time))
                 if business else ())
        if facts and settings.grounding:
            history.ground(" ".join(f.text for f in facts))
        fallback = fallback_reply(facts, ctx.persona.dont_know, business)  # also said when the model says nothing
        if not settings.reply_check:
            return facts, None, fallback
        # The worked examples count as earlier replies: a small model copies them word for word.
        examples = [(e.caller, e.agent) for e in ctx.persona.examples]
        said = history.caller_said()
        check = ReplyCheck(business, question, facts=facts, earlier_said=said[:-1],
                           earlier_replies=[*examples, *history.exchanges()],
                           caller_names=[name for text in said for name in names_in(text)])
        return facts, check, fallback

    async def _reply(self, turn: str, facts: tuple[Fact, ...], check: ReplyCheck | None, fallback: str) -> None:
        ctx, settings = self.ctx, self.ctx.settings
        reply_ctx = ReplyContext(
            llm=ctx.engines.llm, tts=ctx.engines.tts, player=ctx.player, observer=ctx.observer,
            sample_rate=ctx.sample_rate, max_tokens=settings.max_reply_tokens,
            max_sentences=settings.max_reply_sentences, temperature=settings.temperature,
            timeout_s=settings.engine_timeout_s, overlap=settings.overlap, on_audio_out=self._on_reply_audio,
            check=check, fallback=fallback, tools=tuple(ctx.desk.tools()), named_only=ctx.desk.named_only(),
            not_before=self._not_before(),
        )
        messages = ctx.history.messages()
        # a call of an action the caller did not ask for: the facts that answer their words, if any, not the model again
        instead = fact_answer(ctx.persona.business, turn, facts, questions_only=False) if settings.fact_answers else None
        acting = self._acting = ActionTurn(ctx, self.timeline, reply_ctx, turn, messages, self._play_filler,
                                           instead or "")
        now = datetime.datetime.now()
        try:
            decision = self._without_model(turn, facts, now.date())
            if decision is not None:
                reply = await acting.decided(decision, now)
            else:
                try:
                    reply = await speak_reply(reply_ctx, messages, self.timeline)
                except ToolCalled as called:
                    reply = await acting.called(called.text, now)
        except (EngineError, TimeoutError) as exc:
            code = "engine_timeout" if isinstance(exc, TimeoutError) else "engine_error"
            await self._apologise(code, f"the language or speech engine failed: {exc!r}")
            return
        ctx.history.set_reply(self.number, reply)
        ctx.observer.reply(self.number, reply)
        ctx.prefill()
        if reply:  # the turn's metrics end with the reply's first audio leaving (it may wait behind a filler)
            await self._until_reply_out(settings.engine_timeout_s)

    def _not_before(self) -> float:
        """When the reply may first be heard: a turn ended early (the end-of-turn model called it finished)
        not before ``reply_not_before_ms`` (at most ``turn_max_silence_ms``) of silence after the caller's
        last word; one ended before the silence it was waiting for (judged unfinished:
        ``turn_unsure_ends``) not before that silence, as if it had been waited for; one that sounds
        unfinished or gives part of what the desk asked for (:meth:`_wait_if_unfinished`) not before
        ``turn_max_silence_ms``.
        The reply is made meanwhile (the recogniser and the model start at once); what waits is only its
        sound (and any deed: see :class:`ActionTurn`), so a caller who pauses mid-sentence and goes on
        within that time hears nothing of an answer to half of it."""
        settings, ended = self.ctx.settings, self.timeline.end_of_turn
        early_ms = min(settings.reply_not_before_ms, settings.turn_max_silence_ms)
        wait_ms = max(early_ms if ended.get("reason") in EARLY_ENDS else 0, ended.get("hold_ms", 0),
                      self._hold_ms)
        return self.timeline.marks["speech_end"] + wait_ms / 1000 if wait_ms > 0 else 0.0

    def _without_model(self, turn: str, facts: tuple[Fact, ...], day: datetime.date) -> Decision | None:
        """What the call answers without the model, if anything: the action desk's next step, a caller's
        thanks or goodbye, a question about a thing no fact mentions ("I don't know that; shall I take a
        message?", and what the business is), or one the facts answer whole."""
        ctx, settings = self.ctx, self.ctx.settings
        decision = ctx.desk.before_model(turn, day)
        if decision is not None:
            return decision
        if settings.thanks_answers and (thanks := thanks_only(turn, ctx.persona.business)):
            return ctx.desk.goodbye() if thanks == CLOSING else Say(WELCOME)
        if not settings.fact_answers or ctx.desk.may_act(turn):
            return None
        business = ctx.persona.business
        if settings.unknown_answers and unknown_thing(business, turn, facts):
            return Say(fallback_reply((), ctx.persona.dont_know, business))  # not the facts matched elsewhere
        answer = fact_answer(business, turn, facts)
        return Say(answer) if answer else None

    async def _until_reply_out(self, idle_s: float) -> None:
        """Wait for the reply's first audio to leave: as long as the player is busy with what is ahead of
        it (a filler), or ``idle_s`` more once the player has nothing to play."""
        idle_since: float | None = None
        while not self._reply_out.is_set():
            now = time.monotonic()
            idle_since = None if self.ctx.player.busy else (idle_since or now)
            if idle_since is not None and now - idle_since > idle_s:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reply_out.wait(), 0.05)

    def _on_reply_audio(self, at: float) -> None:
        self.timeline.reply_out = at
        self._reply_out.set()
        self._on_audio(at)

    def _on_audio(self, at: float) -> None:
        self._audio_out.set()
        if self.timeline.mark("audio_out", at):
            turn_s = at - self.timeline.marks["speech_end"]
            self.ctx.observer.budget_missed(self.timeline.check("turn", turn_s))

    async def _filler_at_deadline(self) -> None:
        """Play a filler if no agent audio of this turn is out by the turn deadline. When the caller's
        words are already in at the deadline (the answer is being worked out), it is usually moments away
        and a filler would hold it back by the filler's own length: the filler then waits
        ``filler_grace_ms`` more. It plays at the deadline when recognition itself is late. Never before
        the reply itself may be heard (:meth:`_not_before`): the caller may not have finished."""
        settings = self.ctx.settings
        deadline = self.timeline.marks["speech_end"] + settings.budgets.turn_ms / 1000
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        if "stt_done" in self.timeline.marks:
            await asyncio.sleep(max(0.0, deadline + settings.filler_grace_ms / 1000 - time.monotonic()))
        while (hold_s := self._not_before() - time.monotonic()) > 0:  # (a hold may be found while waiting)
            await asyncio.sleep(hold_s)
        self._play_filler()

    def _play_filler(self) -> None:
        """Play a filler phrase, unless audio of this turn is already out."""
        ctx = self.ctx
        if self._audio_out.is_set() or self.cancelled or self.filler or "first_clause" in self.timeline.marks:
            return  # (a clause already in synthesis is the answer, moments away: a filler would delay it)
        text = ctx.phrases.filler(ctx.persona)
        self.filler = True
        ctx.observer.filler()
        ctx.queue_phrase(self.number, "filler", text, on_start=self._on_audio)
        ctx.observer.agent_text_soon(self.number, text, "filler")

    async def _apologise(self, code: str, message: str) -> None:
        ctx = self.ctx
        log.warning("call %s turn %d: %s", ctx.call_id, self.number, message)
        self.outcome = "apology"
        await ctx.observer.error(code, message)
        ctx.queue_phrase(self.number, "apology", ctx.persona.apology, on_start=self._on_audio)
        await ctx.observer.agent_text(self.number, ctx.persona.apology, "apology")
        with contextlib.suppress(TimeoutError):  # the turn's metrics end when the apology is heard
            await asyncio.wait_for(self._audio_out.wait(), ctx.settings.engine_timeout_s)
