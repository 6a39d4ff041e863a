from voiceagent.engines.speech import VAD_FRAME_MS as FRAME_MS
from voiceagent.stages.endpointing import (
    Endpoint,
    Endpointer,
    SilenceStart,
    SpeechResume,
    SpeechStart,
    TurnCheck,
)


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


# ---- end of turn by meaning: the endpointer asks, a scripted model answers


def model_run(probs: list[float], answers: dict[int, float | None], *, model: bool = True,
              patient_from: int | None = None, dictating: bool = False, asks: bool = False,
              **kw: float) -> list[tuple[int, object]]:
    """Feed ``probs`` with a model switched on (or, ``model`` False, none at all); ``answers`` maps a frame
    index to the answer (a probability, or None for a failure) handed to :meth:`Endpointer.judge` for the
    latest question just before that frame. The endpointer is patient from frame ``patient_from`` on
    (and ``dictating`` then too); ``asks``: every answer comes with words that ask a question."""
    ep = Endpointer(threshold=0.5, min_speech_ms=96, speculate_after_ms=64, endpoint_silence_ms=256,
                    turn_min_silence_ms=128 if model else None, turn_max_silence_ms=800, **kw)
    out: list[tuple[int, object]] = []
    asked: list[int] = []
    for i, p in enumerate(probs):
        if i == patient_from:
            ep.patient, ep.dictating = True, dictating
        if i in answers and asked:
            out.extend((i, e) for e in ep.judge(asked[-1], answers[i], asks=asks))
        for e in ep.feed(p, now=i * FRAME_MS / 1000):
            out.append((i, e))
            if isinstance(e, TurnCheck):
                asked.append(e.check)
    return out


SPEECH_THEN_SILENCE = [0.0] * 2 + [0.9] * 20 + [0.0] * 40  # last voiced frame: 21


def test_a_finished_turn_ends_as_soon_as_the_model_says_so() -> None:
    events = model_run(SPEECH_THEN_SILENCE, {27: 0.9})
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStart, SilenceStart, TurnCheck, Endpoint]
    check, (at, end) = events[2], events[-1]
    assert check[0] == 21 + 4  # asked after 128 ms of silence
    assert isinstance(end, Endpoint) and at == 27 and end.reason == "model" and end.turn_prob == 0.9
    assert end.speech_end == 21 * FRAME_MS / 1000 and end.silence_ms == 5 * FRAME_MS  # before the 256 ms wait
    spec = events[1][1]
    assert isinstance(spec, SilenceStart) and spec.frames == end.frames  # the speculation still matches


def test_an_unfinished_turn_waits_for_the_longest_silence() -> None:
    events = model_run(SPEECH_THEN_SILENCE, {26: 0.2})
    end_at, end = events[-1]
    assert isinstance(end, Endpoint) and end.reason == "max_silence" and end.turn_prob == 0.2
    assert end_at == 21 + 25 and end.silence_ms == 800  # not at 256 ms: the caller may go on ("0 7 9 ...")


def test_an_unsure_endpointer_ends_an_unfinished_turn_at_once() -> None:
    """With ``unsure_ends`` the answer of unfinished ends the turn too (its reply is held by the call)."""
    end_at, end = model_run(SPEECH_THEN_SILENCE, {26: 0.2}, unsure_ends=True)[-1]
    assert isinstance(end, Endpoint) and end.reason == "unsure" and end.turn_prob == 0.2 and end_at == 26
    assert end.hold_ms == 800  # its reply waits for the longest silence, as the turn would have
    finished = model_run(SPEECH_THEN_SILENCE, {26: 0.9}, unsure_ends=True)[-1][1]
    assert isinstance(finished, Endpoint) and finished.reason == "model" and finished.hold_ms == 0


def test_an_unsure_patient_endpointer_still_waits_for_a_number_or_a_message() -> None:
    """A caller reading out a number pauses between its groups: the longest wait stands, ``unsure_ends`` or not
    (ending at the model's answer made every pause inside a name or a number a turn of its own)."""
    end_at, end = model_run(SPEECH_THEN_SILENCE, {26: 0.2}, unsure_ends=True, patient_from=0)[-1]
    assert isinstance(end, Endpoint) and end.reason == "patient" and end_at == 21 + 25 and end.hold_ms == 0


def test_an_unfinished_turn_the_caller_goes_on_with_is_one_turn() -> None:
    probs = [0.9] * 20 + [0.0] * 15 + [0.9] * 10 + [0.0] * 30  # a 480 ms pause mid-sentence
    events = model_run(probs, {25: 0.1, 51: 0.95})
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStart, SilenceStart, TurnCheck, SpeechResume, SilenceStart, TurnCheck, Endpoint]
    end = events[-1][1]
    assert isinstance(end, Endpoint) and end.reason == "model" and end.speech_end == 44 * FRAME_MS / 1000


def test_an_answer_that_comes_after_the_caller_went_on_is_ignored() -> None:
    ep = Endpointer(speculate_after_ms=64, turn_min_silence_ms=128)
    for i in range(20):
        ep.feed(0.9, now=i * 0.032)
    checks = [e for i in range(20, 24) for e in ep.feed(0.0, now=i * 0.032) if isinstance(e, TurnCheck)]
    assert len(checks) == 1
    assert [type(e) for e in ep.feed(0.9, now=24 * 0.032)] == [SpeechResume]
    assert ep.judge(checks[0].check, 0.99) == []  # late: the caller spoke again
    assert ep.in_turn
    events = [e for i in range(25, 29) for e in ep.feed(0.0, now=i * 0.032)]
    assert [type(e) for e in events] == [SilenceStart, TurnCheck]
    assert ep.judge(checks[0].check, 0.99) == []  # an old question's answer does not end the new pause
    assert ep.in_turn


def test_a_failed_model_falls_back_to_the_silence_wait() -> None:
    events = model_run(SPEECH_THEN_SILENCE, {27: None})
    end_at, end = events[-1]
    assert isinstance(end, Endpoint) and end.reason == "silence" and end.turn_prob is None
    assert end_at == 21 + 8  # 256 ms of silence, as without a model
    late = model_run(SPEECH_THEN_SILENCE, {40: None})  # failed after the silence wait had passed: ends then
    assert late[-1][0] == 40 and isinstance(late[-1][1], Endpoint) and late[-1][1].reason == "silence"


def test_an_unanswered_question_never_stalls_the_turn() -> None:
    end_at, end = model_run(SPEECH_THEN_SILENCE, {})[-1]
    assert isinstance(end, Endpoint) and end.reason == "max_silence" and end_at == 21 + 25


def test_the_threshold_decides_what_finished_means() -> None:
    low = model_run(SPEECH_THEN_SILENCE, {26: 0.6})[-1][1]
    assert isinstance(low, Endpoint) and low.reason == "model"
    high = model_run(SPEECH_THEN_SILENCE, {26: 0.6}, turn_complete_threshold=0.7)[-1][1]
    assert isinstance(high, Endpoint) and high.reason == "max_silence"


def test_without_a_model_nothing_is_asked_and_silence_ends_the_turn() -> None:
    events = run([0.9] * 20 + [0.0] * 40)
    assert [type(e) for _, e in events] == [SpeechStart, SilenceStart, Endpoint]
    end = events[-1][1]
    assert isinstance(end, Endpoint) and end.reason == "silence" and end.turn_prob is None
    assert events[-1][0] == 19 + 8 and end.silence_ms == 256


# ---- patience: a caller reading out a number pauses between its groups


def test_a_patient_endpointer_waits_the_longest_silence_even_for_a_finished_sounding_turn() -> None:
    end_at, end = model_run(SPEECH_THEN_SILENCE, {27: 0.99}, patient_from=0)[-1]
    assert isinstance(end, Endpoint) and end.reason == "patient" and end.turn_prob == 0.99
    assert end_at == 21 + 25 and end.silence_ms == 800


def test_a_question_asked_instead_of_a_number_or_a_message_ends_when_judged_finished() -> None:
    """Words that ask a question (not the number or message awaited), judged finished (at least the 0.9 of
    ``question_threshold``), end the turn at once; judged less surely finished, or not asking, they wait as any
    patient turn does. Not patient, ``asks`` changes nothing."""
    for dictating in (False, True):
        end_at, end = model_run(SPEECH_THEN_SILENCE, {27: 0.99}, patient_from=0, dictating=dictating, asks=True,
                                dictation_silence_ms=1200)[-1]
        assert isinstance(end, Endpoint) and end.reason == "question" and end_at == 27 and end.hold_ms == 0
    for prob in (0.2, 0.72):  # 0.72: finished for any other turn, not surely enough for a patient one
        unsure = model_run(SPEECH_THEN_SILENCE, {27: prob}, patient_from=0, asks=True)[-1][1]
        assert isinstance(unsure, Endpoint) and unsure.reason == "patient"
    not_asking = model_run(SPEECH_THEN_SILENCE, {27: 0.99}, patient_from=0)[-1][1]
    assert isinstance(not_asking, Endpoint) and not_asking.reason == "patient"
    ordinary = model_run(SPEECH_THEN_SILENCE, {27: 0.99}, asks=True)[-1][1]
    assert isinstance(ordinary, Endpoint) and ordinary.reason == "model"


def test_a_patient_caller_going_on_after_a_pause_is_one_turn() -> None:
    probs = [0.9] * 20 + [0.0] * 20 + [0.9] * 10 + [0.0] * 30  # "five five five ... (640 ms) ... zero one nine nine"
    events = model_run(probs, {26: 0.99, 56: 0.99}, patient_from=0)
    ends = [e for _, e in events if isinstance(e, Endpoint)]
    assert len(ends) == 1 and ends[0].speech_end == 49 * FRAME_MS / 1000


def test_a_caller_dictating_a_message_may_pause_for_the_longer_dictation_wait() -> None:
    probs = [0.9] * 20 + [0.0] * 30 + [0.9] * 10 + [0.0] * 50  # a 960 ms pause inside a message
    events = model_run(probs, {26: 0.99}, patient_from=0, dictating=True, dictation_silence_ms=1200)
    ends = [(i, e) for i, e in events if isinstance(e, Endpoint)]
    assert [(i, e.reason) for i, e in ends] == [(59 + 38, "patient")]  # 1200 ms after "... banging noise"
    number = model_run(probs, {26: 0.99}, patient_from=0, dictation_silence_ms=1200)  # a number: 800 ms
    assert len([e for _, e in number if isinstance(e, Endpoint)]) == 2


def test_patience_set_mid_pause_holds_the_turn_in_progress_and_works_without_a_model() -> None:
    end_at, end = model_run(SPEECH_THEN_SILENCE, {}, model=False, patient_from=24)[-1]
    assert isinstance(end, Endpoint) and end.reason == "patient" and end_at == 21 + 25
    unpatient = model_run(SPEECH_THEN_SILENCE, {}, model=False)[-1]
    assert unpatient[0] == 21 + 8  # the 256 ms wait
