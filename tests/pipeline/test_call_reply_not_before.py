"""A turn the end-of-turn model ended early is made at once but not heard before ``reply_not_before_ms``
of silence after the caller's last word; a caller who goes on within it hears nothing of an answer to
half their sentence, and the whole of it is answered once. A turn the model called unfinished
(``turn_unsure_ends``) ends at once too, and its reply is heard only after the longest silence; no deed is
done before the reply may be heard."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt, ScriptedTurnModel, seconds_of
from tests.fakes.llm import ScriptedLlm
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



async def test_no_filler_plays_before_the_reply_may_be_heard(tmp_path: Path) -> None:
    """The turn's deadline (100 ms here) passes while the model is still thinking, well inside the hold: no
    filler speaks into the pause (the caller may go on), and the reply is heard once the hold is over."""
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.1]), stt=ScriptedStt(["Hello there."]),
                            llm=ScriptedLlm(["Hello, how can I help?"], first_token_s=0.4), engine_timeout_s=2.0,
                            turn_min_silence_ms=64,
                            turn_max_silence_ms=1000, turn_unsure_ends=True, filler_grace_ms=0) as call:
        await call.say(silence=1.5)
        metrics = await call.turn_over(1, timeout=3.0)
        await call.output.until_quiet()
    assert metrics.end_of_turn["reason"] == "unsure" and metrics.filler is False
    assert metrics.timeline["audio_out"] >= metrics.end_of_turn["hold_ms"]
    assert " ".join(call.output.said(turn=1)) == "Hello, how can I help?"  # no filler before it
