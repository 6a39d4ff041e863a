"""A question the persona's facts answer whole is answered from them in a call, without the model; a
request for an action, or anything the facts do not answer, still goes to the model."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.personas import Persona, load_persona
from voiceagent.stages.reply_check import fallback_reply

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"


def garage() -> Persona:
    return load_persona(GARAGE)


async def test_a_question_the_facts_answer_is_answered_without_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm(["You're welcome!"])  # what a 0.5B model once said to a question about Sunday
    stt = ScriptedStt(["Are you open on Sunday?", "How much is an oil change?"])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage()) as call:
        await call.exchange(1)
        await call.exchange(2)
        said = [" ".join(call.output.said("reply", turn=t)) for t in (1, 2)]
        history = call.call.history.transcript()
    assert said == [("Sorry, we're closed on Sunday. We're open Monday to Friday 7:30 am to 5:30 pm, "
                    "Saturday 8 am to 12 noon."), "An oil change is 45 dollars and takes about 30 minutes."]
    assert llm.requests == []
    assert [m["content"] for m in history if m["role"] == "assistant"][1:] == said  # after the greeting


async def test_a_long_composed_answer_is_heard_from_its_first_clause(tmp_path: Path) -> None:
    """The first clause is synthesised and queued alone, so the caller hears it while the rest is made."""
    stt = ScriptedStt(["What are your opening hours during the week?"])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([]), persona=garage()) as call:
        await call.exchange(1)
        pieces = call.output.said("reply", turn=1)
    assert pieces[0] == "We're open Monday to Friday 7:30 am to 5:30 pm,"
    assert " ".join(pieces) == "We're open Monday to Friday 7:30 am to 5:30 pm, Saturday 8 am to 12 noon; closed on Sunday."


async def test_a_question_about_a_thing_no_fact_mentions_gets_the_dont_know_line_without_the_model(
    tmp_path: Path,
) -> None:
    """A small model says the line in its own words at best; at worst a yes, a no or another price."""
    persona = garage()
    llm = ScriptedLlm(["Yes, we do."])
    stt = ScriptedStt(["Is there a waiting room with Wi-Fi?"])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=persona) as call:
        await call.exchange(1)
        said = " ".join(call.output.said("reply", turn=1))
    assert said == fallback_reply((), persona.dont_know, persona.business) and "Oak Street Garage" in said
    assert llm.requests == []


async def test_a_question_about_an_unknown_thing_with_a_known_detail_gets_the_dont_know_line(tmp_path: Path) -> None:
    """Not the fact the detail matches: "Do you do dog grooming? My poodle needs a trim." was answered
    with a men's haircut's price."""
    persona = garage()
    llm = ScriptedLlm(["An oil change is 45 dollars."])
    stt = ScriptedStt(["Do you do jet skis? My outboard needs an oil change."])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=persona) as call:
        await call.exchange(1)
        said = " ".join(call.output.said("reply", turn=1))
    assert said == fallback_reply((), persona.dont_know, persona.business) and "oil" not in said
    assert llm.requests == []


async def test_a_time_the_business_never_opens_at_is_answered_with_what_to_do_when_it_is_closed(
    tmp_path: Path,
) -> None:
    """The call reads the time the caller names: at 11 at night no day is open, so the vet's rule for when
    it is closed is put beside the question, not the rule that matched "night" ("no food after 10 pm the
    night before"). "Can I bring him in" may ask for a booking, so the model hears it, with that rule."""
    persona = load_persona(GARAGE.with_name("vet.toml"))
    llm = ScriptedLlm(["When we are closed, call Northgate Animal Emergency Hospital on 555 0173."])
    stt = ScriptedStt(["It's 11 at night and my dog's eaten chocolate. Can I bring him in now?"])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=persona) as call:
        await call.exchange(1)
    [request] = llm.requests
    question = request[-1]["content"]
    assert "when we are closed, call Northgate Animal Emergency Hospital" in question
    assert "dental" not in question


async def test_with_unknown_answers_off_the_model_answers_a_question_no_fact_mentions(tmp_path: Path) -> None:
    llm = ScriptedLlm(["I'm sorry, I don't know."])
    async with running_call(tmp_path, stt=ScriptedStt(["Is there a waiting room with Wi-Fi?"]), llm=llm,
                            persona=garage(), unknown_answers=False) as call:
        await call.exchange(1)
    assert len(llm.requests) == 1


async def test_requests_and_questions_no_fact_answers_go_to_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm(["I'm well, thanks. How can I help?", "Of course."])
    stt = ScriptedStt(["How are you today?", "Could you tell the mechanic I'm coming on Saturday?"])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage()) as call:
        await call.exchange(1)
        await call.exchange(2)
    assert len(llm.requests) == 2  # a message for the mechanic: Saturday's hours are no answer to it


async def test_with_fact_answers_off_the_model_answers_every_question(tmp_path: Path) -> None:
    llm = ScriptedLlm(["We're closed on Sundays."])
    async with running_call(tmp_path, stt=ScriptedStt(["Are you open on Sunday?"]), llm=llm, persona=garage(),
                            fact_answers=False) as call:
        await call.exchange(1)
    assert len(llm.requests) == 1
