from voiceagent.engines.speech import VAD_FRAME_MS as FRAME_MS
from voiceagent.stages.endpointing import Endpoint, Endpointer, SilenceStart, SpeechResume, SpeechStart


def run(probs: list[float], **kw: float) -> list[tuple[int, object]]:
    ep = Endpointer(threshold=0.5, min_speech_ms=96, speculate_after_ms=64, endpoint_silence_ms=256, **kw)
    out = []
    for i, p in enumerate(probs):
        out.extend((i, e) for e in ep.feed(p, now=i * FRAME_MS / 1000))
    return out


def test_turn_events_in_order_with_speech_end_at_last_voiced_frame() -> None:
    events = run([0.0] * 5 + [0.9] * 20 + [0.05] * 12)
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStart, SilenceStart, Endpoint]
    start = events[0][1]
    assert isinstance(start, SpeechStart) and start.at == 5 * FRAME_MS / 1000
    end = events[-1][1]
    assert isinstance(end, Endpoint)
    assert end.speech_end == 24 * FRAME_MS / 1000  # the last voiced frame
    assert events[-1][0] == 24 + 8  # 256 ms of silence later


def test_short_blip_is_not_speech() -> None:
    assert run([0.9, 0.9, 0.0, 0.0, 0.9, 0.0] + [0.0] * 20) == []


def test_pause_shorter_than_endpoint_resumes_and_voids_speculation() -> None:
    events = run([0.9] * 10 + [0.0] * 4 + [0.9] * 10 + [0.0] * 10)
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStart, SilenceStart, SpeechResume, SilenceStart, Endpoint]
    spec, end = events[3][1], events[4][1]
    assert isinstance(spec, SilenceStart) and isinstance(end, Endpoint) and spec.frames == end.frames


def test_long_turn_is_cut() -> None:
    events = run([0.9] * 100, max_utterance_s=1.0)
    ends = [e for _, e in events if isinstance(e, Endpoint)]
    assert ends and ends[0].forced


def test_without_speculation_the_turn_still_ends() -> None:
    ep = Endpointer(threshold=0.5, min_speech_ms=96, speculate_after_ms=None, endpoint_silence_ms=256)
    events = [e for i, p in enumerate([0.9] * 10 + [0.0] * 10) for e in ep.feed(p, now=i * 0.032)]
    assert [type(e) for e in events] == [SpeechStart, Endpoint]
