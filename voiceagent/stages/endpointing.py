"""Turn taking: from per-frame speech probabilities to caller turns. Pure logic, no I/O.

Events, in order, for one caller turn: ``SpeechStart``; then, once silence has lasted
``speculate_after_ms``, ``SilenceStart`` (a good moment to start transcribing speculatively);
``SpeechResume`` if the caller goes on (the speculation is void); finally ``Endpoint`` once silence
has lasted ``endpoint_silence_ms`` (or the turn hit its maximum length).
Times are the wall-clock arrival times of frames, injected by the caller of :meth:`Endpointer.feed`.
"""

from __future__ import annotations

import dataclasses
import enum

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
    """The caller went on after a pause: any speculation is void."""


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """The caller's turn is over; ``speech_end`` is the arrival time of its last voiced frame."""

    speech_end: float
    frames: int
    forced: bool = False  # cut at the maximum turn length


EndpointEvent = SpeechStart | SilenceStart | SpeechResume | Endpoint


class _State(enum.Enum):
    IDLE = "idle"
    SPEAKING = "speaking"


class Endpointer:
    """Hysteresis on speech probability plus silence timers."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_speech_ms: float = 96,
        speculate_after_ms: float | None = 64,
        endpoint_silence_ms: float = 256,
        max_utterance_s: float = 20.0,
    ) -> None:
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01)
        self._min_speech = max(1, round(min_speech_ms / FRAME_MS))
        self._endpoint = max(1, round(endpoint_silence_ms / FRAME_MS))
        # no speculation when switched off (None) or when it could not start before the endpoint
        self._speculate = (
            max(1, round(speculate_after_ms / FRAME_MS)) if speculate_after_ms is not None else self._endpoint + 1
        )
        self._max_frames = int(max_utterance_s * 1000 / FRAME_MS)
        self.reset()

    def reset(self) -> None:
        """Forget any turn in progress."""
        self._state = _State.IDLE
        self._voiced_run = 0
        self._first_voiced_at = 0.0
        self._silence_run = 0
        self._frames = 0  # frames since the turn started
        self._speech_end = 0.0
        self._speech_frames = 0  # frames up to the last voiced one

    @property
    def in_turn(self) -> bool:
        """True while a caller turn is open (speech started, not yet endpointed)."""
        return self._state is _State.SPEAKING

    @property
    def voiced_ms(self) -> float:
        """Length of the open turn up to its last voiced frame."""
        return self._speech_frames * FRAME_MS

    def feed(self, prob: float, now: float) -> list[EndpointEvent]:
        """Advance by one 32 ms frame with speech probability ``prob`` that arrived at ``now``."""
        events: list[EndpointEvent] = []
        if self._state is _State.IDLE:
            if prob >= self.threshold:
                if self._voiced_run == 0:
                    self._first_voiced_at = now
                self._voiced_run += 1
                if self._voiced_run >= self._min_speech:
                    self._state = _State.SPEAKING
                    self._frames = self._voiced_run
                    self._speech_frames = self._frames
                    self._speech_end = now
                    self._silence_run = 0
                    events.append(SpeechStart(at=self._first_voiced_at))
            elif prob < self.neg_threshold:
                self._voiced_run = 0
            return events

        self._frames += 1
        if prob >= self.threshold or (prob >= self.neg_threshold and self._silence_run == 0):
            if self._speculate <= self._silence_run < self._endpoint:
                events.append(SpeechResume())
            self._silence_run = 0
            self._speech_end = now
            self._speech_frames = self._frames
        else:
            self._silence_run += 1
            if self._silence_run == self._speculate and self._speculate < self._endpoint:
                events.append(SilenceStart(speech_end=self._speech_end, frames=self._speech_frames))
            if self._silence_run >= self._endpoint:
                events.append(Endpoint(speech_end=self._speech_end, frames=self._speech_frames))
                self.reset()
                return events
        if self._frames >= self._max_frames:
            events.append(Endpoint(speech_end=self._speech_end, frames=self._speech_frames, forced=True))
            self.reset()
        return events
