"""faster-whisper speech-to-text, tuned for short phone turns: greedy, no timestamps, and one sampled retry
when the greedy text loops ("No, no, no, no, ..."): whisper's own fallback on a high compression ratio
(not on a low log-probability, which noisy phone audio would trigger on most turns). Offline, on the
benchmark's 96 sentences in eight voices over the phone line, the word error rate went from 0.40 to 0.33
(0.67 to 0.51 with background noise) at no cost to the median time; the loops it removes are rare, and
each costs one more decode.

A text far too short for the speech it came from, decoded with low confidence (a mean log-probability
under -0.7), is decoded again without the caller's vocabulary prompt: the prompt can
end a decode after one word ("Could a plumber come round on Sunday?" heard as "Good", at -1.0 to -1.7),
and the longer of the two texts is kept. A confident short text ("Yes." in line noise) is not.

A text far too long for the audio it came from (more than :data:`MAX_WORDS_PER_S` words a second of the
turn, plus a few) is the prompt read back, not the caller: on the phone line a real caller's phone number
came out as the persona's hours, looped ("5 pm, Friday 9 am to 6 pm, Friday 9 am to 6 pm, ..."). It is
decoded again without the prompt, and the shorter text is kept.

A decode is never longer than its audio can hold (:func:`max_new_tokens`): a greedy decode that loops ran
on to whisper's 448 tokens before its retry, 1.3 to 2.7 s on this 2-core machine for a two-second
question (and a speculative one held up the real turn behind it on the engine's thread); capped, the
same loops cost 0.2 to 0.6 s, and the 223 benchmark sentences on three lines were heard alike (WER
0.135 / 0.242 / 0.446 before, 0.135 / 0.245 / 0.447 after). A sentence the loop left said twice in a row
is kept once (:func:`drop_repeats`).
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

import faster_whisper.transcribe as _faster_whisper
from faster_whisper import WhisperModel

from voiceagent.audio.denoise import reduce_background
from voiceagent.audio.loudness import voiced_seconds
from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.worker import EngineWorker

SAMPLE_RATE = 16000  # what whisper takes
WHOLE_WINDOW_FRAMES = 3000  # whisper's 30 s of 10 ms feature frames
MIN_PAD_FRAMES = 200  # a turn longer than the window still gets 2 s of padding (with none, whisper repeats it)
# Fewer words than this per second of loud speech is a decode that stopped early: people say 2 to 4
# words a second, and the loud part (within 25 dB of the peak, which leaves out line noise at 15 dB SNR
# once denoised) is about two thirds of a sentence. A one-word answer ("Yes.") is under 0.8 s of it.
MIN_WORDS_PER_VOICED_S = 1.5
MIN_CHECKED_VOICED_S = 0.8
VOICED_BELOW_PEAK_DB = 25.0
MAX_WORDS_PER_S = 6.0  # faster than anyone speaks (2 to 4 words a second; a number read out, about 4 digits)
MAX_WORDS_SLACK = 4
TOKENS_PER_WORD = 2  # whisper's tokens for a spoken word: about 1.3 with its punctuation; a digit is one
MAX_DECODE_TOKENS = 200  # within whisper's 448 beside the longest prompt it keeps (223 tokens and 5 more)
LOW_LOGPROB = -0.7  # not confident (whisper's own retry mark is -1.0; the "Good"s were -0.99 to -1.7)
_WORD = re.compile(r"\d|[^\W\d_]+(?:'[^\W\d_]+)?")  # a digit counts as a word: "555-0263" is seven
_CLAUSE = re.compile(r"([^,.?!;]+)([,.?!;]*)")  # a clause, and the punctuation after it
_whole_window_pad = _faster_whisper.pad_or_trim
_window = threading.local()  # the encoder window of the transcription running on this thread


def _pad_to_window(array: Any, length: int = WHOLE_WINDOW_FRAMES, *, axis: int = -1) -> Any:
    """faster-whisper pads every segment's features to the whole 30 s window before the encoder. On the
    thread of a transcriber with a shorter window, a segment is padded to that window instead (a longer
    one by 2 s), so the encoder and the decoder's attention over it cost a third as much for a 10 s
    window. Other calls (language detection, other transcribers) keep the 30 s."""
    frames = getattr(_window, "frames", 0)
    if frames and length == WHOLE_WINDOW_FRAMES:
        padded = array.shape[axis] + MIN_PAD_FRAMES
        length = min(WHOLE_WINDOW_FRAMES, max(frames, padded + padded % 2))
    return _whole_window_pad(array, length, axis=axis)


_faster_whisper.pad_or_trim = _pad_to_window


class WhisperTranscriber:
    """Transcribes one caller turn (16 kHz float32) at a time on its own worker thread."""

    def __init__(self, model_dir: Path, *, device: str, compute_type: str, threads: int, label: str,
                 retry_loops: bool = True, beam_size: int = 1, window_s: float = 0.0, denoise: float = 0.0) -> None:
        """``retry_loops``: decode once more, sampled, when the greedy text repeats itself. ``beam_size``:
        1 is greedy. ``window_s``: the encoder's window (a turn is padded to it; 0 or 30: whisper's 30 s).
        ``denoise``: how much background noise is taken down before recognition (0: none; see
        :mod:`voiceagent.audio.denoise`)."""
        self.label = label
        self._denoise = denoise
        self._beam_size = beam_size
        self._window_frames = int(window_s * 100) if 0 < window_s < 30 else 0
        self._retry = {"temperature": [0.0, 0.4], "compression_ratio_threshold": 2.4, "log_prob_threshold": None} \
            if retry_loops else {"temperature": 0.0}
        self._model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=threads, num_workers=1
        )
        self._english_only = label.endswith(".en")
        self.worker = EngineWorker("stt")

    def transcribe_blocking(self, audio: FloatAudio, prompt: str = "") -> str:
        """Blocking transcription; segments the model itself calls non-speech are dropped. ``prompt``:
        whisper's initial prompt (the words the caller is likely to use), or none."""
        audio = reduce_background(audio, SAMPLE_RATE, self._denoise)
        text, logprob = self._decode(audio, prompt)
        if prompt and too_long(text, len(audio) / SAMPLE_RATE):
            again, _ = self._decode(audio, "")
            return drop_repeats(again if word_count(again) < word_count(text) else text)
        if prompt and not text:  # the prompt tipped a short word into "no speech" (or a sampled retry did)
            again, _ = self._decode(audio, "")
            return drop_repeats(again)
        if prompt and logprob < LOW_LOGPROB and stopped_early(
                text, voiced_seconds(audio, SAMPLE_RATE, VOICED_BELOW_PEAK_DB)):
            again, _ = self._decode(audio, "")
            if word_count(again) > word_count(text):
                return drop_repeats(again)
        return drop_repeats(text)

    def _decode(self, audio: FloatAudio, prompt: str) -> tuple[str, float]:
        """The text, and the lowest mean log-probability of its segments (0 for none)."""
        _window.frames = self._window_frames
        try:
            segments, _info = self._model.transcribe(
                audio,
                language="en" if self._english_only else None,
                beam_size=self._beam_size,
                best_of=1,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                initial_prompt=prompt or None,
                max_new_tokens=max_new_tokens(len(audio) / SAMPLE_RATE),
                **self._retry,  # type: ignore[arg-type]
            )
            kept = [s for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
        finally:
            _window.frames = 0
        return " ".join(t for t in (s.text.strip() for s in kept) if t), min((s.avg_logprob for s in kept), default=0.0)

    async def transcribe(self, audio: FloatAudio, prompt: str = "") -> str:
        """Transcribe off the event loop. Cancelling abandons the result; the thread finishes its run."""
        return await self.worker.run(self.transcribe_blocking, audio, prompt)

    def close(self) -> None:
        """Stop the worker thread."""
        self.worker.close()


def word_count(text: str) -> int:
    """Words in a transcript, each digit counted as one ("555-0263": 7)."""
    return len(_WORD.findall(text))


def max_new_tokens(audio_s: float) -> int:
    """The most tokens a decode of ``audio_s`` seconds may write: twice what the fastest speech
    (:data:`MAX_WORDS_PER_S`, plus a few words) could need, at most :data:`MAX_DECODE_TOKENS`."""
    return min(MAX_DECODE_TOKENS, math.ceil(TOKENS_PER_WORD * (MAX_WORDS_PER_S * audio_s + MAX_WORDS_SLACK)))


def drop_repeats(text: str) -> str:
    """``text`` with each clause of two words or more that is said again straight after itself kept once,
    ending as the last one did ("Where is the garage? Where is the garage?": a decode loop cut at its
    length): a caller does not repeat a whole clause in one breath. "No, no, no" (one word) and a number's
    groups ("555, 555, 0123") are left as said; a text with no such repeat is returned as it was."""
    kept: list[tuple[str, str]] = []
    dropped = False
    for clause, mark in _CLAUSE.findall(text):
        words = _WORD.findall(clause.lower())
        if kept and len(words) >= 2 and not any(w.isdigit() for w in words) \
                and words == _WORD.findall(kept[-1][0].lower()):
            kept[-1], dropped = (kept[-1][0], mark), True
            continue
        kept.append((clause, mark))
    return "".join(clause + mark for clause, mark in kept).strip() if dropped else text


def too_long(text: str, audio_s: float) -> bool:
    """Whether ``text`` has more words than ``audio_s`` seconds of speech can hold (see
    :data:`MAX_WORDS_PER_S`)."""
    return word_count(text) > MAX_WORDS_PER_S * audio_s + MAX_WORDS_SLACK


def stopped_early(text: str, voiced_s: float) -> bool:
    """Whether ``text`` has too few words for ``voiced_s`` seconds of loud speech (see
    :data:`MIN_WORDS_PER_VOICED_S`); turns shorter than :data:`MIN_CHECKED_VOICED_S` are not judged."""
    return voiced_s >= MIN_CHECKED_VOICED_S and word_count(text) < voiced_s * MIN_WORDS_PER_VOICED_S
