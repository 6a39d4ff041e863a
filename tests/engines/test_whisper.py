"""faster-whisper on the bundled tiny.en: greedy decoding, with one sampled retry when the text loops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voiceagent.engines import bundled
from voiceagent.engines.whisper import WhisperTranscriber

pytestmark = pytest.mark.slow


def _transcriber(**options: Any) -> WhisperTranscriber:
    return WhisperTranscriber(bundled.whisper_dir("tiny.en"), device="cpu", compute_type="int8", threads=2,
                              label="tiny.en", **options)


def _options_given(stt: WhisperTranscriber) -> dict[str, Any]:
    given: dict[str, Any] = {}
    real = stt._model.transcribe

    def spy(audio: Any, **options: Any) -> Any:
        given.update(options)
        return real(audio, **options)

    stt._model.transcribe = spy  # type: ignore[method-assign]
    stt.transcribe_blocking(np.zeros(16000, dtype=np.float32))
    return given


def test_a_looping_text_is_decoded_again_only_on_its_compression_ratio() -> None:
    given = _options_given(_transcriber())
    assert given["temperature"] == [0.0, 0.4] and given["compression_ratio_threshold"] == 2.4
    assert given["log_prob_threshold"] is None  # noisy phone audio has a low log-probability on most turns
    assert given["beam_size"] == 1


def test_without_retries_the_text_is_greedy_once() -> None:
    given = _options_given(_transcriber(retry_loops=False))
    assert given["temperature"] == 0.0 and "compression_ratio_threshold" not in given
