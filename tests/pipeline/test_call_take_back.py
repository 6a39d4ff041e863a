"""Taking a reply back on fake engines: a caller who paused mid-sentence, was answered, and went on within
``continue_window_ms`` of the reply's first audio was not finished. The reply stops, counts as unheard and
the two parts are answered as one turn; later than that, talking over the agent is an ordinary barge-in,
and a reply that carried out an action is never taken back."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import FakeTts, ScriptedStt, seconds_of
from tests.fakes.llm import ScriptedLlm
from tests.pipeline.test_call_actions import BOOK, garage, store_and_runner
from voiceagent.audio.pcm import FloatAudio
from voiceagent.events import Clear, Transcript, TurnMetrics

REPLY = "Alpha bravo charlie delta echo foxtrot golf."  # 0.45 s of slow speech
SHORT, LONG = "Can I bring my car in", "Can I bring my car in on Sunday"


def by_length(audio: FloatAudio) -> str:
    """The caller's words: the first part alone, or both parts."""
    return SHORT if seconds_of(audio) < 0.5 else LONG


def slow_voice() -> FakeTts:
    return FakeTts(seconds_per_char=0.01)


async def test_going_on_just_after_the_reply_began_takes_it_back_and_answers_the_whole_sentence(
    tmp_path: Path,
) -> None:
    llm = ScriptedLlm([REPLY, "No, we are closed on Sunday."])
    async with running_call(tmp_path, stt=ScriptedStt(by_length), llm=llm, tts=slow_voice(),
                            continue_window_ms=300) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.05, since=started)
        await call.say()  # the rest of the sentence, at once
        clear = await call.output.wait_for(Clear)
        heard_s = call.output.heard_seconds(started, until=call.output.sent_at(clear))
        answered = await call.turn_over(2)
        await call.output.until_quiet()
        record = await call.end()
    assert clear == Clear(turn=1, heard="")
    assert heard_s < call.fakes.tts.seconds(REPLY) / 2  # its audio stopped
    assert call.output.of_type(Transcript) == [Transcript(turn=1, text=SHORT), Transcript(turn=2, text=LONG, revises=1)]
    assert seconds_of(call.fakes.stt.calls[-1]) >= 0.6  # both parts, transcribed together
    assert llm.requests[1][1:] == [{"role": "user", "content": LONG}]  # the early reply and its question are gone
    assert answered.outcome == "answered"
    assert call.call.history.transcript()[1:] == [{"role": "user", "content": LONG},
                                                  {"role": "assistant", "content": "No, we are closed on Sunday."}]
    taken = [(e["turn"], e["heard"], e.get("taken_back")) for e in record if e["kind"] == "interrupted"]
    assert taken == [(1, "", True)]


async def test_talking_over_a_reply_after_the_window_is_a_barge_in(tmp_path: Path) -> None:
    llm = ScriptedLlm([REPLY, "Stopped."])
    async with running_call(tmp_path, stt=ScriptedStt(["spell", "stop"]), llm=llm, tts=slow_voice(),
                            continue_window_ms=100) as call:
        await call.say()
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.2, since=started)
        await call.say()
        clear = await call.output.wait_for(Clear)
        await call.turn_over(2)
        await call.output.until_quiet()
    assert clear.turn == 1 and clear.heard and REPLY.startswith(clear.heard)
    assert [t.revises for t in call.output.of_type(Transcript)] == [None, None]
    assert llm.requests[1][-2:] == [{"role": "assistant", "content": clear.heard}, {"role": "user", "content": "stop"}]


async def test_a_reply_that_carried_out_an_action_is_never_taken_back(tmp_path: Path) -> None:
    store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I'd like to book an oil change.", "John Smith, Tuesday at 10 am.", "Thanks."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK, "You're welcome."]), persona=garage(),
                            call_options=options, tts=slow_voice(), continue_window_ms=2000) as call:
        await call.exchange(1)
        await call.say()
        started = await call.agent_speaks(2)
        await call.output.until_heard(0.05, since=started)
        await call.say()  # at once: inside the window, but the booking was made
        clear = await call.output.wait_for(Clear)
        await call.turn_over(3)
        metrics = [m for m in call.output.of_type(TurnMetrics) if m.turn == 2]
        await call.end()
    assert clear.turn == 2 and clear.heard  # an ordinary barge-in: what was heard stays
    assert [m.outcome for m in metrics] == ["answered"]
    assert [t.revises for t in call.output.of_type(Transcript)] == [None, None, None]
    assert len(store.appointments("garage")) == 1
