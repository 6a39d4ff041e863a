"""piper text-to-speech: one clause in, its audio out, on its own worker thread."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig

from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.worker import EngineWorker


class PiperSynthesizer:
    """Synthesises text to float32 audio at the voice's own sample rate."""

    def __init__(self, onnx_path: Path, config_path: Path, *, threads: int, label: str) -> None:
        self.label = label
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._voice = PiperVoice(session=session, config=config)
        self.sample_rate: int = config.sample_rate
        self.worker = EngineWorker("tts")

    def synthesize_blocking(self, text: str) -> FloatAudio:
        """Blocking synthesis of ``text`` (all its sentences, joined)."""
        chunks = [c.audio_float_array for c in self._voice.synthesize(text)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return (np.concatenate(chunks) * 0.8).astype(np.float32)

    async def synthesize(self, text: str) -> FloatAudio:
        """Synthesise off the event loop. Cancelling abandons the result."""
        return await self.worker.run(self.synthesize_blocking, text)

    def close(self) -> None:
        """Stop the worker thread."""
        self.worker.close()
