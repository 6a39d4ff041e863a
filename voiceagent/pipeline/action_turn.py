"""A turn that acts: what the call's action desk decided, carried out and spoken.

The desk (:mod:`action_desk`) decides; this speaks its questions and read-backs, runs actions through
the runner (a filler plays when one takes a moment), says the real result, and hands the caller over
or hangs up once the last words have been heard. Every action goes to the record and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import time
from collections.abc import Callable

from voiceagent.actions.runner import ActionResult
from voiceagent.engines.llm import Message
from voiceagent.personas.actions import parse_call
from voiceagent.pipeline.action_desk import Decision, Reconsider, Run, Say
from voiceagent.pipeline.context import CallContext
from voiceagent.pipeline.reply import ReplyContext, say_text, speak_reply
from voiceagent.pipeline.timeline import TurnTimeline

GOODBYE = "Thank you for calling. Goodbye!"
PUTTING_THROUGH = "Sure, I'm putting you through now."
NO_ONE = "Sorry, there's no one I can put you through to right now. I can take a message and have someone call you back."
ACTION_TASK = "action"  # the name of an action's task in the call's TaskSet (the call lets these finish)
FILLER_AFTER_S = 0.3  # an action not done by then gets a filler, so the caller never hears silence
LAST_WORDS_S = 15.0  # longest wait for goodbye words to be heard before the line is ended anyway


class ActionTurn:
    """Carries out one turn's action decision. ``reply_ctx`` speaks; ``messages`` are the turn's prompt."""

    def __init__(self, ctx: CallContext, timeline: TurnTimeline, reply_ctx: ReplyContext, turn: str,
                 messages: list[Message], play_filler: Callable[[], None], instead: str = "") -> None:
        """``instead``: what to say, rather than ask the model again for words, when it calls an action it
        should not have (the persona's facts that answer the caller's words whole; "": ask the model)."""
        self.ctx = ctx
        self.instead = instead
        self.timeline = timeline
        self.reply_ctx = reply_ctx
        self.turn = turn  # what the caller said this turn
        self.messages = messages
        self._play_filler = play_filler  # plays a filler unless audio of this turn is already out
        self.ran = False  # an action was started: it happened, whatever becomes of the turn

    @property
    def number(self) -> int:
        """The turn's number."""
        return self.timeline.turn

    async def called(self, raw: str, now: datetime.datetime) -> str:
        """The model answered with the tool call ``raw``: check it, then carry out what the desk says."""
        parsed = parse_call(raw)
        if parsed is None:
            decision: Decision = Reconsider(f"unreadable tool call {raw[:80]!r}")
        else:
            decision = self.ctx.desk.on_call(parsed[0], parsed[1], self.turn, now.date())
        if isinstance(decision, Reconsider):
            self.ctx.observer.action_reconsidered(self.number, parsed[0] if parsed else "?", decision.why)
        return await self.decided(decision, now)

    async def decided(self, decision: Decision, now: datetime.datetime) -> str:
        """Speak, run or reconsider; returns what the caller heard as the turn's reply."""
        if isinstance(decision, Say):
            return await say_text(self.reply_ctx, self.timeline, decision.text)
        if isinstance(decision, Reconsider):  # the facts, else words only: the tools are not offered again
            if self.instead:
                return await say_text(self.reply_ctx, self.timeline, self.instead)
            return await speak_reply(dataclasses.replace(self.reply_ctx, tools=()), self.messages, self.timeline)
        return await self._run(decision, now)

    async def _run(self, decision: Run, now: datetime.datetime) -> str:
        spec, ctx = decision.spec, self.ctx
        # Nothing is done before the reply may be heard: a caller who goes on by then cancels this turn.
        await asyncio.sleep(max(0.0, self.reply_ctx.not_before - time.monotonic()))
        self.ran = True
        if spec.name == "end_call":
            ctx.observer.action(self.number, spec.name, {}, "done", 0.0, {})
            text = await say_text(self.reply_ctx, self.timeline, GOODBYE)
            ctx.tasks.start(self._then_end("agent_ended", None))
            return text
        if spec.name == "transfer_to_human":
            target = spec.target or ctx.settings.transfer_to
            ctx.observer.action(self.number, spec.name, {}, "done" if target else "failed", 0.0,
                                {"to": target} if target else {"error": "no transfer_to configured"})
            text = await say_text(self.reply_ctx, self.timeline, PUTTING_THROUGH if target else NO_ONE)
            if target:
                ctx.tasks.start(self._then_end("transferred", target))
            return text
        if ctx.runner is None:
            ctx.observer.action(self.number, spec.name, decision.arguments, "failed", 0.0, {"error": "no runner"})
            return await say_text(self.reply_ctx, self.timeline, NO_ONE)
        filler = asyncio.create_task(self._filler_if_slow())
        # The action runs in a task of the call's own, so a barge-in stops the words, never the deed.
        job = ctx.tasks.start(ctx.runner.run(spec, decision.arguments, persona=ctx.persona, call_id=ctx.call_id,
                                             key=f"{ctx.call_id}:{self.number}:{spec.name}", now=now),
                              name=ACTION_TASK)
        try:
            result = await asyncio.shield(job)
        except asyncio.CancelledError:
            job.add_done_callback(lambda done: self._done_unheard(decision, done))
            raise
        finally:
            filler.cancel()
        ctx.observer.action(self.number, spec.name, decision.arguments, result.outcome, result.ms, result.details)
        if not decision.then_goodbye:
            return await say_text(self.reply_ctx, self.timeline, result.say)
        ctx.observer.action(self.number, "end_call", {}, "done", 0.0, {})  # the caller said goodbye with the yes
        text = await say_text(self.reply_ctx, self.timeline, f"{result.say} {GOODBYE}")
        ctx.tasks.start(self._then_end("agent_ended", None))
        return text

    def _done_unheard(self, decision: Run, job: asyncio.Task[ActionResult]) -> None:
        """The caller talked over the agent while the action ran: it still happened, so the record and
        the model's next turn are told what came of it."""
        if job.cancelled() or job.exception() is not None:
            return
        result = job.result()
        self.ctx.observer.action(self.number, decision.spec.name, decision.arguments, result.outcome, result.ms,
                                 {**result.details, "heard": False})
        self.ctx.history.note(f"{decision.spec.name}: {result.outcome}: {result.say}")

    async def _filler_if_slow(self) -> None:
        await asyncio.sleep(FILLER_AFTER_S)
        self._play_filler()

    async def _then_end(self, reason: str, transfer_to: str | None) -> None:
        """Once the last words have been heard, hand the caller over (or not) and end the call."""
        deadline = time.monotonic() + LAST_WORDS_S
        await asyncio.sleep(0.05)
        while self.ctx.player.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if transfer_to is not None:
            with contextlib.suppress(Exception):
                await self.ctx.observer.transfer(transfer_to)
        self.ctx.end_call(reason)
