"""Keypad (DTMF) turns on fake engines: digits pressed in a row become one turn the model reads, and a
key pressed while the agent talks interrupts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.call import running_call
from tests.fakes.engines import FakeTts
from tests.fakes.llm import ScriptedLlm
from voiceagent.events import Clear, Transcript

GAP_S = 0.04  # fast_settings' dtmf_gap_ms


def keyed(keys: str) -> str:
    return f"(The caller pressed {' '.join(keys)} on the phone keypad.)"


async def test_digits_pressed_in_a_row_are_one_turn_the_model_reads(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Account found."])
    async with running_call(tmp_path, llm=llm) as call:
        await call.press("12#")
        metrics = await call.turn_over(1)
        await call.output.until_quiet()
        record = await call.end()
    assert call.output.of_type(Transcript) == [Transcript(turn=1, text=keyed("12#"))]
    assert llm.requests[0][-1] == {"role": "user", "content": keyed("12#")}
    assert metrics.outcome == "answered" and call.output.said(turn=1) == ["Account found."]
    assert [e["digit"] for e in record if e["kind"] == "dtmf"] == ["1", "2", "#"]
    assert call.fakes.stt.calls == []


async def test_a_pause_longer_than_the_gap_starts_a_new_turn(tmp_path: Path) -> None:
    async with running_call(tmp_path) as call:
        await call.press("1")
        await call.turn_over(1)
        await asyncio.sleep(GAP_S * 2)
        await call.press("2")
        await call.turn_over(2)
        assert [t.text for t in call.output.of_type(Transcript)] == [keyed("1"), keyed("2")]


async def test_keys_that_are_not_on_a_keypad_are_ignored(tmp_path: Path) -> None:
    async with running_call(tmp_path) as call:
        for key in ("x", "12", "", "e"):
            call.call.push_dtmf(key)
        await asyncio.sleep(GAP_S * 3)
        record = await call.end()
    assert call.output.of_type(Transcript) == [] and call.fakes.llm.requests == []
    assert [e for e in record if e["kind"] == "dtmf"] == []


async def test_a_key_pressed_while_the_agent_talks_interrupts_it(tmp_path: Path) -> None:
    llm = ScriptedLlm(["Alpha bravo charlie delta echo foxtrot golf.", "Menu."])
    async with running_call(tmp_path, llm=llm, tts=FakeTts(seconds_per_char=0.01)) as call:
        await call.press("1")
        started = await call.agent_speaks(1)
        await call.output.until_heard(0.15, since=started)
        await call.press("0")
        clear = await call.output.wait_for(Clear)
        await call.turn_over(2)
        assert clear.turn == 1 and clear.heard and "Alpha bravo charlie delta echo foxtrot golf.".startswith(clear.heard)
        assert llm.requests[1][-2:] == [{"role": "assistant", "content": clear.heard},
                                        {"role": "user", "content": keyed("0")}]
