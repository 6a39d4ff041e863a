"""A caller asks for a person and is transferred, end to end: ``voiceagent sip`` with the real engines
(bundled faster-whisper tiny.en, Qwen 0.5B through llama.cpp, piper) and the garage persona, which declares
``transfer_to_human``. SIPp (Debian's sip-tester) is the caller on loopback (sipp/asks_for_a_person.xml):
it listens to the greeting, then asks for a person as PCMU RTP in the bundled piper voice (in the issue's
words: "Hello, can I speak to a person, please?"), and expects
a REFER to the ``transfer_to`` setting's target, accepts it, reports the new call answered and expects the
agent's BYE.

Nothing is scripted on the agent's side: whisper must hear the request, the model must choose the tool, the
action desk must let it through, the call must say "Sure, I'm putting you through now." and only then send
the Transfer event, and the SIP gateway must turn it into the REFER. No REFER (whatever the reason) fails
SIPp's call, and so this test. ``transfer_to`` is a phone number, so the gateway's number rule is exercised
as well: with no registrar, it is sent to the caller's own host."""

from __future__ import annotations

import re
import shutil
import socket
import string
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pytest

from tests.conftest import RunningServer, free_port, record_where, run_server
from tests.speech import words
from voiceagent.audio import g711
from voiceagent.audio.pcm import float_to_pcm16
from voiceagent.audio.resample import resample
from voiceagent.config import load_settings
from voiceagent.pipeline.action_turn import PUTTING_THROUGH

pytestmark = pytest.mark.slow
pytest.importorskip("pjsua2")
if shutil.which("sipp") is None:
    pytest.skip("sipp (Debian's sip-tester) is not installed", allow_module_level=True)

SCENARIO = Path(__file__).with_name("sipp") / "asks_for_a_person.xml"
RATE = 8000  # the line: PCMU at 8 kHz
REQUESTS = ["Hello, can I speak to a person, please?"]  # the words (a second phrasing passed 5/5 runs; left out for suite time)
TRANSFER_TO = "+1 555 0142"  # the setting, as an operator would write it
REFER_TO = "sip:+15550142@127.0.0.1"  # no registrar: the number goes to the caller's host (From has no port)
LISTEN_S = 5.0  # silence before the request: the caller lets the greeting play
REFER_WAIT_S = 75.0  # from the start of the caller's audio: the request, then the real pipeline on a slow CPU


def caller_audio(path: Path, text: str) -> float:
    """``text`` in the bundled piper voice, after ``LISTEN_S`` of silence and followed by 2 s of it, written
    to ``path`` as raw 8 kHz mu-law (what SIPp's rtp_stream plays); returns the audio's length in seconds."""
    from voiceagent.bench.calls.voices import SYNTHETIC, VoiceBank

    voice = next(v for v in SYNTHETIC if v.name == "piper-joe")
    speech = resample(VoiceBank(cache=path.parent / "voices").speech(voice, text), 16000, RATE)
    silence = np.zeros(int(LISTEN_S * RATE), dtype=np.float32)
    line = np.concatenate([silence, speech, silence[: 2 * RATE]])
    path.write_bytes(g711.encode(float_to_pcm16(line), "ulaw"))
    return len(line) / RATE


@pytest.fixture(scope="module")
def sip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server with SIP, the garage persona for every call, transfers to ``TRANSFER_TO``."""
    settings = load_settings(env={}, overrides={
        "host": "127.0.0.1", "port": free_port(), "sip_port": free_port(socket.SOCK_DGRAM),
        "sip_rtp_port": free_port(socket.SOCK_DGRAM) & ~1, "persona": "garage", "transfer_to": TRANSFER_TO,
        "records_dir": str(tmp_path_factory.mktemp("sip-transfer-calls")), "temperature": 0.0,
        "actions_db": str(tmp_path_factory.mktemp("sip-transfer-actions") / "actions.db"),
    })
    with run_server(settings, sip=True) as running:
        yield running


def what_happened(record: list[dict[str, Any]]) -> str:
    """The call in a few lines, for a failure message: what was heard, said and done."""
    shown = {"transcript": "text", "reply": "text", "action": "name", "action_reconsidered": "why",
             "transfer": "to", "sip_refer": "outcome", "error": "message", "end": "reason"}
    lines = []
    for entry in record:
        key = shown.get(str(entry["kind"]))
        if key is not None:
            extra = f" ({entry['outcome']})" if entry["kind"] == "action" else ""
            lines.append(f"{entry['kind']}: {entry.get(key)!r}{extra}")
    return "\n".join(lines)


@pytest.mark.parametrize("request_words", REQUESTS, ids=["speak-to-a-person"])
def test_a_caller_asking_for_a_person_gets_a_refer_to_the_transfer_target(
        sip_server: RunningServer, tmp_path: Path, request_words: str) -> None:
    audio = tmp_path / "caller.ulaw"
    talk_s = caller_audio(audio, request_words)
    call_id = f"transfer-e2e-{uuid.uuid4().hex[:8]}"  # this call's record, among the module's calls
    media_port = free_port(socket.SOCK_DGRAM)
    scenario = tmp_path / SCENARIO.name
    scenario.write_text(string.Template(SCENARIO.read_text()).substitute(
        LISTEN_PORT=media_port, AUDIO=audio, REFER_WAIT_MS=int((talk_s + REFER_WAIT_S) * 1000),
        REFER_TO=escape(f"^ *<?{re.escape(REFER_TO)}>? *$")))  # the POSIX regular expression SIPp checks
    errors = tmp_path / "sipp-errors.log"
    sipp = subprocess.run(
        ["sipp", f"127.0.0.1:{sip_server.settings.sip_port}", "-sf", str(scenario), "-m", "1", "-i", "127.0.0.1",
         "-p", str(free_port(socket.SOCK_DGRAM)), "-mi", "127.0.0.1", "-mp", str(media_port),
         "-cid_str", f"{call_id}-%u@%s", "-timeout", str(int(talk_s + REFER_WAIT_S + 30)), "-nostdin",
         "-trace_err", "-error_file", str(errors), "-trace_msg", "-message_file", str(tmp_path / "sipp-messages.log")],
        check=False, capture_output=True, text=True, timeout=talk_s + REFER_WAIT_S + 60, cwd=tmp_path)

    try:
        record = record_where(sip_server.settings.records_dir, "sip_call_id", f"{call_id}-1@127.0.0.1", timeout=30)
    except AssertionError as exc:  # SIPp's own report below says more
        record, story = [], str(exc)
    else:
        story = what_happened(record)
    screen = sipp.stdout[sipp.stdout.find("Messages"):][:3000]
    sipp_errors = errors.read_text()[-3000:] if errors.exists() else ""
    # SIPp's verdict: a REFER to exactly REFER_TO came, was accepted and reported answered, then the BYE.
    assert sipp.returncode == 0, f"SIPp's call failed; the call:\n{story}\n\nSIPp:\n{screen}\n{sipp_errors}"

    assert record and record[0]["persona"] == "garage", story
    heard = words(" ".join(str(e["text"]) for e in record if e["kind"] == "transcript"))
    assert "person" in heard, story
    actions = [(e["name"], e["outcome"], e["details"]) for e in record if e["kind"] == "action"]
    assert actions == [("transfer_to_human", "done", {"to": TRANSFER_TO})], story
    assert any(words(PUTTING_THROUGH) in words(str(e["text"])) for e in record if e["kind"] == "reply"), story
    assert [e["to"] for e in record if e["kind"] == "transfer"] == [TRANSFER_TO], story
    refers = [(e["uri"], e["outcome"], e["status"]) for e in record if e["kind"] == "sip_refer"]
    assert refers == [(REFER_TO, "transferred", 200)], story
    assert not [e for e in record if e["kind"] == "error"], story
    assert record[-1]["kind"] == "end" and record[-1]["reason"] == "transferred", story
