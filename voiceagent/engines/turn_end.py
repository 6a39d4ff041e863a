"""End of turn from the sound of the caller's speech: Smart Turn v3.2 (ONNX, BSD-2, pipecat-ai/smart-turn).

The model hears the last 8 s of the turn at 16 kHz (shorter turns are padded with silence in front),
normalised to zero mean and unit variance, as 80 log-mel bands by 800 frames (Whisper's features, made by
faster-whisper's own extractor), and answers with the probability that the speaker has finished. One
session serves every call; each question runs on the engine's own worker thread (queue label
``turn_end``), so it neither blocks the event loop nor waits behind speech recognition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
from faster_whisper.feature_extractor import FeatureExtractor

from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.speech import VAD_RATE
from voiceagent.engines.worker import EngineWorker

WINDOW_S = 8  # the model's input: the last 8 s of the turn
WINDOW_SAMPLES = WINDOW_S * VAD_RATE
MEL_BANDS = 80
MEL_FRAMES = 800  # 10 ms hop over 8 s


def model_input(audio: FloatAudio, extractor: FeatureExtractor) -> np.ndarray:
    """The model's ``input_features`` [1, 80, 800] for the turn ``audio`` (16 kHz float32, any length)."""
    window = audio[-WINDOW_SAMPLES:].astype(np.float32)
    if len(window) < WINDOW_SAMPLES:
        window = np.pad(window, (WINDOW_SAMPLES - len(window), 0))
    window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
    features = extractor(window.astype(np.float32), padding=0)[:, :MEL_FRAMES]
    return np.asarray(features, dtype=np.float32)[np.newaxis]


class SmartTurnModel:
    """A :class:`~voiceagent.engines.speech.TurnEndModel`: one ONNX session, one worker thread."""

    def __init__(self, path: Path, *, threads: int = 1, label: str = "smart-turn-v3.2") -> None:
        self.label = label
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(path), sess_options=opts,
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._extractor = FeatureExtractor(feature_size=MEL_BANDS, sampling_rate=VAD_RATE, hop_length=160,
                                           chunk_length=WINDOW_S, n_fft=400)
        self.worker = EngineWorker("turn_end")

    def probability_blocking(self, audio: FloatAudio) -> float:
        """Blocking: the probability that the turn in ``audio`` is finished."""
        out = self._session.run(None, {self._input: model_input(audio, self._extractor)})[0]
        return float(np.asarray(out).reshape(-1)[0])

    async def complete_probability(self, audio: FloatAudio) -> float:
        """The probability, computed off the event loop. Cancelling abandons the result."""
        return await self.worker.run(self.probability_blocking, audio)

    def close(self) -> None:
        """Stop the worker thread."""
        self.worker.close()
