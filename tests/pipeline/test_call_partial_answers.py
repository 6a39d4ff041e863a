"""A turn ended early that gives part of what the action desk asked for ("It's Mike Ross," to "your name,
the day and the time") is answered at once but heard only after the longest silence, so a caller who goes
on is not cut in on; the whole of what they said answers the desk once."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import ScriptedStt, ScriptedTurnModel, seconds_of
from tests.fakes.llm import ScriptedLlm
from tests.pipeline.test_call_actions import store_and_runner
from voiceagent.audio.pcm import FloatAudio
from voiceagent.events import Transcript
from voiceagent.personas import Persona, load_persona

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
ASK = "I'd like to book an oil change."  # the desk asks for the name, the day and the time
NAME, WHOLE = "It's John Smith.", "It's John Smith, Tuesday at 10 am."


def garage() -> Persona:
    return load_persona(GARAGE)


async def test_a_name_alone_to_three_questions_is_answered_after_the_longest_silence(tmp_path: Path) -> None:
    turn = ScriptedTurnModel([0.95, 0.95])
    async with running_call(tmp_path, turn=turn, stt=ScriptedStt([ASK, NAME]), llm=ScriptedLlm([]),
                            persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1200) as call:
        await call.exchange(1)
        await call.say(silence=1.6)
        metrics = await call.turn_over(2, timeout=3.0)
        await call.output.until_quiet()
    assert metrics.end_of_turn["reason"] == "model" and metrics.end_of_turn["held_partial"] is True
    assert metrics.timeline["tts_first_audio"] < 1000  # the desk's answer was made at once ...
    assert metrics.timeline["audio_out"] >= 1200  # ... and heard only after the longest wait
    assert call.output.said("reply", turn=2) == ["Thanks, John Smith.", "Could you give me the day and the time?"]


async def test_a_caller_who_goes_on_after_the_name_answers_the_desk_once(tmp_path: Path) -> None:
    said = iter([ASK])

    def heard(audio: FloatAudio) -> str:
        first = next(said, None)
        return first if first is not None else (NAME if seconds_of(audio) < 0.6 else WHOLE)

    store, options = store_and_runner(tmp_path)
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95] * 3), stt=ScriptedStt(heard),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64,
                            turn_max_silence_ms=1200, call_options=options) as call:
        await call.exchange(1)
        await call.say(silence=0.6)  # the end-of-turn model ended the turn long before the caller goes on
        await call.say(silence=1.4)
        await call.turn_over(3, timeout=3.0)
        await call.output.until_quiet()
    assert call.output.said("reply", turn=2) == []  # nothing said into the pause
    assert [t.text for t in call.output.of_type(Transcript)][1:] == [NAME, WHOLE]
    [booked] = store.appointments("garage")  # one booking, with the name from the first piece
    assert booked.name == "John Smith"


async def test_with_the_hold_off_the_name_is_answered_at_once(tmp_path: Path) -> None:
    async with running_call(tmp_path, turn=ScriptedTurnModel([0.95, 0.95]), stt=ScriptedStt([ASK, NAME]),
                            llm=ScriptedLlm([]), persona=garage(), turn_min_silence_ms=64, turn_max_silence_ms=1200,
                            partial_answer_hold=False) as call:
        await call.exchange(1)
        await call.say(silence=1.6)
        metrics = await call.turn_over(2, timeout=3.0)
    assert "held_partial" not in metrics.end_of_turn and metrics.timeline["first_clause"] < 1200
