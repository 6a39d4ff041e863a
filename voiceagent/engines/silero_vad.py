"""Streaming voice activity detection with the Silero VAD model that faster-whisper ships.

The model sees 512 new samples at 16 kHz (32 ms) plus the previous 64 as context, and carries an LSTM
state (h, c) from frame to frame. One ONNX session serves every call; each call has its own state.
A frame takes well under a millisecond on one core, so it runs inline rather than paying a thread hop.

The model's recurrent state drifts during long silences: after 20 s of digital silence it no longer
hears a short word it detects at once on a fresh state (see tests/engines/test_silero_vad.py). So the state is
reset after each second of clear silence, which costs nothing when nobody speaks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime

from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.speech import VAD_FRAME_SAMPLES as FRAME_SAMPLES

CONTEXT_SAMPLES = 64
RESET_AFTER_FRAMES = 31  # about one second of clear silence
QUIET_PROB = 0.1


def bundled_vad_path() -> Path:
    """The Silero VAD ONNX file inside the installed faster-whisper package, checked against its pin."""
    from voiceagent.engines import bundled

    return bundled.silero_vad()


class SileroModel:
    """The shared ONNX session (a :class:`~voiceagent.engines.speech.VadModel`). Thread-safe:
    ``InferenceSession.run`` may be called concurrently."""

    label = "silero_vad_v6"

    def __init__(self, path: Path | None = None) -> None:
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(path or bundled_vad_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )


    def stream(self) -> SileroStream:
        """A fresh detector for one call."""
        return SileroStream(self)


class SileroStream:
    """One call's VAD: feed any number of 16 kHz samples, get one speech probability per 32 ms frame."""

    def __init__(self, model: SileroModel) -> None:
        self._model = model
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._reset_state()

    def _reset_state(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._quiet_frames = 0

    def feed(self, audio: FloatAudio) -> list[tuple[FloatAudio, float]]:
        """Append samples; return each completed frame with its speech probability."""
        self._pending = np.concatenate([self._pending, audio])
        results: list[tuple[FloatAudio, float]] = []
        while len(self._pending) >= FRAME_SAMPLES:
            frame = self._pending[:FRAME_SAMPLES]
            self._pending = self._pending[FRAME_SAMPLES:]
            window = np.concatenate([self._context, frame])[np.newaxis, :]
            out, self._h, self._c = self._model.session.run(
                None, {"input": window, "h": self._h, "c": self._c}
            )
            self._context = frame[-CONTEXT_SAMPLES:]
            prob = float(np.asarray(out).reshape(-1)[0])
            self._quiet_frames = self._quiet_frames + 1 if prob < QUIET_PROB else 0
            if self._quiet_frames >= RESET_AFTER_FRAMES:
                self._reset_state()
            results.append((frame, prob))
        return results
