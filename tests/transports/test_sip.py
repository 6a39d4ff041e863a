"""``voiceagent sip`` with a real SIP peer on loopback: SIPp (Debian's sip-tester) places a call offering
PCMU and telephone-event, streams a real recording as PCMU RTP, stays on the line and hangs up. The agent's
RTP is captured on the loopback interface (a raw packet socket, as tcpdump would) and transcribed."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import string
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import RunningServer, free_port, recording, records_where, run_server
from tests.speech import words
from voiceagent.audio import g711
from voiceagent.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceagent.audio.resample import resample
from voiceagent.client import load_audio
from voiceagent.config import load_settings

pytestmark = pytest.mark.slow
SCENARIO = Path(__file__).with_name("sipp") / "caller.xml"


class RtpCapture:
    """RTP arriving at one UDP port on loopback, captured without taking the port from its owner."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.payload_types: list[int] = []
        self.streams: dict[int, bytearray] = {}  # payload by RTP stream (SSRC): one per call
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            if address[2] == socket.PACKET_OUTGOING:  # loopback shows each packet twice
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
                continue
            header = (ip[0] & 0x0F) * 4
            _, port = struct.unpack(">HH", ip[header : header + 4])
            rtp = ip[header + 8 :]
            if port == self.port and len(rtp) > 12 and rtp[0] >> 6 == 2:
                self.payload_types.append(rtp[1] & 0x7F)
                ssrc = struct.unpack(">I", rtp[8:12])[0]
                self.streams.setdefault(ssrc, bytearray()).extend(rtp[12:])

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


@pytest.fixture(scope="module")
def sip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if shutil.which("sipp") is None:
        pytest.skip("sipp (Debian's sip-tester) is not installed")
    settings = load_settings(env={}, overrides={
        "port": free_port(), "sip_port": free_port(socket.SOCK_DGRAM), "sip_rtp_port": 42000,
        "records_dir": str(tmp_path_factory.mktemp("sip-calls")), "temperature": 0.0,
    })
    with run_server(settings, sip=True) as running:
        yield running


@contextlib.contextmanager
def capture(port: int) -> Iterator[RtpCapture]:
    if os.geteuid() != 0:
        pytest.skip("capturing RTP on loopback needs root (a raw packet socket)")
    cap = RtpCapture(port)
    try:
        yield cap
    finally:
        cap.stop()


CALLS = 3  # at once: media frames of three calls cross from PJSIP's threads to the event loop together


def test_three_sipp_callers_at_once_each_hear_an_answer_over_rtp(sip_server: RunningServer, tmp_path: Path) -> None:
    speech = load_audio(recording("jfk.flac"), 8000)
    line = np.concatenate([np.zeros(8000 * 3, dtype=np.float32), speech])  # listen to the greeting, then speak
    audio = tmp_path / "caller.ulaw"
    audio.write_bytes(g711.encode(float_to_pcm16(line), "ulaw"))
    media_port = free_port(socket.SOCK_DGRAM)
    scenario = tmp_path / "caller.xml"
    scenario.write_text(string.Template(SCENARIO.read_text()).substitute(
        # after the 11 s sentence each caller listens 12 s: three calls transcribe it at once on two cores,
        # and on a slow machine the third answer came 5.5 s after the speech, past an earlier 6 s wait
        LISTEN_PORT=media_port, AUDIO=audio, TALK_MS=int(len(line) / 8 + 12000)))
    sip_port = sip_server.settings.sip_port
    with capture(media_port) as rtp:
        started = time.time()
        result = subprocess.run(
            ["sipp", f"127.0.0.1:{sip_port}", "-sf", str(scenario), "-m", str(CALLS), "-l", str(CALLS),
             "-i", "127.0.0.1",
             "-p", str(free_port(socket.SOCK_DGRAM)), "-mi", "127.0.0.1", "-mp", str(media_port),
             "-timeout", "60", "-nostdin", "-trace_err", "-error_file", str(tmp_path / "sipp-errors.log")],
            check=False, capture_output=True, text=True, timeout=90, cwd=tmp_path,
        )
        time.sleep(0.5)
    assert result.returncode == 0, f"sipp failed: {result.stdout[-2000:]}"
    assert time.time() - started > len(line) / 8000  # the call really lasted

    # The agent's RTP came back on each call: PCMU packets, speech rather than silence, and the greeting
    # (of the first call's stream) is intelligible.
    assert rtp.payload_types and set(rtp.payload_types) == {0}
    assert len(rtp.streams) == CALLS
    streams = [pcm16_to_float(g711.decode(bytes(p), "ulaw")) for p in rtp.streams.values()]
    for agent in streams:
        assert len(agent) > 8000 * 3 and float(np.sqrt(np.mean(agent**2))) > 0.01
    agent = streams[0]
    from faster_whisper import WhisperModel

    from voiceagent.engines.bundled import whisper_dir

    model = WhisperModel(str(whisper_dir("tiny.en")), device="cpu", compute_type="int8")
    segments, _ = model.transcribe(resample(agent[: 8000 * 4], 8000, 16000), language="en", beam_size=1)
    heard = words(" ".join(s.text for s in segments))
    assert len({"smile", "dental", "sam", "help"} & set(heard.split())) >= 2, heard

    # Each call's record has the caller's words, an answer, and the caller's hang-up.
    records = records_where(sip_server.settings.records_dir, "transport", "sip", count=CALLS, timeout=20)
    for record in records:
        said = words(" ".join(str(e["text"]) for e in record if e["kind"] == "transcript"))
        assert "fellow america" in said and "your country" in said
        assert any(e["kind"] == "reply" for e in record)
        assert record[-1]["reason"] == "caller_hangup"
