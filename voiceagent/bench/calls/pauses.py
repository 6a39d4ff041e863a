"""Paused turns and false cut-ins. A paused turn is a caller sentence spoken in two parts with a natural
mid-sentence pause between them (``say`` with a ``|`` in the data files): the whole sentence is spoken in
one go and cut where the first part ends, so the voice up to the pause keeps its mid-sentence tone; the
pause length is drawn, seeded, per call and position. The agent cut in falsely when any of its audio (a
filler or a reply) reached the caller after the first part's speech ended and before the whole sentence
ended: during the pause, or after the caller went on but before they finished."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable

import numpy as np

from voiceagent.audio.loudness import trim_silence as _trim
from voiceagent.audio.pcm import FloatAudio

PAUSE_RANGE_MS = (300, 900)  # natural mid-sentence pauses: longer than the endpointer's silence, up to ~1 s
SILENCE_DB = -40.0  # a 10 ms frame this far below the loudest one is the synthesiser's lead-in or tail
CUT_SEARCH = 0.15  # the cut is looked for within this share of the whole sentence around its estimate
_FRAME_S = 0.01


@dataclasses.dataclass(frozen=True, slots=True)
class Sentence:
    """One caller sentence as it will be spoken. For a paused turn, ``pause_ms`` is the silence between
    the parts and ``tail_s`` the seconds from the end of the first part's speech to the end of the audio
    (the pause and the second part), which resampling for the phone line leaves unchanged."""

    audio: FloatAudio
    pause_ms: int | None = None
    tail_s: float | None = None


def pause_ms(seed: int, persona: str, call: str, position: int) -> int:
    """The pause of the turn at ``position`` (1-based) of ``call``, in ms within :data:`PAUSE_RANGE_MS`:
    the same for a given seed on every path and in every run (a call cut short by ``--max-turns`` keeps
    its name's draws)."""
    base = call.split("[", 1)[0]
    return random.Random(f"{seed}/{persona}/{base}/{position}").randint(*PAUSE_RANGE_MS)


def trim_silence(audio: FloatAudio, rate: int) -> FloatAudio:
    """``audio`` without its leading and trailing near-silence (10 ms frames :data:`SILENCE_DB` below the
    loudest), so that the pause put between two parts is the silence the caller makes."""
    return _trim(audio, rate, -SILENCE_DB)


def pause_within(whole: FloatAudio, first: FloatAudio, second: FloatAudio, pause: int, rate: int) -> Sentence:
    """A paused turn cut out of the whole sentence, spoken in one go: the caller's voice keeps its
    mid-sentence tone up to the pause (a first part synthesised on its own ends like a finished sentence,
    which is what an end-of-turn model listens for). The cut's estimate is the first part's share of the
    two parts spoken alone; the cut is the quietest 30 ms within :data:`CUT_SEARCH` of the sentence around
    it (a gap between words, or a stop), the nearer the better, with ``pause`` ms of silence put there."""
    speech = trim_silence(whole, rate)
    head_len, rest_len = len(trim_silence(first, rate)), len(trim_silence(second, rate))
    frame = max(1, int(rate * _FRAME_S))
    estimate = len(speech) * head_len / max(1, head_len + rest_len)
    reach = CUT_SEARCH * len(speech)
    first_at = max(frame, int(estimate - reach))
    starts = np.arange(first_at, max(first_at + 1, min(len(speech) - 2 * frame, int(estimate + reach))), frame)
    power = np.square(speech.astype(np.float64))
    loudness = np.array([power[at - frame : at + 2 * frame].mean() for at in starts]) + 1e-12
    nearness = 1 + 4 * np.abs(starts - estimate) / reach  # a quiet point far from the estimate must be far quieter
    cut = int(starts[np.argmin(loudness * nearness)])
    head, rest = trim_silence(speech[:cut], rate), trim_silence(speech[cut:], rate)
    fade = min(int(rate * 0.005), len(head), len(rest))
    head, rest = head.copy(), rest.copy()
    head[len(head) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    rest[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
    gap = np.zeros(round(rate * pause / 1000), dtype=np.float32)
    return Sentence(audio=np.concatenate([head, gap, rest]).astype(np.float32), pause_ms=pause,
                    tail_s=(len(gap) + len(rest)) / rate)


def pause_window(sentence: Sentence, spoke_end: float) -> tuple[float, float] | None:
    """When the caller was mid-sentence, on the clock of ``spoke_end`` (when the last voiced sample of the
    whole sentence was sent): from the end of the first part to the end of the sentence. None for a
    sentence without a pause."""
    if sentence.tail_s is None:
        return None
    return spoke_end - sentence.tail_s, spoke_end


def cut_in(arrivals: Iterable[float], window: tuple[float, float]) -> bool:
    """True when any agent audio frame arrived inside ``window`` (start inclusive, end exclusive)."""
    start, end = window
    return any(start <= at < end for at in arrivals)
