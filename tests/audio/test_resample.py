import numpy as np

from tests.conftest import recording
from voiceagent.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceagent.audio.resample import StreamResampler, resample
from voiceagent.client import load_audio


def test_streaming_8k_to_16k_matches_one_shot_without_edge_clicks() -> None:
    speech = load_audio(recording("fsdd_4_jackson_0.wav"), 8000)
    stream = StreamResampler(8000, 16000)
    pieces = [stream.process(speech[i : i + 160]) for i in range(0, len(speech), 160)]  # 20 ms frames
    pieces.append(stream.process(np.zeros(0, dtype=np.float32), last=True))
    chunked = np.concatenate(pieces)
    whole = resample(speech, 8000, 16000)
    assert abs(len(chunked) - 2 * len(speech)) <= 2
    n = min(len(chunked), len(whole))
    # same signal: the streaming state carries across frame edges, so there are no per-frame artefacts
    assert np.max(np.abs(chunked[:n] - whole[:n])) < 0.02
    # and no sample-to-sample jump larger than the original ever makes
    assert np.max(np.abs(np.diff(chunked))) <= np.max(np.abs(np.diff(speech))) + 0.05


def test_pcm_round_trip_and_clipping() -> None:
    x = np.array([0.0, 0.5, -0.5, 1.5, -1.5], dtype=np.float32)
    y = pcm16_to_float(float_to_pcm16(x))
    assert np.allclose(y[:3], x[:3], atol=1e-4) and y[3] > 0.999 and y[4] <= -0.999
