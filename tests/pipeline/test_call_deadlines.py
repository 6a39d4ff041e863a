"""Turn deadlines on fake engines: a filler plays when no reply is out by the turn budget, and every stage
past its budget is reported in ``turn_metrics`` (and the call record)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.fakes.call import FAST_BUDGETS, PERSONA, running_call
from tests.fakes.engines import FakeTts, ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.events import AgentText

TURN_S = FAST_BUDGETS.turn_ms / 1000


async def test_a_filler_plays_at_the_turn_deadline_when_the_reply_is_late(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Here it is."], first_token_s=TURN_S + 0.1)
    async with running_call(tmp_path, stt=ScriptedStt(["slow one"]), llm=llm, filler_grace_ms=0) as call:
        await call.say()
        metrics = await call.turn_over(1)
        await call.output.until_quiet()
        texts = [e for e in call.output.of_type(AgentText) if e.turn == 1]
        assert [(e.kind, e.text) for e in texts] == [("filler", PERSONA.fillers[0]), ("reply", "Here it is.")]
        assert metrics.filler is True and metrics.outcome == "answered"
        assert metrics.turn_ms is not None and metrics.reply_ms is not None
        assert FAST_BUDGETS.turn_ms <= metrics.turn_ms < metrics.reply_ms  # the filler, at the deadline
        assert metrics.reply_ms >= (TURN_S + 0.1) * 1000  # the reply, when the model answered
        assert "llm_first_token" in {e.stage for e in metrics.budget_events}
    # The filler is not part of what the agent said to the model.
    assert call.call.history.transcript()[-1] == {"role": "assistant", "content": "Here it is."}


async def test_no_filler_when_the_reply_is_out_in_time(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["quick"]), llm=ScriptedLlm(["Sure."])) as call:
        metrics = await call.exchange(1)
        await call.pause(TURN_S)  # past the deadline: nothing more may come
        await call.output.until_quiet()
        assert metrics.filler is False and metrics.budget_events == []
        assert call.output.said(turn=1) == ["Sure."]


async def test_fillers_take_turns(tmp_path: Path) -> None:
    llm = ScriptedLlm(first_token_s=TURN_S + 0.05)
    # (not "a": a turn that sounds unfinished is held, and no filler plays into the hold)
    async with running_call(tmp_path, stt=ScriptedStt(["one", "two"]), llm=llm, filler_grace_ms=0) as call:
        await call.exchange(1)
        await call.exchange(2)
        assert call.output.said(kind="filler") == list(PERSONA.fillers)


async def test_every_stage_past_its_budget_is_reported_in_turn_metrics_and_the_record(tmp_path: Path) -> None:
    stt = ScriptedStt(["slow"], delay_s=0.12)
    llm = ScriptedLlm(["Slow reply."], first_token_s=0.12)
    async with running_call(tmp_path, stt=stt, llm=llm, tts=FakeTts(delay_s=0.12), overlap=True) as call:
        metrics = await call.exchange(1)
        record = await call.end()
    missed = {e.stage: e for e in metrics.budget_events}
    assert {"stt", "llm_first_token", "tts_first_audio"} <= set(missed)
    for stage in ("stt", "llm_first_token", "tts_first_audio"):
        assert missed[stage].actual_ms >= 120 > missed[stage].budget_ms == 100
        assert metrics.stages[f"{stage}_ms"] >= 120
    assert "endpoint" not in missed
    logged = next(e for e in record if e["kind"] == "turn_metrics")
    assert {e["stage"] for e in logged["budget_events"]} == set(missed)


async def test_a_quick_turn_has_an_ordered_timeline_and_no_budget_events(tmp_path: Path) -> None:
    async with running_call(tmp_path, stt=ScriptedStt(["hi"]), llm=ScriptedLlm(["Hi."])) as call:
        metrics = await call.exchange(1)
    order = ["speech_end", "endpoint", "stt_done", "llm_first_token", "first_clause", "tts_first_audio", "audio_out"]
    assert list(metrics.timeline) == order
    times = [metrics.timeline[k] for k in order]
    assert times == sorted(times) and times[0] == 0.0
    assert metrics.turn_ms == metrics.timeline["audio_out"] < FAST_BUDGETS.turn_ms
    assert metrics.budget_events == [] and set(metrics.stages) == {
        "endpoint_ms", "stt_ms", "llm_first_token_ms", "tts_first_audio_ms",
        "stt_queue_ms", "llm_first_token_queue_ms", "tts_first_audio_queue_ms"}
    # the fake engines have no worker thread to wait for (the split itself: tests/engines/test_worker.py)
    assert metrics.stages["stt_queue_ms"] == metrics.stages["llm_first_token_queue_ms"] == 0.0


async def test_no_filler_when_the_answer_is_already_being_synthesised_at_the_deadline(tmp_path: Path) -> None:
    """A filler then would only hold the real answer back behind it."""
    tts = FakeTts(delay_s=TURN_S + 0.05)  # the first clause is ready before the deadline; its audio after it
    async with running_call(tmp_path, stt=ScriptedStt(["quick"]), llm=ScriptedLlm(["Sure."]), tts=tts) as call:
        metrics = await call.exchange(1)
        assert call.output.said(turn=1) == ["Sure."]
        assert metrics.filler is False


SLOW_CLAUSE = "We open at nine tomorrow morning."  # one clause of six pieces: it is ready at its full stop
WIDE_BUDGETS = dataclasses.replace(FAST_BUDGETS, turn_ms=300)


async def test_no_filler_at_the_deadline_while_the_model_is_writing_the_answer(tmp_path: Path) -> None:
    """The model began before the deadline; its first clause comes after it. A filler then would hold the
    answer back by its own length: it waits ``filler_grace_ms`` more, and the answer comes first."""
    llm = ScriptedLlm([SLOW_CLAUSE], first_token_s=0.05, token_s=0.06)
    async with running_call(tmp_path, stt=ScriptedStt(["when"]), llm=llm, budgets=WIDE_BUDGETS) as call:
        metrics = await call.exchange(1)
        assert metrics.timeline["llm_first_token"] < WIDE_BUDGETS.turn_ms < metrics.timeline["first_clause"]
        assert metrics.filler is False and call.output.said(turn=1) == [SLOW_CLAUSE]


async def test_no_filler_at_the_deadline_while_the_model_reads_the_words_already_in(tmp_path: Path) -> None:
    """Recognition was done before the deadline and the model has not written a word yet: the answer is
    being worked out, so the filler waits ``filler_grace_ms`` more, and the answer comes first."""
    llm = ScriptedLlm(["Here it is."], first_token_s=TURN_S + 0.05)
    async with running_call(tmp_path, stt=ScriptedStt(["slow one"]), llm=llm, filler_grace_ms=400) as call:
        metrics = await call.exchange(1)
        assert metrics.timeline["stt_done"] < FAST_BUDGETS.turn_ms < metrics.timeline["llm_first_token"]
        assert metrics.filler is False and call.output.said(turn=1) == ["Here it is."]


async def test_a_filler_plays_at_the_deadline_when_recognition_is_late(tmp_path: Path) -> None:
    stt = ScriptedStt(["slow to hear"], delay_s=TURN_S + 0.08)  # (within the engine timeout, 0.3 s)
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm(["Here it is."]), filler_grace_ms=400) as call:
        await call.say()
        metrics = await call.turn_over(1)
        assert metrics.filler is True and metrics.turn_ms is not None
        assert FAST_BUDGETS.turn_ms <= metrics.turn_ms < FAST_BUDGETS.turn_ms + 400  # not after the grace
        assert call.output.said(turn=1) == [PERSONA.fillers[0], "Here it is."]


async def test_a_filler_still_plays_when_the_writing_model_takes_longer_than_the_grace(tmp_path: Path) -> None:
    llm = ScriptedLlm([SLOW_CLAUSE], first_token_s=0.05, token_s=0.1)
    async with running_call(tmp_path, stt=ScriptedStt(["when"]), llm=llm, budgets=WIDE_BUDGETS,
                            filler_grace_ms=100) as call:
        metrics = await call.exchange(1)
        assert metrics.filler is True and metrics.turn_ms is not None
        assert metrics.turn_ms >= WIDE_BUDGETS.turn_ms + 100  # at the deadline plus the grace
        assert call.output.said(turn=1) == [PERSONA.fillers[0], SLOW_CLAUSE]


async def test_a_reply_queued_behind_a_filler_is_timed_when_it_is_heard(tmp_path: Path) -> None:
    tts = FakeTts(seconds_per_char=0.05)  # "One moment." lasts 0.55 s: the reply waits behind it
    llm = ScriptedLlm(["Here it is."], first_token_s=TURN_S + 0.05)
    async with running_call(tmp_path, stt=ScriptedStt(["slow one"]), llm=llm, tts=tts, filler_grace_ms=0) as call:
        await call.say()
        metrics = await call.turn_over(1)
    assert metrics.filler is True and metrics.turn_ms is not None and metrics.reply_ms is not None
    assert metrics.reply_ms >= metrics.turn_ms + 0.5 * 1000 * tts.seconds(PERSONA.fillers[0])


async def test_each_answered_turn_reports_its_real_reply_time_to_the_servers_load_window(tmp_path: Path) -> None:
    heard: list[float] = []
    async with running_call(tmp_path, stt=ScriptedStt(["hi", "and you"]), llm=ScriptedLlm(["Hi.", "Fine."]),
                            call_options={"on_reply": heard.append}) as call:
        first = await call.exchange(1)
        second = await call.exchange(2)
    assert heard == [first.reply_ms, second.reply_ms] and all(ms > 0 for ms in heard)
