"""A call's ordinary turns on fake engines: greeting, one answered turn, what the model is asked on each
turn (history window, prefill), the sentence cap, sequential mode, empty turns, and the call record."""

from __future__ import annotations

import time
from pathlib import Path

from tests.fakes.call import PERSONA, running_call
from tests.fakes.engines import ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.events import AgentText, SpeechStarted, Transcript, TurnMetrics
from voiceagent.personas import Persona, load_persona


async def test_greeting_is_spoken_first_and_kept_in_the_history_but_not_sent_to_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Fine."])
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=llm) as call:
        assert call.output.said() == [PERSONA.greeting]
        assert call.output.of_type(AgentText)[0].turn == 0
        expected = call.fakes.tts.seconds(PERSONA.greeting)
        assert abs(call.output.heard_seconds() - expected) < 0.02  # the whole greeting, nothing more
        await call.say()
        await call.output.wait_for(TurnMetrics)
    assert call.call.history.transcript()[0] == {"role": "assistant", "content": PERSONA.greeting}
    assert llm.requests[0] == [{"role": "system", "content": PERSONA.system}, {"role": "user", "content": "hi"}]


async def test_a_persona_without_greeting_stays_silent_until_the_caller_speaks(tmp_path: Path) -> None:
    quiet = Persona(name="quiet", description="", system="Be brief.", greeting="", fillers=("Hm.",),
                    apology="Sorry.")
    async with running_call(tmp_path, persona=quiet) as call:
        await call.pause(0.1)
        await call.output.until_quiet()
        assert call.output.events == [] and call.output.audio_bytes == 0


async def test_an_answered_turn_sends_its_events_in_order_and_speaks_every_clause(tmp_path: Path) -> None:
    llm = ScriptedLlm(["It is noon. Anything else?"])
    async with running_call(tmp_path, stt=ScriptedStt(["what time is it"]), llm=llm) as call:
        since = time.monotonic()
        await call.say()
        metrics = await call.output.wait_for(TurnMetrics)
        await call.output.until_quiet()
        turn_events = [e for at, e in call.output.events if at > since]
        assert [e.type for e in turn_events] == ["speech_started", "transcript", "agent_text", "agent_text",
                                                 "turn_metrics"]
        assert call.output.of_type(SpeechStarted) == [SpeechStarted(turn=1)]
        assert call.output.of_type(Transcript) == [Transcript(turn=1, text="what time is it")]
        assert call.output.said(turn=1) == ["It is noon.", "Anything else?"]
        assert call.fakes.tts.texts == ["It is noon.", "Anything else?"]
        spoken = sum(call.fakes.tts.seconds(t) for t in ("It is noon.", "Anything else?"))
        assert abs(call.output.heard_seconds(since) - spoken) < 0.03
        assert (metrics.turn, metrics.outcome, metrics.filler, metrics.interrupted) == (1, "answered", False, False)
        assert metrics.turn_ms is not None and metrics.turn_ms == metrics.reply_ms
    assert call.call.history.transcript()[1:] == [
        {"role": "user", "content": "what time is it"},
        {"role": "assistant", "content": "It is noon. Anything else?"},
    ]


async def test_the_model_is_prefilled_with_the_conversation_after_each_reply(tmp_path: Path) -> None:
    llm = ScriptedLlm(["One.", "Two."])
    async with running_call(tmp_path, stt=ScriptedStt(["first", "second"]), llm=llm) as call:
        for turn in (1, 2):
            await call.exchange(turn)
    system = {"role": "system", "content": PERSONA.system}
    after_first = [system, {"role": "user", "content": "first"}, {"role": "assistant", "content": "One."}]
    assert llm.prefills[0] == after_first
    assert llm.requests[1] == [*after_first, {"role": "user", "content": "second"}]  # the prefill is its prefix


async def test_the_model_sees_at_most_history_turns_exchanges_and_the_new_words(tmp_path: Path) -> None:
    """Past ``history_turns`` exchanges the older half is dropped at once (the cached prefix then holds
    for several turns)."""
    llm = ScriptedLlm(["A1.", "A2.", "A3.", "A4."])
    stt = ScriptedStt(["u1", "u2", "u3", "u4"])
    async with running_call(tmp_path, stt=stt, llm=llm, history_turns=2) as call:
        for turn in range(1, 5):
            await call.exchange(turn)

    def exchange(n: int) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"u{n}"}, {"role": "assistant", "content": f"A{n}."}]

    system = [{"role": "system", "content": PERSONA.system}]
    assert llm.requests[2] == [*system, *exchange(1), *exchange(2), {"role": "user", "content": "u3"}]
    assert llm.requests[3] == [*system, *exchange(3), {"role": "user", "content": "u4"}]
    assert llm.prefills[3] == [*system, *exchange(3), *exchange(4)]
    assert len(call.call.history.transcript()) == 1 + 8  # the record keeps everything said


async def test_a_rambling_reply_is_cut_at_the_sentence_cap_and_the_model_is_stopped(tmp_path: Path) -> None:
    llm = ScriptedLlm(["One. Two. Three. Four. Five."], token_s=0.005)
    async with running_call(tmp_path, stt=ScriptedStt(["count"]), llm=llm, max_reply_sentences=2) as call:
        await call.say()
        await call.output.wait_for(TurnMetrics)
        await call.output.until_quiet()
        assert call.output.said(turn=1) == ["One.", "Two."]
        assert llm.cancelled == 1 and llm.tokens_sent < 5 and llm.open_streams == 0
    assert call.call.history.transcript()[-1] == {"role": "assistant", "content": "One. Two."}


async def test_without_overlap_the_whole_capped_reply_is_spoken_as_one_clause(tmp_path: Path) -> None:
    llm = ScriptedLlm(["It is noon. Anything else? Bye."])
    async with running_call(tmp_path, stt=ScriptedStt(["time"]), llm=llm, overlap=False) as call:
        await call.say()
        metrics = await call.output.wait_for(TurnMetrics)
        assert call.output.said(turn=1) == ["It is noon. Anything else?"]
        assert call.fakes.tts.texts == ["It is noon. Anything else?"]
        assert metrics.outcome == "answered"


async def test_an_empty_transcript_ends_the_turn_without_asking_the_model_and_asks_the_caller_again(
    tmp_path: Path,
) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["  "]), ask_again_after_s=0.2) as call:
        await call.say()
        metrics = await call.output.wait_for(TurnMetrics)
        await call.output.until_quiet()
        assert metrics.outcome == "empty" and metrics.turn_ms is not None and metrics.turn_ms >= 200
        assert call.fakes.llm.requests == [] and call.output.of_type(Transcript) == []
        assert call.output.said(turn=1) == [PERSONA.not_heard]
        assert call.output.said(kind="reprompt") == [PERSONA.not_heard]


async def test_nothing_heard_is_asked_again_twice_in_a_row_at_most(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["", "", "", "", "hi", ""]), ask_again_after_s=0.2) as call:
        for turn in (1, 2, 3, 4, 5, 6):
            await call.say(silence=0.4)
            await call.turn_over(turn)
            await call.output.until_quiet()
    asked = [PERSONA.not_heard]
    assert [call.output.said(kind="reprompt", turn=t) for t in range(1, 7)] == [asked, asked, [], asked, [], asked]


async def test_a_caller_who_goes_on_after_nothing_was_heard_is_not_asked_again(tmp_path: Path) -> None:
    """The short sound that was heard as nothing is carried into the caller's next words instead."""
    async with running_call(tmp_path, stt=ScriptedStt(["", "yes please"]), ask_again_after_s=0.5) as call:
        await call.say()
        await call.say()  # within the wait
        continued, answered = await call.turn_over(1), await call.turn_over(2)
        await call.output.until_quiet()
    assert (continued.outcome, answered.outcome) == ("continued", "answered")
    assert call.output.said(kind="reprompt") == []
    assert call.output.of_type(Transcript)[-1].revises == 1


async def test_with_ask_again_off_nothing_heard_stays_silent(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["  "]), ask_again_after_s=0) as call:
        await call.say()
        metrics = await call.output.wait_for(TurnMetrics)
        await call.output.until_quiet()
    assert metrics.outcome == "empty" and metrics.turn_ms is None and call.output.said(turn=1) == []


async def test_the_call_record_holds_start_turns_and_end_with_the_history(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Hello you."])
    options = {"transport": "test", "details": {"remote": "1.2.3.4"}}
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=llm, call_options=options,
                            sample_rate=8000) as call:
        await call.say()
        await call.output.wait_for(TurnMetrics)
        record = await call.end("caller_left")
    assert [e["kind"] for e in record] == ["start", "transcript", "reply", "turn_metrics", "end"]
    start = record[0]
    assert (start["call_id"], start["persona"], start["sample_rate"], start["transport"], start["remote"]) == (
        "fake-call", PERSONA.name, 8000, "test", "1.2.3.4")
    assert start["models"] == {"vad": "fake_vad", "stt": "scripted_stt", "llm": "scripted_llm", "tts": "fake_tts"}
    assert (record[1]["turn"], record[1]["text"], record[2]["text"]) == (1, "hi", "Hello you.")
    assert record[3]["outcome"] == "answered" and record[3]["turn_ms"] is not None
    assert record[4]["reason"] == "caller_left" and call.call.end_reason == "caller_left"
    assert record[4]["history"] == call.call.history.transcript()
    assert [m["role"] for m in record[4]["history"]] == ["assistant", "user", "assistant"]


async def test_a_client_prompt_replaces_the_personas_system_prompt(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Ahoy."])
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=llm,
                            call_options={"system_prompt": "Talk like a pirate."}) as call:
        await call.exchange(1)
    assert llm.requests[0][0] == {"role": "system", "content": "Talk like a pirate."}


async def test_the_recogniser_reads_the_personas_words_before_every_turn(tmp_path: Path) -> None:
    garage = load_persona(Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml")
    stt = ScriptedStt(["how much is an oil change"])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm(["45 dollars."]), persona=garage) as call:
        await call.exchange(1)
    assert stt.prompts and all(p == stt.prompts[0] for p in stt.prompts)
    assert garage.greeting in stt.prompts[0] and "oil change" in stt.prompts[0] and "Saturday" in stt.prompts[0]


async def test_without_vocabulary_or_facts_the_recogniser_gets_no_prompt(tmp_path: Path) -> None:
    garage = load_persona(Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml")
    for persona, options in ((garage, {"stt_vocabulary": False}), (PERSONA, {})):
        stt = ScriptedStt(["hello"])
        async with running_call(tmp_path, stt=stt, llm=ScriptedLlm(["Hi."]), persona=persona, **options) as call:
            await call.exchange(1)
        assert stt.prompts and set(stt.prompts) == {""}
