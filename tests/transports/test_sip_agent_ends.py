"""The agent ends a SIP call itself: it transfers the caller to a person (REFER, RFC 3515) or hangs up (BYE).

The SIP gateway runs in-process on fake engines; SIPp (Debian's sip-tester) is the caller on loopback and
checks every message it gets from the agent (tests/transports/sipp/transferee.xml, hung_up_on.xml): a
missing REFER, a REFER to another target, a missing BYE or anything unexpected fails SIPp's call. The test
plays the call side's part the way a real call does it: ``Transfer`` through the call's output once the
goodbye was played, then ``hang_up("transferred")``; or ``hang_up("agent_ended")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from tests.conftest import free_port
from tests.fakes.call import PERSONA, fast_settings
from tests.fakes.engines import FakeTts, FakeVad, ScriptedStt
from tests.fakes.llm import ScriptedLlm
from voiceagent.engines.loader import Engines
from voiceagent.events import Transfer
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.records import read_record
from voiceagent.transports.session import CallRegistry, CallSession, Switchboard

pytest.importorskip("pjsua2")
if shutil.which("sipp") is None:
    pytest.skip("sipp (Debian's sip-tester) is not installed", allow_module_level=True)

from voiceagent.transports.sip import SipGateway  # after the skips: importing it loads PJSIP

SIPP = Path(__file__).with_name("sipp")


@contextlib.asynccontextmanager
async def gateway(records: Path) -> AsyncIterator[SipGateway]:
    """``voiceagent sip`` on loopback, its calls on fake engines (silence is heard as nothing)."""
    settings = fast_settings(records, host="127.0.0.1", sip_port=free_port(socket.SOCK_DGRAM),
                             sip_rtp_port=free_port(socket.SOCK_DGRAM) & ~1, persona=PERSONA.name,
                             idle_timeout_s=30.0)
    tts = FakeTts(sample_rate=16000)
    engines = Engines(vad=FakeVad(), stt=ScriptedStt(), llm=ScriptedLlm(), tts=tts)
    board = Switchboard(settings, engines, await PhraseBank.build(tts, [PERSONA]), {PERSONA.name: PERSONA},
                        CallRegistry(settings.max_calls))
    sip = SipGateway(board, settings, asyncio.get_running_loop())
    await sip.start()
    try:
        yield sip
    finally:
        await sip.stop()


class Caller(contextlib.AbstractAsyncContextManager["Caller"]):
    """One SIPp call to the gateway, running a scenario from tests/transports/sipp (stopped on leaving)."""

    def __init__(self, sip: SipGateway, tmp_path: Path, scenario: str, **values: str) -> None:
        media_port = free_port(socket.SOCK_DGRAM)
        audio = tmp_path / "silence.ulaw"
        audio.write_bytes(b"\xff" * 8000 * 20)  # 20 s of mu-law silence: the caller listens
        text = string.Template((SIPP / scenario).read_text()).substitute(
            LISTEN_PORT=media_port, AUDIO=audio, **values)
        (tmp_path / scenario).write_text(text)
        self.args = ["sipp", f"127.0.0.1:{sip.settings.sip_port}", "-sf", str(tmp_path / scenario), "-m", "1",
                     "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)), "-mi", "127.0.0.1", "-mp", str(media_port),
                     "-timeout", "40", "-nostdin", "-trace_err", "-error_file", str(tmp_path / "sipp-errors.log"),
                     "-trace_msg", "-message_file", str(tmp_path / "sipp-messages.log")]
        self.tmp_path = tmp_path
        self.sip = sip
        self.process: asyncio.subprocess.Process | None = None

    async def __aexit__(self, *_: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def call(self) -> CallSession:
        """Place the call; returns the agent's side of it once media flows."""
        self.process = await asyncio.create_subprocess_exec(
            *self.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=self.tmp_path)
        for _ in range(200):
            if self.sip.sessions:
                session = next(iter(self.sip.sessions.values()))
                await asyncio.sleep(0.5)  # the greeting plays
                return session
            await asyncio.sleep(0.05)
        raise AssertionError(f"no call reached the gateway: {await self.finish()}")

    async def finish(self) -> str:
        """Wait for SIPp; returns "" when its call passed, else what went wrong (its screen and errors)."""
        assert self.process is not None
        out, _ = await asyncio.wait_for(self.process.communicate(), 60)
        if self.process.returncode == 0:
            return ""
        errors = self.tmp_path / "sipp-errors.log"
        screen = out.decode(errors="replace")
        return screen[screen.find("Messages"):][:3000] + "\n" + (errors.read_text()[-3000:] if errors.exists() else "")


async def transfer(session: CallSession, to: str) -> list[dict[str, Any]]:
    """What the call side does to transfer: the event, then the end; returns the finished record."""
    call = session.call
    await call.observer.output.send_event(Transfer(to=to))
    call.hang_up("transferred")
    await asyncio.wait_for(asyncio.shield(session.task), 10)
    assert call.record.path is not None
    return read_record(call.record.path)


def transferee(sip: SipGateway, tmp_path: Path, uri: str, outcome: str = "200 OK", *, leaves: bool = False) -> Caller:
    """A caller that expects a REFER to exactly ``uri`` (``<uri>`` or bare), accepts it and reports
    ``outcome`` for the new call; with ``leaves`` it hangs up itself once the transfer is under way."""
    expected = escape(f"^ *<?{re.escape(uri)}>? *$")  # the POSIX regular expression SIPp checks Refer-To with
    return Caller(sip, tmp_path, "transferee.xml", REFER_TO=expected, OUTCOME=outcome, LEAVES=str(int(leaves)))


@pytest.mark.parametrize(("to", "uri"), [
    ("sip:frontdesk@pbx.example.com", "sip:frontdesk@pbx.example.com"),
    ("+1 555 0142", "sip:+15550142@127.0.0.1"),  # no registrar: the caller's host (From URIs carry no port)
])
async def test_transfer_sends_a_refer_and_hangs_up_once_the_new_call_is_answered(
        tmp_path: Path, to: str, uri: str) -> None:
    async with gateway(tmp_path / "calls") as sip, transferee(sip, tmp_path, uri) as caller:
        session = await caller.call()
        record = await transfer(session, to)
        report = await caller.finish()
        assert not report, report  # SIPp got the REFER to uri, accepted it, reported 200, got the BYE
    refer = [e for e in record if e["kind"] == "sip_refer"]
    assert [(e["uri"], e["outcome"], e["status"]) for e in refer] == [(uri, "transferred", 200)]
    assert not [e for e in record if e["kind"] == "error"]
    assert record[-1]["kind"] == "end" and record[-1]["reason"] == "transferred"


async def test_a_failed_transfer_is_recorded_as_an_error_and_the_call_hung_up(tmp_path: Path) -> None:
    uri = "sip:frontdesk@pbx.example.com"
    async with gateway(tmp_path / "calls") as sip, transferee(sip, tmp_path, uri, "486 Busy Here") as caller:
        session = await caller.call()
        record = await transfer(session, uri)
        report = await caller.finish()
        assert not report, report  # the REFER, then the BYE after the failure
    errors = [e for e in record if e["kind"] == "error"]
    assert [e["code"] for e in errors] == ["transfer_failed"]
    assert "486 Busy Here" in errors[0]["message"] and uri in errors[0]["message"]
    assert [e["outcome"] for e in record if e["kind"] == "sip_refer"] == ["failed"]
    assert record[-1]["reason"] == "transferred"


async def test_a_caller_hanging_up_once_the_transfer_is_under_way_counts_as_transferred(tmp_path: Path) -> None:
    uri = "sip:frontdesk@pbx.example.com"
    async with gateway(tmp_path / "calls") as sip, transferee(sip, tmp_path, uri, leaves=True) as caller:
        session = await caller.call()
        record = await transfer(session, uri)
        report = await caller.finish()
        assert not report, report  # the REFER; SIPp accepted it, said 100 Trying and hung up
    assert [(e["outcome"], e["status"]) for e in record if e["kind"] == "sip_refer"] == [("transferred", 100)]
    assert not [e for e in record if e["kind"] == "error"]
    assert record[-1]["reason"] == "transferred"


async def test_the_agent_hanging_up_sends_a_bye(tmp_path: Path) -> None:
    async with gateway(tmp_path / "calls") as sip, Caller(sip, tmp_path, "hung_up_on.xml") as caller:
        session = await caller.call()
        session.call.hang_up("agent_ended")
        report = await caller.finish()
        assert not report, report  # SIPp got a BYE (and nothing else)
        await asyncio.wait_for(asyncio.shield(session.task), 10)
    assert session.call.record.path is not None
    record = read_record(session.call.record.path)
    assert record[-1]["reason"] == "agent_ended"
    assert not [e for e in record if e["kind"] in ("error", "sip_refer")]


async def test_an_unusable_target_sends_no_refer_records_the_failure_and_hangs_up(tmp_path: Path) -> None:
    async with gateway(tmp_path / "calls") as sip, Caller(sip, tmp_path, "hung_up_on.xml") as caller:
        session = await caller.call()
        record = await transfer(session, "sip:front desk@pbx.example.com")
        report = await caller.finish()
        assert not report, report  # no REFER, a BYE
    errors = [e for e in record if e["kind"] == "error"]
    assert [e["code"] for e in errors] == ["transfer_failed"] and "not a usable SIP URI" in errors[0]["message"]
    assert record[-1]["reason"] == "transferred"


async def test_a_call_the_server_cannot_take_gets_486_busy_here(tmp_path: Path) -> None:
    """Admission is decided on the event loop (which owns the table of calls), not on PJSIP's thread."""
    async with gateway(tmp_path / "calls") as sip, Caller(sip, tmp_path, "refused_busy.xml") as caller:
        sip.board.calls.accepting = False  # what draining, a full server and a slow one have in common
        assert caller.process is None
        caller.process = await asyncio.create_subprocess_exec(
            *caller.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
        report = await caller.finish()
        assert not report, report  # SIPp got its 486 (a 200 would fail the scenario)
    assert not sip.sessions and not list((tmp_path / "calls").glob("*.jsonl"))
