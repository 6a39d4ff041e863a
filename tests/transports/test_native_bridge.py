"""The native /ws session state machine, without sockets: frames in, actions out."""

from __future__ import annotations

import json
from collections.abc import Sequence

from voiceagent.events import Clear, Error, Transfer
from voiceagent.transports.bridge import (
    CallParams,
    Close,
    EndCall,
    Problem,
    PushAudio,
    Send,
    StartCall,
)
from voiceagent.transports.native import NativeBridge

MODELS = {"stt": "tiny.en"}
BUDGETS = {"turn_ms": 800}


def bridge() -> NativeBridge:
    return NativeBridge(max_frame_bytes=64, models=MODELS, budgets=BUDGETS, remote="1.2.3.4:5")


def started() -> NativeBridge:
    b = bridge()
    b.receive('{"type": "start", "sample_rate": 8000}')
    b.started("c1", "assistant")
    return b


def sent_json(actions: Sequence[object]) -> list[dict[str, object]]:
    return [json.loads(a.data) for a in actions if isinstance(a, Send) and isinstance(a.data, str)]


def test_start_asks_for_a_call_and_ready_carries_the_protocol_version() -> None:
    b = bridge()
    start = '{"type": "start", "sample_rate": 8000, "persona": "receptionist", "prompt": "Be brief.", "token": "t"}'
    assert b.receive(start) == [StartCall(CallParams(
        transport="native", sample_rate=8000, persona="receptionist", prompt="Be brief.",
        details={"remote": "1.2.3.4:5"}, token="t", check_token=True))]
    assert sent_json(b.started("c1", "receptionist")) == [{
        "type": "ready", "protocol": 1, "call_id": "c1", "sample_rate": 8000, "persona": "receptionist",
        "models": MODELS, "budgets": BUDGETS}]


def test_audio_frames_in_a_call() -> None:
    b = started()
    assert b.receive(b"\x01\x02" * 4) == [PushAudio(b"\x01\x02" * 4)]
    assert b.receive(b"\x00" * 3) == [Problem("odd_length", "audio frames must hold whole 16-bit samples "
                                                            "(an even number of bytes)")]
    [oversized] = b.receive(b"\x00" * 66)
    assert isinstance(oversized, Problem) and oversized.code == "frame_too_large"
    assert b.in_call  # none of these ends the call


def test_audio_before_start_and_a_second_start_are_out_of_order() -> None:
    b = bridge()
    assert b.receive(b"\x00\x00") == [Problem("not_started", "send a 'start' message before any audio")]
    b.receive('{"type": "start"}')
    [again] = b.receive('{"type": "start"}')  # still starting
    assert isinstance(again, Problem) and again.code == "already_started"
    b.started("c1", "assistant")
    [again] = b.receive('{"type": "start"}')
    assert isinstance(again, Problem) and again.code == "already_started"


def test_malformed_frames_and_wrong_rates_are_problems_that_leave_the_connection_open() -> None:
    b = bridge()
    codes = [b.receive(text)[0] for text in ("not json", "[1]", '{"type": "dance"}', '{"type": "start", "sample_rate": 11025}')]
    assert [p.code for p in codes if isinstance(p, Problem)] == ["bad_json", "bad_json", "unknown_type",
                                                                  "unsupported_sample_rate"]
    [start] = b.receive('{"type": "start", "sample_rate": 16000}')
    assert isinstance(start, StartCall) and start.params.sample_rate == 16000


def test_the_caller_stops_then_the_call_ends_with_ended() -> None:
    b = started()
    assert b.receive('{"type": "stop"}') == [EndCall("caller_stop")]
    assert b.receive(b"\x00\x00") == [] and b.closed  # nothing after stop is read
    assert sent_json(b.finished("caller_stop")) == [{"type": "ended", "reason": "caller_stop"}]
    assert b.finished("caller_stop") == [] and b.call_ended("x") == []  # said once


def test_the_server_ends_the_call_with_ended_and_a_close_code() -> None:
    b = started()
    actions = b.call_ended("idle_timeout")
    assert sent_json(actions) == [{"type": "ended", "reason": "idle_timeout"}]
    assert actions[-1] == Close(1000, "idle_timeout")
    assert b.finished("idle_timeout") == []  # the loop's own goodbye is not repeated
    shutdown = started().call_ended("server_shutdown")
    assert shutdown[-1] == Close(1013, "server_shutdown")


def test_refusals() -> None:
    b = bridge()
    b.receive('{"type": "start"}')
    assert b.refused("unauthorized", "missing or wrong token") == [
        Problem("unauthorized", "missing or wrong token"), Close(1008, "unauthorized")]
    busy = bridge()
    busy.receive('{"type": "start"}')
    assert busy.refused("server_busy", "full")[-1] == Close(1013, "server busy")
    persona = bridge()
    persona.receive('{"type": "start", "persona": "nobody"}')
    assert persona.refused("unknown_persona", "no persona 'nobody'") == [Problem("unknown_persona", "no persona 'nobody'")]
    [retry] = persona.receive('{"type": "start"}')  # the client may try another persona
    assert isinstance(retry, StartCall)


def test_events_and_audio_out() -> None:
    b = started()
    assert sent_json(b.agent_event(Clear(turn=2, heard="Hello"))) == [{"type": "clear", "turn": 2, "heard": "Hello"}]
    assert sent_json(b.agent_event(Error(code="bad_json", message="m"))) == [
        {"type": "error", "code": "bad_json", "message": "m", "fatal": False}]
    assert b.agent_audio(b"\x01\x00") == [Send(b"\x01\x00")]


def test_a_transfer_reaches_the_client_then_the_call_ends_transferred() -> None:
    b = started()
    assert sent_json(b.agent_event(Transfer(to="+15550142"))) == [{"type": "transfer", "to": "+15550142"}]
    actions = b.call_ended("transferred")
    assert sent_json(actions) == [{"type": "ended", "reason": "transferred"}] and actions[-1] == Close(1000, "transferred")


def test_the_agent_hanging_up_ends_the_call_with_agent_ended() -> None:
    actions = started().call_ended("agent_ended")
    assert sent_json(actions) == [{"type": "ended", "reason": "agent_ended"}] and actions[-1] == Close(1000, "agent_ended")
