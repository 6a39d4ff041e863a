"""Turn taking: from per-frame speech probabilities to caller turns. Pure logic, no I/O.

Events, in order, for one caller turn: ``SpeechStart``; then, once silence has lasted
``speculate_after_ms``, ``SilenceStart`` (a good moment to start transcribing speculatively);
``SpeechResume`` if the caller goes on (the speculation is void); finally ``Endpoint`` once silence
has lasted ``endpoint_silence_ms`` (or the turn hit its maximum length).

End of turn by meaning (``turn_min_silence_ms`` set): once silence has lasted that long the endpointer
emits ``TurnCheck``; whoever drives it asks an end-of-turn model whether the turn sounds finished and
hands the answer back with :meth:`Endpointer.judge`. Finished (probability at or above
``turn_complete_threshold``) ends the turn at once; unfinished (or no answer yet) waits on, up to
``turn_max_silence_ms`` of silence; a failed model (``judge(check, None)``) falls back to
``endpoint_silence_ms``. With ``unsure_ends`` an answer of unfinished ends the turn at once all the same
(reason ``unsure``): whoever drives the endpointer works on the reply meanwhile and lets it be heard only
after ``turn_max_silence_ms`` of silence (the endpoint's ``hold_ms``); a caller who goes on before then starts
a turn that continues it. An answer to a pause the caller has since spoken after is ignored.
A ``patient`` endpointer (the caller is reading out a number, and pauses between its groups) ends a turn
only after the longest wait, ``turn_max_silence_ms`` (reason ``patient``), whatever the model says (with
``unsure_ends`` too: ending such turns at the model's answer made one of them a turn at every pause, each
transcribed and thrown away, for no reply heard sooner). The one exception: a turn judged finished, at least
``question_threshold`` surely, whose words so far ask a question instead (``judge(..., asks=True)``: "Is
there a warranty on your repairs?" asked when a message was asked for) ends at once (reason ``question``).
Times are the wall-clock arrival times of frames, injected by the caller of :meth:`Endpointer.feed`.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Literal

from voiceagent.engines.speech import VAD_FRAME_MS as FRAME_MS


@dataclasses.dataclass(frozen=True, slots=True)
class SpeechStart:
    """The caller began a turn; ``at`` is the arrival time of its first voiced frame."""

    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class SilenceStart:
    """Silence after speech, long enough to start transcribing speculatively."""

    speech_end: float
    frames: int  # voiced-turn length in frames up to the silence (identifies the speculation)


@dataclasses.dataclass(frozen=True, slots=True)
class SpeechResume:
    """The caller went on after a pause: any speculation, and any question to the end-of-turn model, is void."""


@dataclasses.dataclass(frozen=True, slots=True)
class TurnCheck:
    """Silence after speech reached ``turn_min_silence_ms``: ask whether the turn is finished and hand the
    answer to :meth:`Endpointer.judge` with this ``check``."""

    speech_end: float
    frames: int
    check: int  # identifies the question: an answer to any other is ignored


EndReason = Literal["silence", "model", "unsure", "question", "max_silence", "patient", "max_length"]


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """The caller's turn is over; ``speech_end`` is the arrival time of its last voiced frame.

    ``reason``: ``silence`` (the fixed silence wait: no end-of-turn model, or it failed), ``model`` (the
    model judged the turn finished), ``unsure`` (judged unfinished, ended at once all the same: see
    ``unsure_ends``), ``question`` (judged finished while patient, its words a question: see
    :meth:`Endpointer.judge`), ``max_silence`` (judged unfinished, or not answered in time, and the
    longest wait ran out), ``patient`` (the longest wait, while the endpointer was patient) or
    ``max_length`` (cut at the maximum turn length).

    ``hold_ms``: a turn ended before the silence it would have waited for (``unsure``) carries that wait:
    whoever answers it lets the reply be heard only once the silence after ``speech_end`` has lasted this
    long (0: no such hold)."""

    speech_end: float
    frames: int
    forced: bool = False  # cut at the maximum turn length
    reason: EndReason = "silence"
    silence_ms: float = 0.0  # silence after the last voiced frame when the turn ended
    turn_prob: float | None = None  # the end-of-turn model's probability that the turn was finished
    hold_ms: float = 0.0  # the silence its reply waits for (a turn ended before its wait: see above)


EndpointEvent = SpeechStart | SilenceStart | SpeechResume | TurnCheck | Endpoint


class _State(enum.Enum):
    IDLE = "idle"
    SPEAKING = "speaking"


class Endpointer:
    """Hysteresis on speech probability plus silence timers (and, optionally, an end-of-turn model's answers)."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_speech_ms: float = 96,
        speculate_after_ms: float | None = 64,
        endpoint_silence_ms: float = 256,
        max_utterance_s: float = 20.0,
        turn_min_silence_ms: float | None = None,
        turn_max_silence_ms: float = 800,
        turn_complete_threshold: float = 0.5,
        dictation_silence_ms: float = 0,
        unsure_ends: bool = False,
        question_threshold: float = 0.9,
    ) -> None:
        """``turn_min_silence_ms`` None: no end-of-turn model, silence alone ends a turn.
        ``dictation_silence_ms``: the silence that ends a patient turn while the caller dictates (see
        :attr:`dictating`); never shorter than the longest wait of an ordinary turn. ``question_threshold``:
        the probability of finished at or above which a patient turn whose words ask a question ends (see
        :meth:`judge`): a caller asked for a number or a message is expected to pause, so it is stricter."""
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01)
        self.turn_complete_threshold = turn_complete_threshold
        self.question_threshold = question_threshold
        self.unsure_ends = unsure_ends  # an answer of unfinished ends the turn too (reason "unsure"), its reply held
        self._min_speech = max(1, round(min_speech_ms / FRAME_MS))
        self._endpoint = max(1, round(endpoint_silence_ms / FRAME_MS))
        self._turn_min = max(1, round(turn_min_silence_ms / FRAME_MS)) if turn_min_silence_ms is not None else None
        self._turn_max = max(1, round(turn_max_silence_ms / FRAME_MS))
        # the silence that ends a turn before any answer: the fixed wait, or with a model the longest one
        self._wait = self._endpoint if self._turn_min is None else max(self._turn_max, self._turn_min)
        self._patient_wait = max(self._turn_max, self._endpoint)  # a patient turn's only silence wait ...
        self._dictation_wait = max(round(dictation_silence_ms / FRAME_MS), self._patient_wait)  # ... dictating
        # no speculation when switched off (None) or when it could not start before the endpoint
        self._speculate = (
            max(1, round(speculate_after_ms / FRAME_MS)) if speculate_after_ms is not None else self._wait + 1
        )
        self._max_frames = int(max_utterance_s * 1000 / FRAME_MS)
        self._check = 0  # questions asked so far (never reset: a late answer cannot match a new question)
        self._last_prob = 0.0
        self._patient = False
        self._dictating = False
        self._limit = self._wait  # silence frames that end the turn (set again in each pause)
        self._reason: EndReason = "silence"  # what ends it then
        self._hold = 0  # silence frames its reply waits for, when it ended before its wait
        self.reset()

    @property
    def patient(self) -> bool:
        """True while the caller is expected to pause within their answer (reading out a number, dictating
        a message): a turn then ends only after the longest silence wait (the dictation wait while
        :attr:`dictating`), whatever the end-of-turn model says."""
        return self._patient

    @patient.setter
    def patient(self, value: bool) -> None:
        self._patient = value
        if self._state is _State.SPEAKING and value and self._silence_run < self._limit:  # this turn waits too
            self._limit, self._reason = max(self._limit, self._patience()), "patient"

    @property
    def dictating(self) -> bool:
        """True while the caller dictates free words (a message): pauses inside them run longer than
        between a number's groups, so a patient turn waits the dictation wait."""
        return self._dictating

    @dictating.setter
    def dictating(self, value: bool) -> None:
        self._dictating = value
        self.patient = self._patient  # a turn in progress takes the longer wait too

    def _patience(self) -> int:
        return self._dictation_wait if self._dictating else self._patient_wait

    def reset(self) -> None:
        """Forget any turn in progress."""
        self._state = _State.IDLE
        self._voiced_run = 0
        self._first_voiced_at = 0.0
        self._frames = 0  # frames since the turn started
        self._speech_end = 0.0
        self._speech_frames = 0  # frames up to the last voiced one
        self._new_pause()

    def _new_pause(self) -> None:
        self._silence_run = 0
        self._hold = 0
        self._limit = self._patience() if self._patient else self._wait
        self._reason = "patient" if self._patient else "silence" if self._turn_min is None else "max_silence"
        self._announced = False  # SilenceStart or TurnCheck went out in this pause
        self._pending = False  # a TurnCheck of this pause awaits its answer
        self._prob: float | None = None

    @property
    def in_turn(self) -> bool:
        """True while a caller turn is open (speech started, not yet endpointed)."""
        return self._state is _State.SPEAKING

    @property
    def voiced_ms(self) -> float:
        """Length of the open turn up to its last voiced frame."""
        return self._speech_frames * FRAME_MS

    @property
    def voiced(self) -> bool:
        """True when the last frame was speech (the caller is talking right now, turn or not)."""
        return self._last_prob >= self.threshold

    def feed(self, prob: float, now: float) -> list[EndpointEvent]:
        """Advance by one 32 ms frame with speech probability ``prob`` whose end was spoken at ``now``."""
        self._last_prob = prob
        if self._state is _State.IDLE:
            return self._feed_idle(prob, now)
        events: list[EndpointEvent] = []
        self._frames += 1
        if prob >= self.threshold or (prob >= self.neg_threshold and self._silence_run == 0):
            if self._announced:
                events.append(SpeechResume())
            self._new_pause()
            self._speech_end = now
            self._speech_frames = self._frames
        else:
            self._silence_run += 1
            if self._silence_run == self._speculate and self._speculate < self._limit:
                self._announced = True
                events.append(SilenceStart(speech_end=self._speech_end, frames=self._speech_frames))
            if self._silence_run == self._turn_min:
                self._check += 1
                self._announced = self._pending = True
                events.append(TurnCheck(speech_end=self._speech_end, frames=self._speech_frames, check=self._check))
            if self._silence_run >= self._limit:
                events.append(self._end(self._reason))
                return events
        if self._frames >= self._max_frames:
            events.append(self._end("max_length"))
        return events

    def judge(self, check: int, prob: float | None, *, asks: bool = False) -> list[EndpointEvent]:
        """The end-of-turn model's answer to :class:`TurnCheck` ``check``: the probability that the turn is
        finished, or None when the model failed (the fixed silence wait decides instead). ``asks``: the
        turn's words so far are a question rather than the number or message a patient endpointer waits
        for (only a patient endpointer reads it). Returns the ``Endpoint`` when it ends the turn now;
        nothing when the question is stale (the caller went on)."""
        if self._state is not _State.SPEAKING or not self._pending or check != self._check:
            return []
        self._pending = False
        if self._patient:  # the answer is recorded; the longest wait stands, unless a question was finished
            self._prob = prob
            if asks and prob is not None and prob >= self.question_threshold:
                self._limit, self._reason = self._silence_run, "question"
        elif prob is None:
            self._limit, self._reason = self._endpoint, "silence"
        else:
            self._prob = prob
            if prob >= self.turn_complete_threshold:
                self._limit, self._reason = self._silence_run, "model"
            elif self.unsure_ends:  # ends now, its reply held for the silence the turn was waiting for
                self._hold, self._limit, self._reason = self._limit, self._silence_run, "unsure"
        return [self._end(self._reason)] if self._silence_run >= self._limit else []

    def _feed_idle(self, prob: float, now: float) -> list[EndpointEvent]:
        if prob >= self.threshold:
            if self._voiced_run == 0:
                self._first_voiced_at = now
            self._voiced_run += 1
            if self._voiced_run >= self._min_speech:
                self._state = _State.SPEAKING
                self._frames = self._voiced_run
                self._speech_frames = self._frames
                self._speech_end = now
                self._new_pause()
                return [SpeechStart(at=self._first_voiced_at)]
        elif prob < self.neg_threshold:
            self._voiced_run = 0
        return []

    def _end(self, reason: EndReason) -> Endpoint:
        end = Endpoint(speech_end=self._speech_end, frames=self._speech_frames, forced=reason == "max_length",
                       reason=reason, silence_ms=self._silence_run * FRAME_MS, turn_prob=self._prob,
                       hold_ms=self._hold * FRAME_MS)
        self.reset()
        return end
