"""One call: the coordinator of its parts. Audio flows one way: caller audio in (:mod:`inlet`) ->
caller turns (:mod:`recognizer`) -> agent replies (:mod:`reply_handle`) -> agent audio out (:mod:`player`);
everything the call reports leaves through its :mod:`observer`.

The coordinator decides what a caller's action means for the agent: a finished turn cancels the reply
in progress and starts a new one; a turn that went on before any reply was heard is carried into the
next one; talking over the agent stops it and keeps in the history only what the caller heard, unless
they started again so soon after the reply began (``continue_window_ms``) that they were still finishing
their turn: the reply is then taken back and the turn carried, as if nothing of it had been heard.
Tasks, all in one TaskGroup for the call's life: the listener, the player, and one reply at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from voiceagent.actions.runner import ActionRunner
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.personas import Persona
from voiceagent.personas.render import call_recognition_prompt
from voiceagent.pipeline.action_desk import ActionDesk
from voiceagent.pipeline.action_turn import ACTION_TASK
from voiceagent.pipeline.context import CallContext
from voiceagent.pipeline.history import History
from voiceagent.pipeline.inlet import Admission, AudioInlet
from voiceagent.pipeline.keypad import Keypad
from voiceagent.pipeline.observer import CallObserver
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.pipeline.player import AudioPlayer, CallOutput
from voiceagent.pipeline.recognizer import (
    CallerDone,
    CallerSpeaking,
    CallerTalkingOver,
    Recognizer,
    RecognizerEvent,
)
from voiceagent.pipeline.reply_handle import ReplyHandle
from voiceagent.pipeline.tasks import TaskSet
from voiceagent.pipeline.timeline import TurnTimeline
from voiceagent.records import CallRecord

log = logging.getLogger(__name__)

ASK_AGAIN_IN_A_ROW = 2  # nothing heard turn after turn: "say it again" this often, then silence (a noisy line)


class Call:
    """A single phone-style conversation, independent of the transport that carries it."""

    def __init__(
        self, *, call_id: str, engines: Engines, phrases: PhraseBank, settings: Settings, persona: Persona,
        sample_rate: int, output: CallOutput, system_prompt: str | None = None, transport: str = "native",
        details: dict[str, str] | None = None, playback_lead_ms: int | None = None,
        runner: ActionRunner | None = None, on_reply: Callable[[float], None] | None = None,
    ) -> None:
        """``on_reply`` hears each answered turn's real-reply time in ms (the server's load window)."""
        self.call_id = call_id
        self.settings = settings
        self.persona = persona
        self.sample_rate = sample_rate
        self.transport = transport
        self.details = details or {}  # transport facts for the record (call SIDs, remote address ...)
        self.end_reason = "hangup"
        self.record = CallRecord(settings.records_dir, call_id, redact=settings.redact)
        self.history = History(system_prompt or persona.system, settings.history_turns)
        self.player = AudioPlayer(
            output, sample_rate, frame_ms=settings.out_frame_ms,
            lead_ms=settings.playback_lead_ms if playback_lead_ms is None else playback_lead_ms,
            hold=lambda: self._recognizer.caller_voiced,
        )
        self._tasks = TaskSet()
        self.observer = CallObserver(output, self.record, self._tasks, on_reply)
        self.ctx = CallContext(call_id, settings, engines, phrases, persona, sample_rate, self.history, self.player,
                               self.observer, self._tasks, ActionDesk(persona if system_prompt is None else
                               dataclasses.replace(persona, actions=())), runner, self.hang_up)
        self._inlet = AudioInlet(sample_rate, max_frames=settings.inbound_queue_frames,
                                 burst_s=settings.input_burst_s, abuse_s=settings.input_abuse_s)
        self._recognizer = Recognizer(sample_rate=sample_rate, vad=engines.vad, stt=engines.stt, settings=settings,
                                      agent_busy=self._agent_busy, turn=engines.turn,
                                      stt_prompt=call_recognition_prompt(persona, settings.stt_vocabulary))
        self._keypad = Keypad(settings.dtmf_gap_ms, self._on_keyed_turn)
        self._reply: ReplyHandle | None = None
        self._carried: ReplyHandle | None = None  # a turn the caller went on with before any reply was heard
        self._resumed_at: float | None = None  # when the caller last started speaking (monotonic seconds)
        self._paused_s = 0.0  # the silence (audio seconds) before they did
        self._turns = 0
        self._throttled = False
        self._started = time.monotonic()
        self._ended = asyncio.Event()

    # ----------------------------------------------------------------- transport side
    def push_audio(self, pcm: bytes) -> None:
        """Hand over caller audio (16-bit PCM at the call's rate). Never blocks; see :mod:`inlet` for
        the queue policy and the rate limits (``input_burst_s``, ``input_abuse_s``)."""
        verdict = self._inlet.offer(pcm)
        if verdict is Admission.ABUSIVE:
            self.hang_up("input_too_fast")
        elif verdict is Admission.TOO_FAST:
            self.observer.audio_dropped()
            if not self._throttled:
                self._throttled = True
                self.observer.error_soon("input_too_fast", "caller audio is arriving faster than real time: frames dropped")
        elif verdict is Admission.DROPPED_OLDEST:
            self.observer.audio_dropped()

    def push_dtmf(self, digit: str) -> None:
        """A keypad press (see :mod:`keypad`); pressing a key while the agent talks interrupts it."""
        if self._keypad.press(digit):
            self.observer.keypad(digit)

    def hang_up(self, reason: str = "hangup") -> None:
        """End the call (idempotent); :meth:`run` returns soon after."""
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()

    def acknowledge_mark(self, name: str) -> bool:
        """The far end played agent audio up to the mark ``name`` (Twilio's echoed marks)."""
        return self.player.acknowledge(name)

    def note(self, kind: str, **fields: object) -> None:
        """Write a transport's own happening (flow control, say) into the call record."""
        self.record.write(kind, **fields)

    async def send_error(self, code: str, message: str, fatal: bool = False) -> None:
        """Tell the client something went wrong, count it and write it to the record."""
        await self.observer.error(code, message, fatal=fatal)

    @property
    def agent_thinking(self) -> bool:
        """True while a turn is being answered (transcribing, generating or synthesising)."""
        return self._reply is not None and self._reply.running

    # ----------------------------------------------------------------- life cycle
    async def run(self) -> None:
        """Greet, then serve the call until :meth:`hang_up`. Cancel-safe: tasks are cancelled and the
        record is closed."""
        self.observer.call_started(
            call_id=self.call_id, persona=self.persona.name, sample_rate=self.sample_rate,
            models=self.ctx.engines.models(), transport=self.transport, **self.details,
        )
        try:
            async with asyncio.TaskGroup() as group:
                player = group.create_task(self.player.run())
                listener = group.create_task(self._listen())
                self._greet()
                await self._watch()
                for task in (listener, player):
                    task.cancel()
                await self._cancel_reply(outcome="call_ended")
        finally:
            self._keypad.close()
            if self._reply is not None:
                self._reply.abandon()
            self._recognizer.close()
            # An action under way is carried out to the end (and recorded), however the call ends.
            await self._tasks.settle(ACTION_TASK, self.settings.webhook_timeout_s * (self.settings.webhook_retries + 1))
            self._tasks.cancel_all()
            self.observer.call_ended(self.end_reason, self.history.transcript())

    async def _watch(self) -> None:
        """Wait for the end of the call, ending it past ``max_call_s`` or ``idle_timeout_s`` of no audio."""
        while not self._ended.is_set():
            now = time.monotonic()
            next_limit = min(self._started + self.settings.max_call_s, self._inlet.last_audio + self.settings.idle_timeout_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), max(0.01, next_limit - now))
            now = time.monotonic()
            if now - self._started > self.settings.max_call_s:
                self.hang_up("max_call_length")
            elif now - self._inlet.last_audio > self.settings.idle_timeout_s:
                self.hang_up("idle_timeout")

    def _greet(self) -> None:
        text = self.persona.greeting
        if text:
            self.ctx.queue_phrase(0, "greeting", text)
            self.history.set_reply(0, text)
            self.observer.agent_text_soon(0, text, "greeting")

    # ----------------------------------------------------------------- the caller
    async def _listen(self) -> None:
        while True:
            pcm, arrived = await self._inlet.get()
            for event in self._recognizer.feed(pcm, arrived):
                await self._on_caller(event)

    async def _on_caller(self, event: RecognizerEvent) -> None:
        if isinstance(event, CallerSpeaking):
            self._resumed_at, self._paused_s = time.monotonic(), event.pause_ms / 1000
            await self.observer.speech_started(self._turns + 1)
            if self._reply is not None and self._reply.running and not self._reply.reply_heard:
                await self._cancel_reply()  # the caller went on: nothing of the answer was heard yet
            # a caller reading out a number or a message pauses inside it: their turn ends on the longest wait
            # (a question asked instead ends when it sounds finished)
            desk = self.ctx.desk
            self._recognizer.be_patient(desk.awaits_dictation, desk.awaits_message, desk.asks_instead)
        elif isinstance(event, CallerTalkingOver):
            if self._still_finishing():
                await self._take_back()
            else:
                await self._interrupt()
        elif isinstance(event, CallerDone):
            now = time.monotonic()
            await self._cancel_reply()
            audio, heard = self._recognizer.take_turn(event)
            timeline = self._new_timeline(event.speech_end, now)
            timeline.ended(event.reason, event.silence_ms, event.turn_prob, event.hold_ms)
            self.observer.budget_missed(timeline.stage("endpoint", now - event.speech_end))
            revises = self._carried.number if self._carried is not None else None
            self._carried = None
            # "say it again" after nothing was heard: not over and over, nor for a sound made while the agent talked
            asked = self._reply.asks_in_a_row if self._reply is not None else 0
            self._answer(ReplyHandle(self.ctx, timeline.turn, timeline, audio=audio, heard=heard, revises=revises,
                                     asked_before=asked, may_ask_again=asked < ASK_AGAIN_IN_A_ROW and not self.player.busy))

    def _on_keyed_turn(self, text: str) -> None:
        if not self._ended.is_set():
            self._tasks.start(self._start_keyed_turn(text))

    async def _start_keyed_turn(self, text: str) -> None:
        if self._agent_busy():
            await self._interrupt()
        else:
            await self._cancel_reply()
        self._carried = None
        self._recognizer.carry(None)
        now = time.monotonic()
        timeline = self._new_timeline(now, now)
        self._answer(ReplyHandle(self.ctx, timeline.turn, timeline, audio=np.zeros(0, dtype=np.float32), heard=text))

    def _new_timeline(self, speech_end: float, endpoint: float) -> TurnTimeline:
        self._turns += 1
        timeline = TurnTimeline(self._turns, speech_end, self.settings.budgets)
        timeline.mark("endpoint", endpoint)
        return timeline

    def _answer(self, reply: ReplyHandle) -> None:
        self._reply = reply
        reply.start()

    def _agent_busy(self) -> bool:
        return self.agent_thinking or self.player.busy

    # ----------------------------------------------------------------- stopping the agent
    async def _cancel_reply(self, *, outcome: str = "continued") -> None:
        """Stop the reply in progress (if any) without touching playback. If none of it had been heard
        yet, the caller was simply not finished: the turn is carried into the next one, whose
        transcript (of all the audio) revises it (``outcome`` says otherwise when the call is ending)."""
        reply = self._reply
        if reply is None or not reply.running:
            return
        await reply.cancel()
        if reply.reply_heard:
            await reply.report(interrupted=True)
            return
        if outcome != "continued":
            reply.outcome = outcome
            await reply.report(interrupted=False)
            return
        if not reply.acted:  # "Yes." then "Yes, my name is ...": the whole sentence answers the desk
            self.ctx.desk.rewind(reply.desk_before)
        reply.outcome = "continued"
        if self._within_sentence():
            self._carry(reply)
        # else its words stay in the history and the next turn's are added to them (see :meth:`_within_sentence`)
        await reply.report(interrupted=False)

    def _carry(self, reply: ReplyHandle) -> None:
        """Put ``reply``'s audio in front of the caller's next turn, whose transcript revises it, and take
        its words out of the history (the new transcript has them)."""
        self._carried = reply
        self._recognizer.carry(reply.audio)
        if reply.user_text:
            self.history.retract_user(reply.user_text)

    def _within_sentence(self) -> bool:
        """True when the caller went on within ``continue_audio_s`` of the end of their last words: a
        pause inside a sentence, so the two parts are transcribed together. Later (they went on while a
        slow answer was still coming), the earlier words are kept as text: the audio carried never
        grows turn after turn, and a caller who keeps talking to a slow agent is still answered."""
        return self._paused_s <= self.settings.continue_audio_s

    def _still_finishing(self) -> bool:
        """True when the caller talking over the reply started again within ``continue_window_ms`` of its
        first audio: too soon to be answering it, so they paused mid-sentence and were answered too early.
        A reply that carried out an action is never taken back."""
        reply, window_s = self._reply, self.settings.continue_window_ms / 1000
        if reply is None or window_s <= 0 or reply.acted or reply.outcome != "answered":
            return False
        out = reply.timeline.reply_out
        return out is not None and self._resumed_at is not None and self._resumed_at - out <= window_s

    async def _take_back(self) -> None:
        """Undo the reply the caller talked over at once (see :meth:`_still_finishing`): stop it, drop its
        audio, take it and the caller's words out of the history and carry the turn into the one the
        caller is still speaking, whose transcript (of all the audio) revises it."""
        reply = self._reply
        assert reply is not None
        reported = not reply.running  # a finished reply sent its metrics when its first audio left
        if reply.running:
            await reply.cancel()
        self.player.clear()
        self.history.set_reply(reply.number, "")
        self.ctx.desk.rewind(reply.desk_before)
        self._carry(reply)
        reply.outcome = "continued"
        if not reported:
            await reply.report(interrupted=False)
        await self.observer.taken_back(reply.number)

    async def _interrupt(self) -> None:
        """The caller talks over the agent: stop thinking and speaking, keep only what was heard."""
        reply = self._reply
        await self._cancel_reply()
        heard = self.player.clear()
        if not heard:
            return
        current = reply.number if reply is not None else heard[-1].segment.turn
        mine = [h for h in heard if h.segment.turn == current]
        if not mine and all(h.fraction >= 1.0 for h in heard):
            return  # nothing of the agent's was cut off
        said = " ".join(h.text for h in mine if h.segment.kind in ("reply", "greeting")).strip()
        if mine:
            self.history.set_reply(current, said)
            self.ctx.prefill()
        await self.observer.interrupted(current, said)
