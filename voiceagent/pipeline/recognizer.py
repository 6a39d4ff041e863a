"""Listening: caller audio frames in, finished caller turns out.

Resamples to 16 kHz, runs voice activity detection and the endpointer, keeps a little audio from
before speech starts (so first syllables are not clipped), transcribes speculatively as soon as silence
begins (inside the endpointing wait) and notices when the caller talks over the agent (barge-in).
An unanswered turn the caller went on with is *carried*: its audio is put in front of the next turn's.

With an end-of-turn model, a short pause asks it (off the event loop) whether the turn so far, carried
fragment included, sounds finished; the answer is handed to the endpointer as the next caller audio comes
in (phone transports send a piece every 20 ms). A model that fails or hangs never holds a turn open: the
endpointer falls back to silence (see :mod:`voiceagent.stages.endpointing`). While the caller is expected
to read out a number or a message (:meth:`Recognizer.be_patient`), a pause judged finished is also read:
its speculative transcript, when it asks a question instead, ends the turn at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator

import numpy as np

from voiceagent import metrics
from voiceagent.audio.pcm import FloatAudio, pcm16_to_float
from voiceagent.audio.resample import LISTENING_QUALITY, StreamResampler
from voiceagent.config import Settings
from voiceagent.engines.speech import VAD_FRAME_MS, VAD_RATE, Transcriber, TurnEndModel, VadModel
from voiceagent.engines.worker import collect_waits
from voiceagent.pipeline.tasks import TaskSet
from voiceagent.stages.endpointing import (
    Endpoint,
    Endpointer,
    EndpointEvent,
    EndReason,
    SilenceStart,
    SpeechResume,
    SpeechStart,
    TurnCheck,
)

log = logging.getLogger(__name__)

PREROLL_FRAMES = 10  # 320 ms of audio kept before speech starts, so first syllables are not clipped

Transcription = asyncio.Task[tuple[str, float, float]]  # (text, seconds it took, seconds of that in the queue)


@dataclasses.dataclass(frozen=True, slots=True)
class CallerSpeaking:
    """The caller started speaking, ``pause_ms`` of audio after their last voiced frame."""

    pause_ms: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class CallerTalkingOver:
    """The caller has spoken ``barge_in_ms`` while the agent was busy (once per stretch of speech)."""


@dataclasses.dataclass(frozen=True, slots=True)
class CallerDone:
    """The caller's turn ended; take it with :meth:`Recognizer.take_turn`."""

    speech_end: float  # when the end of its last voiced frame was spoken (monotonic seconds; see Recognizer._spoken_at)
    frames: int
    reason: EndReason = "silence"  # what ended it (see :class:`~voiceagent.stages.endpointing.Endpoint`)
    silence_ms: float = 0.0  # the silence after its last voiced frame when it ended
    turn_prob: float | None = None  # the end-of-turn model's probability that it was finished
    hold_ms: float = 0.0  # ended before its silence wait: its reply is heard only after this much silence


RecognizerEvent = CallerSpeaking | CallerTalkingOver | CallerDone


async def transcribe_timed(stt: Transcriber, audio: FloatAudio, timeout_s: float,
                           prompt: str = "") -> tuple[str, float, float]:
    """Transcribe with a deadline (run it as a task of its own); returns the text, the seconds it took
    and the seconds of that it waited for the engine. Raises TimeoutError."""
    waits: dict[str, float] = {}
    collect_waits(waits)
    started = time.monotonic()
    text = await asyncio.wait_for(stt.transcribe(audio, prompt), timeout_s)
    return text, time.monotonic() - started, sum(waits.values())


class Recognizer:
    """One call's listener. Feed it caller PCM; it yields what the caller is doing."""

    def __init__(
        self, *, sample_rate: int, vad: VadModel, stt: Transcriber, settings: Settings,
        agent_busy: Callable[[], bool], turn: TurnEndModel | None = None, stt_prompt: str = "",
    ) -> None:
        """``turn``: the end-of-turn model (None: silence alone ends a turn); ``stt_prompt``: the words
        this call's callers are likely to use, read by the recogniser before every turn."""
        self._stt = stt
        self._stt_prompt = stt_prompt
        self._turn = turn
        self._timeout_s = settings.engine_timeout_s
        self._turn_timeout_s = settings.turn_max_silence_ms / 1000  # past it the answer is of no use
        self._barge_in_ms = settings.barge_in_ms
        self._agent_busy = agent_busy
        self._resampler = StreamResampler(sample_rate, VAD_RATE, LISTENING_QUALITY)
        self._rate = sample_rate
        self._fed_s = 0.0  # seconds of caller audio fed so far
        self._frames_out = 0  # VAD frames made of it so far
        self._vad = vad.stream()
        self._endpointer = Endpointer(
            threshold=settings.vad_threshold,
            min_speech_ms=settings.min_speech_ms,
            speculate_after_ms=settings.speculate_after_ms if settings.overlap else None,
            endpoint_silence_ms=settings.endpoint_silence_ms,
            max_utterance_s=settings.max_utterance_s,
            turn_min_silence_ms=settings.turn_min_silence_ms if turn is not None else None,
            turn_max_silence_ms=settings.turn_max_silence_ms,
            turn_complete_threshold=settings.turn_complete_threshold,
            dictation_silence_ms=settings.dictation_silence_ms,
            unsure_ends=settings.turn_unsure_ends,
            question_threshold=settings.turn_question_threshold,
        )
        self._preroll: list[FloatAudio] = []
        self._utterance: list[FloatAudio] = []
        self._carried: FloatAudio | None = None
        self._speculation: tuple[int, Transcription] | None = None
        self._question: tuple[int, asyncio.Task[tuple[float | None, bool]]] | None = None  # to the end-of-turn model
        self._asks: Callable[[str], bool] | None = None  # while patient: whether words ask instead of answering
        self._turn_failed = False  # logged once per call
        self._talked_over = False
        self._quiet_frames = 0  # VAD frames since the last voiced one
        self._pause_frames = 0  # the silence the latest stretch of speech came after
        self._tasks = TaskSet()

    def be_patient(self, patient: bool, dictating: bool = False, asks: Callable[[str], bool] | None = None) -> None:
        """While ``patient``, a caller turn ends only after the longest silence wait (they are reading out
        a number and may pause inside it), and after ``dictation_silence_ms`` while ``dictating`` too (a
        message), whatever the end-of-turn model says; except a turn the model judges finished whose
        speculative transcript ``asks`` a question rather than giving what was asked for."""
        self._endpointer.dictating = patient and dictating
        self._endpointer.patient = patient
        self._asks = asks if patient else None

    @property
    def caller_voiced(self) -> bool:
        """True while the caller's last audio frame was speech."""
        return self._endpointer.voiced

    def feed(self, pcm: bytes, arrived: float) -> Iterator[RecognizerEvent]:
        """Process caller audio that arrived at ``arrived``; yields events frame by frame (handle each
        before asking for the next: what the caller does next depends on it)."""
        yield from self._answered()
        audio = self._resampler.process(pcm16_to_float(pcm))
        self._fed_s += len(pcm) // 2 / self._rate
        for frame, prob in self._vad.feed(audio):
            self._frames_out += 1
            if self._endpointer.in_turn:
                self._utterance.append(frame)
            else:
                self._preroll.append(frame)
                del self._preroll[:-PREROLL_FRAMES]
            events = self._endpointer.feed(prob, self._spoken_at(arrived))
            if not self._endpointer.voiced:
                self._quiet_frames += 1
            elif self._quiet_frames:
                self._pause_frames, self._quiet_frames = self._quiet_frames, 0
            for event in events:
                yield from self._on_endpointer(event)
            if (
                self._endpointer.in_turn
                and not self._talked_over
                and self._endpointer.voiced_ms >= self._barge_in_ms
                and self._agent_busy()
            ):
                self._talked_over = True
                yield CallerTalkingOver()

    def _spoken_at(self, arrived: float) -> float:
        """When the end of the VAD frame just made was spoken: ``arrived`` (the newest audio's arrival), less
        the audio that came after the frame's end and is still held by the resampler or the next frame.
        A piece of 20 ms can finish a 32 ms frame up to 20 ms before its own end."""
        held_s = self._fed_s - self._frames_out * VAD_FRAME_MS / 1000
        return arrived - max(0.0, held_s)

    def _on_endpointer(self, event: EndpointEvent) -> Iterator[RecognizerEvent]:
        if isinstance(event, SpeechStart):
            self._utterance = [*self._preroll, *self._utterance]
            self._preroll = []
            self._talked_over = False
            yield CallerSpeaking(pause_ms=self._pause_frames * VAD_FRAME_MS)
        elif isinstance(event, SilenceStart):
            self._speculate(event.frames)
        elif isinstance(event, TurnCheck):
            self._ask(event.check, event.frames)
        elif isinstance(event, SpeechResume):
            self.drop_speculation()
            self._drop_question()
        elif isinstance(event, Endpoint):
            self._drop_question()
            metrics.TURN_ENDS.labels(event.reason).inc()
            yield CallerDone(event.speech_end, event.frames, event.reason, event.silence_ms, event.turn_prob,
                             event.hold_ms)

    def _answered(self) -> Iterator[RecognizerEvent]:
        """Hand the end-of-turn model's answer, once it has come, to the endpointer."""
        if self._question is None or not self._question[1].done():
            return
        check, task = self._question
        self._question = None
        if task.cancelled():
            return
        prob, asks = task.result()
        for event in self._endpointer.judge(check, prob, asks=asks):
            yield from self._on_endpointer(event)

    def _ask(self, check: int, frames: int) -> None:
        self._drop_question()
        if self._turn is not None:
            heard = self._speculation[1] if self._speculation is not None and self._speculation[0] == frames else None
            self._question = (check, self._tasks.start(self._judge(self._turn, self._turn_audio(), heard)))

    async def _judge(self, turn: TurnEndModel, audio: FloatAudio,
                     heard: Transcription | None) -> tuple[float | None, bool]:
        """The model's probability that the turn is finished (None when it failed or took too long), and,
        while patient and judged finished, whether ``heard`` (the speculative transcript of the same audio)
        asks a question instead of giving what was asked for."""
        started = time.monotonic()
        try:
            prob = await asyncio.wait_for(turn.complete_probability(audio), self._turn_timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure: the silence wait decides instead
            metrics.TURN_END_FAILURES.inc()
            if not self._turn_failed:
                self._turn_failed = True
                log.warning("end-of-turn model %s failed (%r): this turn ends by silence", turn.label, exc)
            return None, False
        metrics.TURN_END_PROBABILITY.observe(prob)
        asks = self._asks
        if asks is None or heard is None or prob < self._endpointer.question_threshold:
            return prob, False
        # wait for the speculation without owning it: it is the turn's transcript if the turn ends now
        await asyncio.wait({heard}, timeout=max(0.0, self._turn_timeout_s - (time.monotonic() - started)))
        asked = heard.done() and not heard.cancelled() and heard.exception() is None and asks(heard.result()[0])
        return prob, asked

    def _drop_question(self) -> None:
        if self._question is not None:
            self._question[1].cancel()
            self._question = None

    def carry(self, audio: FloatAudio | None) -> None:
        """The caller went on before hearing any reply to ``audio``: it opens the next turn (a
        speculation made without it is void). ``None`` forgets a carried fragment."""
        self._carried = audio
        self.drop_speculation()

    def take_turn(self, done: CallerDone) -> tuple[FloatAudio, Transcription]:
        """The finished turn's audio (after any carried fragment) and its transcription: the
        speculative one when it covered exactly this audio, else one started now."""
        audio = self._turn_audio()
        speculation = None
        if self._speculation is not None and self._speculation[0] == done.frames:
            speculation = self._speculation[1]
            self._speculation = None
        self.drop_speculation()
        self._utterance = []
        self._carried = None
        return audio, speculation or self._tasks.start(self.transcribe(audio))

    async def transcribe(self, audio: FloatAudio) -> tuple[str, float, float]:
        """Transcribe with the call's engine deadline."""
        return await transcribe_timed(self._stt, audio, self._timeout_s, self._stt_prompt)

    def drop_speculation(self) -> None:
        """Abandon a speculative transcription (the caller went on, or the call ends)."""
        if self._speculation is not None:
            self._speculation[1].cancel()
            self._speculation = None

    def close(self) -> None:
        """Stop any transcription (and question to the end-of-turn model) this listener started."""
        self.drop_speculation()
        self._drop_question()
        self._tasks.cancel_all()

    def _speculate(self, frames: int) -> None:
        self.drop_speculation()
        self._speculation = (frames, self._tasks.start(self.transcribe(self._turn_audio())))

    def _turn_audio(self) -> FloatAudio:
        carried = [self._carried] if self._carried is not None else []
        return np.concatenate([*carried, *self._utterance]) if carried or self._utterance else np.zeros(
            0, dtype=np.float32)
