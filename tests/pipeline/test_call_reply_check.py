"""Grounding and the reply check in a call on fake engines: the model sees the facts that match the
question; a reply that contradicts the persona's facts is stopped and the facts are said instead."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.events import TurnMetrics
from voiceagent.personas import Persona, load_persona

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"


def garage() -> Persona:
    return load_persona(GARAGE)


async def test_the_model_sees_the_matching_facts_beside_the_question_this_turn_only(tmp_path: Path) -> None:
    llm = ScriptedLlm(["It is 45 dollars.", "Sure."])
    stt = ScriptedStt(["How much is an oil change?", "Okay."])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage(), fact_answers=False) as call:
        await call.exchange(1)
        await call.exchange(2)
    first, second = llm.requests[0][-1]["content"], llm.requests[1]
    assert first.startswith("How much is an oil change?\n(Facts: ") and "45 dollars" in first
    assert second[-3]["content"] == "How much is an oil change?"  # earlier turns: the question alone


async def test_without_grounding_the_model_gets_the_question_alone(tmp_path: Path) -> None:
    llm = ScriptedLlm(["It is 45 dollars."])
    async with running_call(tmp_path, stt=ScriptedStt(["How much is an oil change?"]), llm=llm,
                            persona=garage(), grounding=False, fact_answers=False) as call:
        await call.exchange(1)
    assert llm.requests[0][-1]["content"] == "How much is an oil change?"


async def test_a_reply_opening_a_closed_day_is_replaced_by_the_facts(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Sure, Sunday works for us. See you then, and bring the keys."], token_s=0.01)
    async with running_call(tmp_path, stt=ScriptedStt(["Is Sunday any good for a look at my car?"]), llm=llm,
                            persona=garage()) as call:
        await call.exchange(1)
        said = " ".join(call.output.said(turn=1))
        record = await call.end()
    assert "works" not in said and "closed" in said.lower()
    checks = [e for e in record if e["kind"] == "reply_check"]
    assert [c["problem"] for c in checks] == ["closed_day"]
    assert llm.cancelled  # the model was stopped at the bad clause
    assert call.call.history.transcript()[-1]["content"] == said  # the history keeps what was said


async def test_an_invented_price_with_no_matching_fact_becomes_the_dont_know_line(tmp_path: Path) -> None:
    persona = garage()
    llm = ScriptedLlm(["Parking costs 9 dollars an hour."])
    async with running_call(tmp_path, stt=ScriptedStt(["Is there parking near you?"]), llm=llm,
                            persona=persona) as call:
        await call.exchange(1)
        said = ("I'm sorry, I don't have that information. This is Oak Street Garage, a car repair garage. "
                "I can take a message and have someone call you back.")  # the dont_know line, saying who we are
        sentences = ["I'm sorry, I don't have that information.", "This is Oak Street Garage, a car repair garage.",
                     "I can take a message and have someone call you back."]
        assert call.output.said(turn=1) == sentences
        assert " ".join(call.output.said(turn=1)) == said  # sentence by sentence: the first is heard sooner


async def test_with_the_check_off_the_model_is_spoken_as_it_wrote(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Parking costs 9 dollars an hour."])
    async with running_call(tmp_path, stt=ScriptedStt(["Is there parking near you?"]), llm=llm,
                            persona=garage(), reply_check=False, unknown_answers=False) as call:
        metrics = await call.exchange(1)
        assert call.output.said(turn=1) == ["Parking costs 9 dollars an hour."]
    assert isinstance(metrics, TurnMetrics) and metrics.outcome == "answered"


async def test_a_worked_example_copied_to_another_question_is_not_spoken(tmp_path: Path) -> None:
    persona = garage()
    copied = persona.examples[1].agent  # the model answers a message request with an example reply
    llm = ScriptedLlm([copied])
    async with running_call(tmp_path, stt=ScriptedStt(["Could you let the mechanic know I called?"]), llm=llm,
                            persona=persona) as call:
        await call.exchange(1)
        assert copied not in " ".join(call.output.said(turn=1))
        record = await call.end()
    assert [c["problem"] for c in record if c["kind"] == "reply_check"] == ["repeat"]


async def test_the_fallback_does_not_say_again_what_was_already_said(tmp_path: Path) -> None:
    persona = garage()
    llm = ScriptedLlm(["I'm sorry, parking is 9 dollars."], token_s=0.01)
    async with running_call(tmp_path, stt=ScriptedStt(["Is there parking near you?"]), llm=llm,
                            persona=persona) as call:
        await call.exchange(1)
        said = " ".join(call.output.said(turn=1))
    assert said.lower().count("i'm sorry") == 1, said


async def test_a_model_that_writes_nothing_leaves_no_silence_the_facts_are_said(tmp_path: Path) -> None:
    """An empty reply (the model ended at once, or wrote only what cannot be spoken) is never a silent
    turn: the fallback is said, with the check's figures, and the record says why."""
    for check in (True, False):
        llm = ScriptedLlm(["  "])
        async with running_call(tmp_path / str(check), stt=ScriptedStt(["How much is an oil change?"]), llm=llm,
                                persona=garage(), reply_check=check, fact_answers=False) as call:
            await call.exchange(1)
            said = " ".join(call.output.said(turn=1))
            record = await call.end()
        assert "45" in said, (check, said)
        assert [(c["problem"], c["clause"]) for c in record if c["kind"] == "reply_check"] == [("empty", "")]
        assert call.call.history.transcript()[-1] == {"role": "assistant", "content": said}


async def test_a_fallback_after_a_spoken_sorry_does_not_apologise_twice(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Sorry, parking costs 9 dollars an hour."])  # (the model is asked: unknown_answers off)
    async with running_call(tmp_path, stt=ScriptedStt(["Is there parking near you?"]), llm=llm,
                            persona=garage(), unknown_answers=False) as call:
        await call.exchange(1)
        said = " ".join(call.output.said(turn=1))
    assert said.startswith("Sorry, I don't have that information. This is Oak Street Garage"), said
    assert said.lower().count("sorry") == 1


async def test_the_caller_is_thanked_only_by_a_name_they_gave(tmp_path: Path) -> None:
    """"Is Megan working this Saturday?" answered "Thanks, Megan. ..." (seen on the salon's line): Megan is
    no name the caller gave, so the reply is stopped. After "My name is Megan Lee." the same words pass."""
    thanks = "Thanks, Megan. On Saturday we're open 8 am to 12 noon."
    llm = ScriptedLlm([thanks, thanks], token_s=0.01)
    stt = ScriptedStt(["Is Megan working this Saturday?", "My name is Megan Lee, when do you open on Saturday?"])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage(), fact_answers=False) as call:
        await call.exchange(1)
        await call.exchange(2)
        first, second = " ".join(call.output.said(turn=1)), " ".join(call.output.said(turn=2))
        record = await call.end()
    assert "Megan" not in first and "8 am" in first  # the facts for Saturday instead
    assert second == thanks
    assert [e["problem"] for e in record if e["kind"] == "reply_check"] == ["unknown_name"]
