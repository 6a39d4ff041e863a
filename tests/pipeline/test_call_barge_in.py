"""Barge-in on fake engines: the caller talks over the agent, playback stops at once, and the history
(what the model is told on the next turn) keeps only the words the caller actually heard."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import PERSONA, running_call
from tests.fakes.engines import FakeTts, ScriptedStt
from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.events import Clear, TurnMetrics
from voiceagent.personas import Persona

REPLY = "Alpha bravo charlie delta echo foxtrot golf."  # one clause of 7 words, 0.45 s of SLOW speech


def slow_voice() -> FakeTts:
    """A voice slow enough (10 ms a character) to talk over at a known point."""
    return FakeTts(seconds_per_char=0.01)


def assert_heard_matches_audio(heard: str, text: str, heard_s: float, spoken_s: float) -> None:
    """The words the call says were heard are a strict prefix of ``text``, in proportion to the audio
    the caller's phone actually played (within a word)."""
    words, said = text.split(), heard.split()
    assert said == words[: len(said)] and len(said) < len(words)
    assert abs(len(said) - len(words) * heard_s / spoken_s) <= 1.0, (heard, heard_s, spoken_s)


async def test_talking_over_a_reply_stops_it_and_only_the_heard_words_stay_in_history(tmp_path: Path) -> None:
    llm = ScriptedLlm([REPLY, "Stopped."])
    async with running_call(tmp_path, stt=ScriptedStt(["spell", "stop"]), llm=llm, tts=slow_voice()) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.2, since=started)
        await call.say()
        clear = await call.output.wait_for(Clear)
        heard_s = call.output.heard_seconds(started, until=call.output.sent_at(clear))
        await call.turn_over(2)
        await call.output.until_quiet()
        assert clear.turn == 1 and clear.heard
        assert_heard_matches_audio(clear.heard, REPLY, heard_s, call.fakes.tts.seconds(REPLY))
        assert heard_s < 0.3  # playback stopped at the barge-in (with the send-ahead lead at most)
        told = {"role": "assistant", "content": clear.heard}
        assert llm.requests[1][-2:] == [told, {"role": "user", "content": "stop"}]
        assert any(p[-1] == told for p in llm.prefills)  # the cache was refilled with the corrected history
        record = await call.end()
    assert [(e["turn"], e["heard"]) for e in record if e["kind"] == "interrupted"] == [(1, clear.heard)]


async def test_talking_over_a_reply_still_being_written_cancels_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply("Sure thing. Let me look that up.", hang_after=3)])  # stuck after "Sure thing."
    async with running_call(tmp_path, stt=ScriptedStt(["hours", "stop"]), llm=llm, tts=slow_voice(),
                            engine_timeout_s=2.0) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.06, since=started)
        await call.speak()
        clear = await call.output.wait_for(Clear)
        metrics = await call.turn_over(1)
        assert clear.turn == 1 and "Sure thing.".startswith(clear.heard)
        assert (metrics.outcome, metrics.interrupted) == ("interrupted", True)
        assert llm.cancelled == 1 and llm.open_streams == 0
        assert call.output.said(turn=1) == ["Sure thing."]  # nothing more was synthesised
        told = [{"role": "assistant", "content": clear.heard}] if clear.heard else []
        assert call.call.history.transcript()[1:] == [{"role": "user", "content": "hours"}, *told]


async def test_talking_over_the_greeting_keeps_only_its_heard_part(tmp_path: Path) -> None:
    greeting = "Hello and welcome to the test line where nothing is real."
    chatty = Persona(name="chatty", description="", system=PERSONA.system, greeting=greeting,
                     fillers=PERSONA.fillers, apology=PERSONA.apology)
    llm = ScriptedLlm(["Yes?"])
    async with running_call(tmp_path, stt=ScriptedStt(["hey"]), llm=llm, persona=chatty,
                            tts=slow_voice(), wait_greeting=False) as call:
        await call.output.until_heard(0.2)
        heard_s = call.output.heard_seconds()
        await call.say()
        clear = await call.output.wait_for(Clear)
        await call.turn_over(1)
        assert clear.turn == 0
        assert_heard_matches_audio(clear.heard, greeting, heard_s, call.fakes.tts.seconds(greeting))
        assert call.call.history.transcript()[0] == {"role": "assistant", "content": clear.heard}


async def test_speech_shorter_than_barge_in_ms_does_not_stop_the_agent(tmp_path: Path) -> None:
    llm = ScriptedLlm([REPLY])
    async with running_call(tmp_path, stt=ScriptedStt(["spell"]), llm=llm, tts=slow_voice(), barge_in_ms=250) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.1, since=started)
        await call.say(0.1)  # a cough: long enough to be a turn (min_speech_ms), too short to barge in
        empty = await call.turn_over(2)
        await call.output.until_quiet()
        assert empty.outcome == "empty"
        assert call.output.of_type(Clear) == []
        assert abs(call.output.heard_seconds(started) - call.fakes.tts.seconds(REPLY)) < 0.03


async def test_speaking_after_the_reply_was_heard_to_the_end_interrupts_nothing(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Done.", "Again."])
    async with running_call(tmp_path, stt=ScriptedStt(["one", "two"]), llm=llm) as call:
        await call.exchange(1)
        await call.exchange(2)
        assert call.output.of_type(Clear) == []
        assert [m.outcome for m in call.output.of_type(TurnMetrics)] == ["answered", "answered"]
        assert llm.requests[1][-3:] == [{"role": "user", "content": "one"}, {"role": "assistant", "content": "Done."},
                                        {"role": "user", "content": "two"}]
