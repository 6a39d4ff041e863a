"""A turn the end-of-turn model ended early is made at once but not heard before ``reply_not_before_ms``
of silence after the caller's last word; a caller who goes on within it hears nothing of an answer to
half their sentence, and the whole of it is answered once. A turn the model called unfinished
(``turn_unsure_ends``) ends at once too, and its reply is heard only after the longest silence; so does a
number or a message the caller reads out, its reply held for the wait it would have had. No deed is done
before the reply may be heard."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt, ScriptedTurnModel, seconds_of
from tests.fakes.llm import ScriptedLlm
from tests.pipeline.test_call_actions import paused_answer
from voiceagent.audio.pcm import FloatAudio
from voiceagent.personas import Persona, load_persona

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
HALF, WHOLE = "Can I bring my car in?", "Can I bring my car in on Sunday?"
CLOSED = "Sorry, we're closed on Sundays."


def garage() -> Persona:
    return load_persona(GARAGE)


async def test_a_reply_made_early_is_heard_only_after_the_wait(tmp_path: Path) -> None:
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95]), stt=ScriptedStt(["How much is an oil change?"]),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1200,
                            reply_not_before_ms=700) as call:
        await call.say(silence=1.2)
        metrics = await call.turn_over(1, timeout=3.0)
    assert metrics.end_of_turn["reason"] == "model"
    assert metrics.timeline["tts_first_audio"] < 500  # made as soon as the words were in ...
    assert metrics.timeline["audio_out"] >= 700  # ... heard only after the wait
    assert call.output.said("reply", turn=1) == ["An oil change is 45 dollars and takes about 30 minutes."]


async def test_a_caller_who_goes_on_within_the_wait_hears_only_the_answer_to_the_whole(tmp_path: Path) -> None:
    def heard(audio: FloatAudio) -> str:
        return HALF if seconds_of(audio) < 0.8 else WHOLE

    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95] * 2), stt=ScriptedStt(heard),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1200,
                            reply_not_before_ms=700) as call:
        await call.say(silence=0.5)  # the turn ends after 64 ms; the caller goes on before 700 ms
        await call.say(silence=1.2)
        await call.turn_over(2, timeout=3.0)
        await call.output.until_quiet()
    assert call.output.said("reply", turn=1) == []
    assert call.output.said("reply", turn=2)[0].startswith(CLOSED)


async def test_a_turn_judged_unfinished_is_answered_early_but_heard_after_the_longest_silence(tmp_path: Path) -> None:
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.1]), stt=ScriptedStt(["How much is an oil change?"]),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1000,
                            turn_unsure_ends=True) as call:
        await call.say(silence=1.5)
        metrics = await call.turn_over(1, timeout=3.0)
    assert metrics.end_of_turn["reason"] == "unsure" and metrics.end_of_turn["turn_prob"] == 0.1
    assert metrics.timeline["endpoint"] < 500 and metrics.timeline["tts_first_audio"] < 500
    assert metrics.timeline["audio_out"] >= metrics.end_of_turn["hold_ms"] >= 990  # the wait, in whole frames


async def test_nothing_is_done_before_the_reply_may_be_heard(tmp_path: Path) -> None:
    """A goodbye heard in a first piece does not end the call: the caller went on within the wait."""
    def heard(audio: FloatAudio) -> str:
        return "That's all I needed, thanks, bye." if seconds_of(audio) < 0.8 else (
            "That's all I needed, thanks, bye. Oh wait, are you open on Sunday?")

    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95] * 2), stt=ScriptedStt(heard),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1200,
                            reply_not_before_ms=700) as call:
        await call.say(silence=0.5)
        await call.say(silence=1.2)
        await call.turn_over(2, timeout=3.0)
        await call.output.until_quiet()
        assert not call.task.done()  # the call goes on
        record = call.record()
    assert call.output.said("reply", turn=1) == []
    assert [e for e in record if e["kind"] == "action"] == []  # no end_call was done, or written down as done


async def test_a_message_read_out_ends_at_once_but_is_taken_whole_after_the_dictation_wait(tmp_path: Path) -> None:
    """A 950 ms pause inside the message: the first part ends a turn at the model's answer, its reply held for
    the dictation wait; the caller goes on within it, so nothing is said or taken until the whole message."""
    metrics, record, store = await paused_answer(
        tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel, my number is 555 0199.",
        "The car you fixed last week", "The car you fixed last week is making a banging noise.", pause=0.95,
        answer_turn=3, turn_unsure_ends=True)
    assert metrics.end_of_turn["reason"] == "patient_early" and metrics.end_of_turn["hold_ms"] >= 1200
    assert metrics.timeline["endpoint"] < 500 and metrics.timeline["audio_out"] >= 1200
    [taken] = store.messages("garage")
    assert taken.text.rstrip(".") == "The car you fixed last week is making a banging noise"
    assert [e["turn"] for e in record if e["kind"] == "reply"] == [1, 3]  # nothing said into the pause


async def test_a_number_read_out_in_groups_is_one_turn_with_its_reply_held(tmp_path: Path) -> None:
    metrics, record, _ = await paused_answer(
        tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel.",
        "five five five", "five five five zero one nine nine", answer_turn=3, turn_unsure_ends=True)
    assert metrics.end_of_turn["reason"] == "patient_early" and metrics.timeline["audio_out"] >= 700
    assert [e["text"] for e in record if e["kind"] == "transcript"][1:] == [
        "five five five", "five five five zero one nine nine"]
    assert "your message" in " ".join(str(e["text"]) for e in record if e["kind"] == "reply" and e["turn"] == 3)
