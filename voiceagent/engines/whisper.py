"""faster-whisper speech-to-text, tuned for short phone turns: greedy, no timestamps, and one sampled retry
when the greedy text loops ("No, no, no, no, ..."): whisper's own fallback on a high compression ratio
(not on a low log-probability, which noisy phone audio would trigger on most turns). Offline, on the
benchmark's 96 sentences in eight voices over the phone line, the word error rate went from 0.40 to 0.33
(0.67 to 0.51 with background noise) at no cost to the median time; the loops it removes are rare, and
each costs one more decode.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import faster_whisper.transcribe as _faster_whisper
from faster_whisper import WhisperModel

from voiceagent.audio.denoise import reduce_background
from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.worker import EngineWorker

SAMPLE_RATE = 16000  # what whisper takes
WHOLE_WINDOW_FRAMES = 3000  # whisper's 30 s of 10 ms feature frames
MIN_PAD_FRAMES = 200  # a turn longer than the window still gets 2 s of padding (with none, whisper repeats it)
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
        _window.frames = self._window_frames
        try:
            segments, _info = self._model.transcribe(
                reduce_background(audio, SAMPLE_RATE, self._denoise),
                language="en" if self._english_only else None,
                beam_size=self._beam_size,
                best_of=1,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                initial_prompt=prompt or None,
                **self._retry,  # type: ignore[arg-type]
            )
            texts = [s.text.strip() for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
        finally:
            _window.frames = 0
        return " ".join(t for t in texts if t)

    async def transcribe(self, audio: FloatAudio, prompt: str = "") -> str:
        """Transcribe off the event loop. Cancelling abandons the result; the thread finishes its run."""
        return await self.worker.run(self.transcribe_blocking, audio, prompt)

    def close(self) -> None:
        """Stop the worker thread."""
        self.worker.close()
