"""faster-whisper speech-to-text, tuned for short phone turns (greedy, no timestamps, no fallback)."""

from __future__ import annotations

from pathlib import Path

from faster_whisper import WhisperModel

from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.worker import EngineWorker


class WhisperTranscriber:
    """Transcribes one caller turn (16 kHz float32) at a time on its own worker thread."""

    def __init__(self, model_dir: Path, *, device: str, compute_type: str, threads: int, label: str) -> None:
        self.label = label
        self._model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=threads, num_workers=1
        )
        self._english_only = label.endswith(".en")
        self.worker = EngineWorker("stt")

    def transcribe_blocking(self, audio: FloatAudio) -> str:
        """Blocking transcription; segments the model itself calls non-speech are dropped."""
        segments, _info = self._model.transcribe(
            audio,
            language="en" if self._english_only else None,
            beam_size=1,
            best_of=1,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        texts = [s.text.strip() for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
        return " ".join(t for t in texts if t)

    async def transcribe(self, audio: FloatAudio) -> str:
        """Transcribe off the event loop. Cancelling abandons the result; the thread finishes its run."""
        return await self.worker.run(self.transcribe_blocking, audio)

    def close(self) -> None:
        """Stop the worker thread."""
        self.worker.close()
