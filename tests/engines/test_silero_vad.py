import numpy as np

from tests.conftest import recording
from voiceagent.client import load_audio
from voiceagent.engines.silero_vad import SileroModel
from voiceagent.engines.speech import VAD_FRAME_SAMPLES as FRAME_SAMPLES


def test_real_speech_is_detected_and_silence_is_not() -> None:
    model = SileroModel()
    speech = load_audio(recording("jfk.flac"), 16000)
    vad = model.stream()
    # feed in uneven pieces, as a network delivers them
    probs = [p for i in range(0, len(speech), 700) for _, p in vad.feed(speech[i : i + 700])]
    assert len(probs) == len(speech) // FRAME_SAMPLES
    assert np.mean(np.array(probs) > 0.5) > 0.5
    quiet = model.stream().feed(np.zeros(16000, dtype=np.float32))
    assert max(p for _, p in quiet) < 0.2


def test_a_short_word_is_heard_after_a_long_silence() -> None:
    """Regression: the recurrent state drifted in long silences until short words went unheard."""
    model = SileroModel()
    word = load_audio(recording("fsdd_3_jackson_0.wav"), 16000)
    stream = np.concatenate([np.zeros(20 * 16000, dtype=np.float32), word, np.zeros(8000, dtype=np.float32)])
    probs = np.array([p for _, p in model.stream().feed(stream)])
    assert (probs >= 0.5).sum() >= 3
