"""Turn taking on fake engines: a caller who goes on after a pause continues their turn (one answer to
all of it), speculative transcription is reused at the endpoint or dropped when the caller resumes, and an
end-of-turn model that calls a turn finished ends it before the silence wait (its evidence in the record)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import FakeVad, ScriptedStt, ScriptedTurnModel, seconds_of
from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.audio.pcm import FloatAudio
from voiceagent.events import Clear, Transcript

SHORT, LONG = "I want", "I want to book a table"


def by_length(audio: FloatAudio) -> str:
    """The caller's words: the first fragment alone, or all of it."""
    return SHORT if seconds_of(audio) < 0.5 else LONG


async def test_going_on_before_any_reply_was_heard_continues_the_turn(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply("Not heard.", first_token_s=0.2), "For how many?"])
    async with running_call(tmp_path, stt=ScriptedStt(by_length), llm=llm) as call:
        await call.say()
        await call.output.wait_for(Transcript)  # the model is thinking about the first fragment
        await call.say()
        continued = await call.turn_over(1)
        answered = await call.turn_over(2)
        await call.output.until_quiet()
        record = await call.end()
    assert continued.outcome == "continued" and not continued.interrupted
    assert call.output.of_type(Transcript) == [Transcript(turn=1, text=SHORT), Transcript(turn=2, text=LONG, revises=1)]
    assert seconds_of(call.fakes.stt.calls[-1]) >= 0.6  # both fragments, transcribed together
    assert llm.requests[1][1:] == [{"role": "user", "content": LONG}]  # the fragment was taken back
    assert llm.cancelled == 1 and answered.outcome == "answered"
    assert call.output.said(turn=1) == [] and call.output.said(turn=2) == ["For how many?"]
    assert call.output.of_type(Clear) == []
    assert [(e["turn"], e["revises"]) for e in record if e["kind"] == "transcript"] == [(1, None), (2, 1)]


async def test_the_speculative_transcription_is_the_turns_transcription(tmp_path: Path) -> None:
    stt = ScriptedStt(["hello"], delay_s=0.05)
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm(["Hi."])) as call:
        await call.exchange(1)
        assert len(stt.calls) == 1 and stt.cancelled == 0


async def test_speculation_is_dropped_when_the_caller_resumes_and_the_whole_turn_transcribed(tmp_path: Path) -> None:
    stt = ScriptedStt(by_length, delay_s=0.05)
    llm = ScriptedLlm(["Sure."])
    async with running_call(tmp_path, stt=stt, llm=llm) as call:
        await call.speak(0.3)
        await call.pause(0.07)  # past speculate_after_ms, short of the endpoint
        await call.speak(0.3)
        await asyncio.sleep(0.1)  # a speculation left running would have finished by now
        await call.pause(0.3)
        await call.turn_over(1)
        await call.output.until_quiet()
        assert (stt.cancelled, stt.finished) == (1, 1) and seconds_of(stt.calls[0]) < 0.5
        assert call.output.of_type(Transcript) == [Transcript(turn=1, text=LONG)]
        assert [r[-1]["content"] for r in llm.requests] == [LONG]


async def test_quiet_noise_is_not_speech(tmp_path: Path) -> None:
    async with running_call(tmp_path, vad=FakeVad(level=0.5)) as call:  # the caller's tone is under the level
        await call.say()
        await call.output.until_quiet()
        assert call.output.types() == ["agent_text"] and call.fakes.stt.calls == []


async def test_a_turn_the_end_of_turn_model_calls_finished_is_answered_before_the_silence_wait(tmp_path: Path) -> None:
    turn = ScriptedTurnModel([0.9])
    async with running_call(tmp_path, turn=turn, stt=ScriptedStt(["Book me in."]), llm=ScriptedLlm(["Sure."]),
                            endpoint_silence_ms=2000, turn_min_silence_ms=64, turn_max_silence_ms=3000) as call:
        await call.say(silence=0.5)  # far short of the 2 s silence wait (and of the 3 s longest one)
        metrics = await call.turn_over(1)
        await call.output.until_quiet()
        record = await call.end()
    assert metrics.end_of_turn["reason"] == "model" and metrics.end_of_turn["turn_prob"] == 0.9
    assert metrics.end_of_turn["silence_ms"] < 500 and len(turn.calls) == 1
    assert call.output.said(turn=1) == ["Sure."]
    [logged] = [e for e in record if e["kind"] == "turn_metrics"]
    assert logged["end_of_turn"] == metrics.end_of_turn
    assert call.call.ctx.engines.models()["turn"] == "scripted_turn"


async def test_words_that_need_more_are_answered_only_after_the_longest_silence(tmp_path: Path) -> None:
    """The model calls the pause finished, but "Can I bring my car in on" cannot be all of it: nothing is
    done with it until the silence reaches ``turn_max_silence_ms``."""
    turn = ScriptedTurnModel([0.95])
    llm = ScriptedLlm(["Which day?"])
    async with running_call(tmp_path, turn=turn, stt=ScriptedStt(["Can I bring my car in on"]), llm=llm,
                            turn_min_silence_ms=64, turn_max_silence_ms=1200) as call:
        await call.say(silence=1.6)
        metrics = await call.turn_over(1, timeout=3.0)
        await call.output.until_quiet()
        record = await call.end()
    assert metrics.end_of_turn["reason"] == "model" and metrics.end_of_turn["held_unfinished"] is True
    assert metrics.timeline["llm_first_token"] >= 1200  # the model was asked only after the longest wait
    assert call.output.said(turn=1)[-1] == "Which day?"  # (after a filler: the test's turn budget is short)
    [logged] = [e for e in record if e["kind"] == "turn_metrics"]
    assert logged["end_of_turn"]["held_unfinished"] is True


async def test_a_caller_who_goes_on_after_words_that_need_more_gets_one_answer_to_all_of_it(tmp_path: Path) -> None:
    """The pause is longer than the end-of-turn model's wait but shorter than the longest one: the first
    piece never reaches the model, and the whole sentence is answered once."""
    def heard(audio: FloatAudio) -> str:
        return "I want to" if seconds_of(audio) < 0.5 else LONG

    llm = ScriptedLlm(["For how many?"])
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95]), stt=ScriptedStt(heard), llm=llm,
                            turn_min_silence_ms=64, turn_max_silence_ms=1200) as call:
        await call.say(silence=0.6)  # the model ended the turn long before the caller goes on
        await call.say(silence=1.4)
        await call.turn_over(2, timeout=3.0)
        await call.output.until_quiet()
    assert [r[-1]["content"] for r in llm.requests] == [LONG]
    assert call.output.of_type(Transcript) == [Transcript(turn=1, text="I want to"),
                                               Transcript(turn=2, text=LONG, revises=1)]
    assert call.output.said(turn=1) == [] and call.output.said(turn=2) == ["For how many?"]


async def test_an_answer_nobody_heard_yet_stops_as_soon_as_the_caller_speaks_again(tmp_path: Path) -> None:
    """Not at the end of the caller's next words: the model stops while they are still talking, and
    nothing of the first answer reaches them."""
    llm = ScriptedLlm([Reply("Not heard.", first_token_s=0.5), "For how many?"])
    async with running_call(tmp_path, stt=ScriptedStt(by_length), llm=llm, barge_in_ms=256) as call:
        await call.say()
        await call.output.wait_for(Transcript)  # the model is thinking about the first fragment
        await call.speak(0.15)  # the caller goes on (shorter than a barge-in); the turn is still open
        await asyncio.sleep(0.05)
        assert llm.cancelled == 1 and llm.open_streams == 0
        await call.speak(0.3)
        await call.pause(0.3)
        await call.turn_over(2)
        await call.output.until_quiet()
    assert call.output.said(turn=1) == [] and call.output.said(turn=2) == ["For how many?"]


def first_then_rest(audio: FloatAudio) -> str:
    """The caller's words by the audio transcribed: the first part, the second part alone, or both."""
    seconds = seconds_of(audio)
    return SHORT if seconds < 0.5 else ("to book a table" if seconds < 1.0 else LONG)


async def test_going_on_long_after_the_turn_keeps_its_words_as_text_instead_of_carrying_the_audio(
    tmp_path: Path,
) -> None:
    """The caller goes on while a slow answer is still coming (past ``continue_audio_s``): the unheard
    answer stops, the earlier words stay in the history and the new ones are added to them. Only the new
    audio is transcribed, so a caller who keeps talking to a slow agent never makes turns grow."""
    llm = ScriptedLlm([Reply("Not heard.", first_token_s=1.0), "For how many?"])
    async with running_call(tmp_path, stt=ScriptedStt(first_then_rest), llm=llm, continue_audio_s=0.5) as call:
        await call.say()
        await call.output.wait_for(Transcript)
        await call.pause(0.5)  # past continue_audio_s (a filler plays meanwhile)
        await call.say(0.6)
        continued = await call.turn_over(1)
        answered = await call.turn_over(2)
        await call.output.until_quiet()
    assert continued.outcome == "continued" and answered.outcome == "answered"
    assert call.output.of_type(Transcript) == [Transcript(turn=1, text=SHORT), Transcript(turn=2, text="to book a table")]
    assert seconds_of(call.fakes.stt.calls[-1]) < 1.0  # the new words' audio alone
    assert llm.requests[1][1:] == [{"role": "user", "content": f"{SHORT} to book a table"}]
    assert call.output.said(kind="reply", turn=1) == [] and call.output.said(kind="reply", turn=2) == ["For how many?"]
