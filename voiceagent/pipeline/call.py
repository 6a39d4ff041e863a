"""One call: caller audio in, turns detected, answers spoken, barge-in honoured, every turn measured.

Tasks, all in one TaskGroup for the call's life:
- ingest: caller frames -> resample to 16 kHz -> VAD -> endpointer. Starts a speculative transcription
  when silence begins, starts a turn at the endpoint, interrupts the agent when the caller talks over it.
- player: paces agent audio out (see player.py).
- one turn task at a time: transcription -> reply (reply.py), with a filler timer at the turn deadline
  and a spoken apology when an engine fails.
Queue policy: caller audio waits in a bounded queue; when a call falls behind, its oldest frames are
dropped (and counted), never the newest: late audio is worth less than current audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

import numpy as np

from voiceagent import metrics
from voiceagent.audio.pcm import FloatAudio, pcm16_to_float
from voiceagent.audio.resample import StreamResampler
from voiceagent.config import Settings
from voiceagent.engines.llm import EngineError
from voiceagent.engines.loader import Engines
from voiceagent.events import AgentText, BudgetEvent, Clear, Error, SpeechStarted, Transcript
from voiceagent.personas import Persona
from voiceagent.pipeline.history import History
from voiceagent.pipeline.player import AudioPlayer, CallOutput, Segment
from voiceagent.pipeline.reply import ReplyContext, speak_reply
from voiceagent.pipeline.timeline import TurnTimeline
from voiceagent.records import CallRecord
from voiceagent.stages.endpointing import Endpoint, Endpointer, SilenceStart, SpeechResume, SpeechStart
from voiceagent.stages.vad import VAD_RATE, StreamingVad

log = logging.getLogger(__name__)

def _count_budget(event: BudgetEvent | None) -> None:
    """Count a budget miss in Prometheus (the turn's timeline keeps the event itself)."""
    if event is not None:
        metrics.BUDGET_EXCEEDED.labels(event.stage).inc()


PREROLL_FRAMES = 10  # 320 ms of audio kept before speech starts, so first syllables are not clipped


@dataclasses.dataclass(eq=False, slots=True)
class _Turn:
    """State of the turn being answered."""

    number: int
    timeline: TurnTimeline
    audio: FloatAudio  # everything the caller said in this turn (with any continued earlier fragment)
    revises: int | None = None  # the earlier turn this one continues (the caller was not finished)
    keyed: str | None = None  # a keypad (DTMF) turn: its text, in place of a transcription
    user_text: str | None = None
    task: asyncio.Task[None] | None = None
    audio_out: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)  # first agent audio sent
    cancelled: bool = False  # stopped by the call (barge-in, next turn, hang-up): it reports itself there
    filler: bool = False
    outcome: str = "answered"


class Call:
    """A single phone-style conversation, independent of the transport that carries it."""

    def __init__(
        self,
        *,
        call_id: str,
        engines: Engines,
        settings: Settings,
        persona: Persona,
        sample_rate: int,
        output: CallOutput,
        system_prompt: str | None = None,
        transport: str = "native",
        details: dict[str, str] | None = None,
        playback_lead_ms: int | None = None,
    ) -> None:
        self.call_id = call_id
        self.engines = engines
        self.settings = settings
        self.persona = persona
        self.sample_rate = sample_rate
        self.output = output
        self.transport = transport
        self.details = details or {}  # transport facts for the record (call SIDs, remote address ...)
        self.history = History(system_prompt or persona.system, settings.history_turns)
        self.record = CallRecord(settings.records_dir, call_id)
        self.player = AudioPlayer(
            output, sample_rate, frame_ms=settings.out_frame_ms,
            lead_ms=settings.playback_lead_ms if playback_lead_ms is None else playback_lead_ms,
        )
        self._inbound: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue(settings.inbound_queue_frames)
        self._resampler = StreamResampler(sample_rate, VAD_RATE)
        self._vad = StreamingVad(engines.vad)
        self._endpointer = Endpointer(
            threshold=settings.vad_threshold,
            min_speech_ms=settings.min_speech_ms,
            speculate_after_ms=settings.speculate_after_ms if settings.overlap else None,
            endpoint_silence_ms=settings.endpoint_silence_ms,
            max_utterance_s=settings.max_utterance_s,
        )
        self._preroll: list[FloatAudio] = []
        self._utterance: list[FloatAudio] = []
        self._speculation: tuple[int, asyncio.Task[tuple[str, float]]] | None = None
        self._turn: _Turn | None = None
        self._carry: _Turn | None = None  # a turn the caller went on with before any reply was heard
        self._turns = 0
        self._interrupted_this_speech = False
        self._background: set[asyncio.Task[None]] = set()
        self._ended = asyncio.Event()
        self.end_reason = "hangup"
        self._started = time.monotonic()
        self._last_audio = self._started
        self._samples_in = 0  # caller samples accepted
        self._samples_offered = 0  # caller samples sent, dropped ones included
        self._throttled = False
        self._digits: list[str] = []
        self._digits_timer: asyncio.TimerHandle | None = None

    # ----------------------------------------------------------------- transport side
    def push_audio(self, pcm: bytes) -> None:
        """Hand over caller audio (16-bit PCM at the call's rate). Never blocks; drops the oldest when full.

        Audio arriving faster than real time is allowed ``input_burst_s`` of lead (network jitter); past
        that it is dropped with one ``input_too_fast`` error, and past ``input_abuse_s`` the call is ended.
        """
        now = time.monotonic()
        self._last_audio = now
        elapsed = now - self._started
        self._samples_offered += len(pcm) // 2
        if self._samples_offered / self.sample_rate - elapsed > self.settings.input_abuse_s:
            self.hang_up("input_too_fast")
            return
        if (self._samples_in + len(pcm) // 2) / self.sample_rate - elapsed > self.settings.input_burst_s:
            metrics.DROPPED_AUDIO.inc()
            if not self._throttled:
                self._throttled = True
                self._emit_error("input_too_fast", "caller audio is arriving faster than real time: frames dropped")
            return
        self._samples_in += len(pcm) // 2
        if self._inbound.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._inbound.get_nowait()
                metrics.DROPPED_AUDIO.inc()
        self._inbound.put_nowait((pcm, time.monotonic()))

    def push_dtmf(self, digit: str) -> None:
        """A keypad press. Digits pressed in a row (gaps under ``dtmf_gap_ms``) become one turn whose
        text tells the model what was pressed; pressing a key while the agent talks interrupts it."""
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            return
        self._digits.append(digit)
        self.record.write("dtmf", digit=digit)
        if self._digits_timer is not None:
            self._digits_timer.cancel()
        loop = asyncio.get_running_loop()
        self._digits_timer = loop.call_later(self.settings.dtmf_gap_ms / 1000, self._keyed_turn)

    def _keyed_turn(self) -> None:
        digits, self._digits, self._digits_timer = self._digits, [], None
        if not digits or self._ended.is_set():
            return
        keys = " ".join(digits)
        text = f"(The caller pressed {keys} on the phone keypad.)"
        task = asyncio.create_task(self._start_keyed_turn(text))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _start_keyed_turn(self, text: str) -> None:
        if self._agent_busy():
            await self._interrupt()
        else:
            await self._cancel_turn()
        self._carry = None
        now = time.monotonic()
        self._turns += 1
        timeline = TurnTimeline(self._turns, now, self.settings.budgets)
        timeline.mark("endpoint", now)
        turn = _Turn(self._turns, timeline, np.zeros(0, dtype=np.float32), keyed=text)
        self._turn = turn
        turn.task = asyncio.create_task(self._answer(turn, None))

    def hang_up(self, reason: str = "hangup") -> None:
        """End the call (idempotent); :meth:`run` returns soon after."""
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()

    def _emit_error(self, code: str, message: str) -> None:
        task = asyncio.create_task(self.send_error(code, message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def send_error(self, code: str, message: str, fatal: bool = False) -> None:
        """Tell the client something went wrong, count it and write it to the record."""
        metrics.ERRORS.labels(code).inc()
        self.record.write("error", code=code, message=message)
        await self.output.send_event(Error(code=code, message=message, fatal=fatal))

    # ----------------------------------------------------------------- life cycle
    async def run(self) -> None:
        """Greet, then serve the call until :meth:`hang_up`. Cancel-safe: tasks are cancelled and the
        record is closed."""
        metrics.CALLS.inc()
        metrics.CALLS_ACTIVE.inc()
        self.record.write(
            "start", call_id=self.call_id, persona=self.persona.name, sample_rate=self.sample_rate,
            models=self.engines.models(), transport=self.transport, **self.details,
        )
        try:
            async with asyncio.TaskGroup() as group:
                player = group.create_task(self.player.run())
                ingest = group.create_task(self._ingest())
                self._greet()
                await self._watch()
                for task in (ingest, player):
                    task.cancel()
                await self._cancel_turn()
        finally:
            if self._digits_timer is not None:
                self._digits_timer.cancel()
            if self._turn is not None and self._turn.task is not None:
                self._turn.task.cancel()
            self._drop_speculation()
            for task in list(self._background):
                task.cancel()
            metrics.CALLS_ACTIVE.dec()
            self.record.write("end", reason=self.end_reason, history=self.history.transcript())
            self.record.close()

    async def _watch(self) -> None:
        """Wait for the end of the call, ending it past ``max_call_s`` or ``idle_timeout_s`` of no audio."""
        while not self._ended.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), 1.0)
            now = time.monotonic()
            if now - self._started > self.settings.max_call_s:
                self.hang_up("max_call_length")
            elif now - self._last_audio > self.settings.idle_timeout_s:
                self.hang_up("idle_timeout")

    def _greet(self) -> None:
        text = self.persona.greeting
        if not text:
            return
        self.player.enqueue(Segment(turn=0, kind="greeting", text=text, pcm=self.engines.phrases.pcm(text, self.sample_rate)))
        self.history.set_reply(0, text)
        self._emit_nowait_text(0, text, "greeting")

    def _prefill(self) -> None:
        """Warm the model's cache with the conversation while the caller listens."""
        messages = self.history.messages()

        async def run() -> None:
            try:
                await asyncio.wait_for(self.engines.llm.prefill(messages), self.settings.engine_timeout_s)
            except Exception as exc:  # noqa: BLE001 - a failed prefill only costs time on the next turn
                log.debug("prefill failed: %r", exc)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _emit_nowait_text(self, turn: int, text: str, kind: str) -> None:
        task = asyncio.create_task(self.output.send_event(AgentText(turn=turn, text=text, kind=kind)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ----------------------------------------------------------------- caller audio
    async def _ingest(self) -> None:
        while True:
            item = await self._inbound.get()
            if item is None:
                return
            pcm, arrived = item
            audio = self._resampler.process(pcm16_to_float(pcm))
            for frame, prob in self._vad.feed(audio):
                self._keep_audio(frame)
                for event in self._endpointer.feed(prob, arrived):
                    await self._on_vad_event(event)
                if (
                    self._endpointer.in_turn
                    and not self._interrupted_this_speech
                    and self._endpointer.voiced_ms >= self.settings.barge_in_ms
                    and self._agent_busy()
                ):
                    self._interrupted_this_speech = True
                    await self._interrupt()

    def _keep_audio(self, frame: FloatAudio) -> None:
        if self._endpointer.in_turn:
            self._utterance.append(frame)
        else:
            self._preroll.append(frame)
            del self._preroll[:-PREROLL_FRAMES]

    @property
    def agent_thinking(self) -> bool:
        """True while a turn is being answered (transcribing, generating or synthesising)."""
        return self._turn is not None and self._turn.task is not None and not self._turn.task.done()

    def _agent_busy(self) -> bool:
        return self.agent_thinking or self.player.busy

    async def _on_vad_event(self, event: object) -> None:
        if isinstance(event, SpeechStart):
            self._utterance = [*self._preroll, *self._utterance]
            self._preroll = []
            self._interrupted_this_speech = False
            await self.output.send_event(SpeechStarted(turn=self._turns + 1))
        elif isinstance(event, SilenceStart):
            self._drop_speculation()
            self._speculation = (event.frames, asyncio.create_task(self._transcribe(self._turn_audio())))
        elif isinstance(event, SpeechResume):
            self._drop_speculation()
        elif isinstance(event, Endpoint):
            now = time.monotonic()
            carried = self._carry
            await self._cancel_turn()
            speculation = None
            if self._speculation is not None and self._speculation[0] == event.frames and self._carry is carried:
                speculation = self._speculation[1]
                self._speculation = None
            self._drop_speculation()
            audio = self._turn_audio()
            revises = self._carry.number if self._carry is not None else None
            self._utterance = []
            self._carry = None
            self._turns += 1
            timeline = TurnTimeline(self._turns, event.speech_end, self.settings.budgets)
            timeline.mark("endpoint", now)
            _count_budget(timeline.stage("endpoint", now - event.speech_end))
            turn = _Turn(self._turns, timeline, audio, revises)
            self._turn = turn
            turn.task = asyncio.create_task(self._answer(turn, speculation))

    def _turn_audio(self) -> FloatAudio:
        """The caller's audio for the turn being detected, after any fragment it continues."""
        carried = [self._carry.audio] if self._carry is not None else []
        return np.concatenate([*carried, *self._utterance])

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation[1].cancel()
            self._speculation = None

    async def _transcribe(self, audio: FloatAudio) -> tuple[str, float]:
        started = time.monotonic()
        text = await asyncio.wait_for(self.engines.stt.transcribe(audio), self.settings.engine_timeout_s)
        return text, time.monotonic() - started

    # ----------------------------------------------------------------- a turn
    async def _answer(self, turn: _Turn, speculation: asyncio.Task[tuple[str, float]] | None) -> None:
        timeline = turn.timeline
        filler = asyncio.create_task(self._filler_at_deadline(turn))
        try:
            if turn.keyed is not None:
                text = turn.keyed
            else:
                try:
                    text, seconds = await (speculation if speculation is not None else self._transcribe(turn.audio))
                except (TimeoutError, Exception) as exc:  # noqa: BLE001 - a failed STT engine gets an apology
                    await self._apologise(turn, "stt_failed", f"speech recognition failed: {exc!r}")
                    return
                timeline.mark("stt_done", time.monotonic())
                _count_budget(timeline.stage("stt", seconds))
            text = text.strip()
            if not text:
                turn.outcome = "empty"
                return
            await self.output.send_event(Transcript(turn=turn.number, text=text, revises=turn.revises))
            self.record.write("transcript", turn=turn.number, text=text, revises=turn.revises)
            self.history.add_user(text)
            turn.user_text = text
            ctx = ReplyContext(
                llm=self.engines.llm,
                tts=self.engines.tts,
                player=self.player,
                output=self.output,
                sample_rate=self.sample_rate,
                max_tokens=self.settings.max_reply_tokens,
                max_sentences=self.settings.max_reply_sentences,
                temperature=self.settings.temperature,
                timeout_s=self.settings.engine_timeout_s,
                overlap=self.settings.overlap,
                on_budget=_count_budget,
                on_audio_out=lambda at: self._on_reply_audio(turn, at),
            )
            try:
                reply = await speak_reply(ctx, self.history.messages(), timeline)
            except (EngineError, TimeoutError) as exc:
                await self._apologise(turn, "engine_timeout" if isinstance(exc, TimeoutError) else "engine_error",
                                      f"the language or speech engine failed: {exc!r}")
                return
            self.history.set_reply(turn.number, reply)
            self.record.write("reply", turn=turn.number, text=reply)
            self._prefill()
            if reply:  # the turn's metrics end with its first audio leaving (the player may be behind)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(turn.audio_out.wait(), self.settings.engine_timeout_s)
        finally:
            filler.cancel()
            # Not current_task().cancelling(): a TaskGroup whose child failed leaves it raised on 3.11.
            if not turn.cancelled:
                await self._finish_turn(turn, interrupted=False)

    def _on_reply_audio(self, turn: _Turn, at: float) -> None:
        turn.timeline.reply_out = at
        self._on_audio(turn, at)

    def _on_audio(self, turn: _Turn, at: float) -> None:
        turn.audio_out.set()
        if turn.timeline.mark("audio_out", at):
            _count_budget(turn.timeline.check("turn", at - turn.timeline.marks["speech_end"]))

    async def _filler_at_deadline(self, turn: _Turn) -> None:
        deadline = turn.timeline.marks["speech_end"] + self.settings.budgets.turn_ms / 1000
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        if turn.audio_out.is_set() or self._turn is not turn:
            return
        text = self.engines.phrases.filler(self.persona)
        turn.filler = True
        metrics.FILLERS.inc()
        self.player.enqueue(Segment(turn=turn.number, kind="filler", text=text,
                                    pcm=self.engines.phrases.pcm(text, self.sample_rate),
                                    on_start=lambda at: self._on_audio(turn, at)))
        self._emit_nowait_text(turn.number, text, "filler")

    async def _apologise(self, turn: _Turn, code: str, message: str) -> None:
        log.warning("call %s turn %d: %s", self.call_id, turn.number, message)
        turn.outcome = "apology"
        await self.send_error(code, message)
        text = self.persona.apology
        self.player.enqueue(Segment(turn=turn.number, kind="apology", text=text,
                                    pcm=self.engines.phrases.pcm(text, self.sample_rate),
                                    on_start=lambda at: self._on_audio(turn, at)))
        await self.output.send_event(AgentText(turn=turn.number, text=text, kind="apology"))

    async def _finish_turn(self, turn: _Turn, *, interrupted: bool) -> None:
        if interrupted:
            turn.outcome = "interrupted"
        event = turn.timeline.to_metrics(outcome=turn.outcome, filler=turn.filler, interrupted=interrupted)
        for stage, ms in event.stages.items():
            metrics.STAGE_SECONDS.labels(stage.removesuffix("_ms")).observe(ms / 1000)
        if event.turn_ms is not None:
            metrics.TURN_SECONDS.observe(event.turn_ms / 1000)
        if event.reply_ms is not None:
            metrics.REPLY_SECONDS.observe(event.reply_ms / 1000)
        metrics.TURNS.labels(turn.outcome).inc()
        self.record.write("turn_metrics", **event.to_dict())
        await self.output.send_event(event)

    # ----------------------------------------------------------------- barge-in
    async def _cancel_turn(self) -> None:
        """Stop the turn in progress (if any) without touching playback. If none of its reply had been
        heard yet, the caller was simply not finished: the turn is carried into the next one, whose
        transcript (of all the audio) revises it."""
        turn = self._turn
        if turn is None or turn.task is None or turn.task.done():
            return
        turn.cancelled = True
        turn.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn.task
        if turn.timeline.reply_out is None:
            self._carry = turn
            if turn.user_text:
                self.history.retract_user(turn.user_text)
            turn.outcome = "continued"
            await self._finish_turn(turn, interrupted=False)
        else:
            await self._finish_turn(turn, interrupted=True)

    async def _interrupt(self) -> None:
        """The caller talks over the agent: stop thinking and speaking, keep only what was heard."""
        turn = self._turn
        await self._cancel_turn()
        heard = self.player.clear()
        if not heard:
            return
        current = turn.number if turn is not None else heard[-1].segment.turn
        mine = [h for h in heard if h.segment.turn == current]
        if not mine and all(h.fraction >= 1.0 for h in heard):
            return  # nothing of the agent's was cut off
        said = " ".join(h.text for h in mine if h.segment.kind in ("reply", "greeting")).strip()
        if mine:
            self.history.set_reply(current, said)
            self._prefill()
        metrics.INTERRUPTIONS.inc()
        self.record.write("interrupted", turn=current, heard=said)
        await self.output.send_event(Clear(turn=current, heard=said))
