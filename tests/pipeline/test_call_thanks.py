"""A caller who only thanks is told "you're welcome" and one who thanks and says goodbye is said goodbye
to and the call ends, without the model; a waiting action is dropped, not asked for again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.personas import Persona, load_persona
from voiceagent.pipeline.action_turn import GOODBYE
from voiceagent.stages.thanks import WELCOME

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
BOOK = '<tool_call>{"name": "book_appointment", "arguments": {}}</tool_call>'


def garage() -> Persona:
    return load_persona(GARAGE)


async def test_thanks_gets_you_are_welcome_without_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Brait and for your help."])  # a small model said a garbled thanks back
    async with running_call(tmp_path, stt=ScriptedStt(["Brait and for your help."]), llm=llm,
                            persona=garage()) as call:
        await call.exchange(1)
        said = " ".join(call.output.said("reply", turn=1))
        assert not call.task.done()  # the caller may have more to ask
    assert said == WELCOME
    assert llm.requests == []


async def test_thanks_and_goodbye_ends_the_call_without_the_model(tmp_path: Path) -> None:
    llm = ScriptedLlm(["You're welcome! If you have any other questions, feel free to ask."])
    async with running_call(tmp_path, stt=ScriptedStt(["Lovely, that's all I needed. Cheers, bye!"]), llm=llm,
                            persona=garage()) as call:
        await call.say()
        await asyncio.wait_for(asyncio.shield(call.task), 3.0)
        assert call.call.end_reason == "agent_ended"
        assert " ".join(call.output.said(turn=1)) == GOODBYE
    assert llm.requests == []


async def test_a_thank_you_drops_a_waiting_action_instead_of_asking_again(tmp_path: Path) -> None:
    llm = ScriptedLlm([BOOK])
    stt = ScriptedStt(["I'd like to book an oil change.", "That's all, thank you very much."])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage()) as call:
        await call.exchange(1)
        assert call.call.ctx.desk.pending == "book_appointment"
        await call.say()
        await asyncio.wait_for(asyncio.shield(call.task), 3.0)
        said = " ".join(call.output.said(turn=2))
    assert said == GOODBYE and "didn't catch" not in said
    assert llm.requests == []  # (the booking was asked for outright: the desk took it without the model)


async def test_with_thanks_answers_off_the_model_answers_thanks(tmp_path: Path) -> None:
    llm = ScriptedLlm(["You're welcome!"])
    async with running_call(tmp_path, stt=ScriptedStt(["Great, thanks for your help."]), llm=llm,
                            persona=garage(), thanks_answers=False) as call:
        await call.exchange(1)
    assert len(llm.requests) == 1
