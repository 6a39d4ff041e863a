"""Engine faults on fake engines: a failed or hung engine gives an ``error`` event and a spoken apology,
never silence, and the call goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.call import PERSONA, CallHarness, running_call
from tests.fakes.engines import HANG, FakeTts, ScriptedStt
from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.engines.llm import EngineError
from voiceagent.events import Error, TurnMetrics

TIMEOUT_S = 0.3  # fast_settings' engine_timeout_s


async def assert_apologised(call: CallHarness, turn: int, code: str) -> TurnMetrics:
    """The turn ended in an apology: the error event with ``code``, then the apology spoken."""
    metrics = await call.turn_over(turn)
    await call.output.until_quiet()
    assert [e.code for e in call.output.of_type(Error)] == [code]
    assert call.output.said(turn=turn)[-1] == PERSONA.apology
    assert call.output.said(kind="apology") == [PERSONA.apology]
    assert metrics.outcome == "apology"
    return metrics


async def test_a_failing_model_gets_an_apology_and_the_next_turn_is_answered(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply(fail_after=0), "Working again."])
    async with running_call(tmp_path, stt=ScriptedStt(["one", "two"]), llm=llm) as call:
        await call.say()
        metrics = await assert_apologised(call, 1, "engine_error")
        assert metrics.filler is False
        second = await call.exchange(2)
        assert second.outcome == "answered" and call.output.said(turn=2) == ["Working again."]
        record = await call.end()
    assert [e["code"] for e in record if e["kind"] == "error"] == ["engine_error"]


async def test_a_hung_model_gets_a_filler_then_an_apology_at_the_engine_timeout(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply(hang_after=0)])  # (no grace: the filler plays at the deadline, long before the timeout)
    async with running_call(tmp_path, stt=ScriptedStt(["hello?"]), llm=llm, filler_grace_ms=0) as call:
        await call.say()
        metrics = await assert_apologised(call, 1, "engine_timeout")
        assert metrics.filler is True and call.output.said(turn=1)[0] in PERSONA.fillers
        error = call.output.of_type(Error)[0]
        transcript_at = call.output.events[[e.type for _, e in call.output.events].index("transcript")][0]
        assert call.output.sent_at(error) - transcript_at >= TIMEOUT_S - 0.01
        assert llm.cancelled == 1 and llm.open_streams == 0


async def test_a_model_failing_mid_reply_apologises_after_what_was_said(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply("Sure thing. Let me check that for you.", fail_after=4)])
    async with running_call(tmp_path, stt=ScriptedStt(["check"]), llm=llm) as call:
        await call.say()
        await assert_apologised(call, 1, "engine_error")
        assert call.output.said(turn=1) == ["Sure thing.", PERSONA.apology]


async def test_a_failing_recogniser_gets_an_apology_and_the_model_is_not_asked(tmp_path: Path) -> None:
    stt = ScriptedStt([RuntimeError("decoder exploded"), "fine now"])
    async with running_call(tmp_path, stt=stt) as call:
        await call.say()
        await assert_apologised(call, 1, "stt_failed")
        assert call.fakes.llm.requests == []
        assert (await call.exchange(2)).outcome == "answered"


async def test_a_hung_recogniser_gets_an_apology_at_the_engine_timeout(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt([HANG])) as call:
        await call.say()
        metrics = await assert_apologised(call, 1, "stt_failed")
        assert metrics.filler is True and "TimeoutError" in call.output.of_type(Error)[0].message
        assert call.fakes.stt.cancelled == 1


@pytest.mark.parametrize(("fault", "code"), [(EngineError("voice gone"), "engine_error"), (HANG, "engine_timeout")])
async def test_a_failing_or_hung_voice_gets_an_apology(tmp_path: Path, fault: Exception, code: str) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=ScriptedLlm(["Hello."]),
                            tts=FakeTts(fault=fault)) as call:
        await call.say()
        await assert_apologised(call, 1, code)


async def test_a_voice_raising_its_own_exception_gets_an_apology(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=ScriptedLlm(["Hello."]),
                            tts=FakeTts(fault=RuntimeError("onnxruntime: bad input"))) as call:
        await call.say()
        await assert_apologised(call, 1, "engine_error")


async def test_an_apology_turn_measures_when_the_apology_was_heard(tmp_path: Path) -> None:
    llm = ScriptedLlm([Reply(fail_after=0)])
    async with running_call(tmp_path, stt=ScriptedStt(["one"]), llm=llm) as call:
        await call.say()
        metrics = await assert_apologised(call, 1, "engine_error")
        assert metrics.turn_ms is not None and metrics.turn_ms < 100
