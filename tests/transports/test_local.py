"""Talk mode: a real recording as the caller, the conversation written to a stereo WAV; and a clear
message, not a traceback, when there is no sound device."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import recording


@pytest.mark.slow
def test_talk_with_a_recording_writes_both_sides(tmp_path: Path) -> None:
    out = tmp_path / "conversation.wav"
    result = subprocess.run(
        [sys.executable, "-m", "voiceagent", "talk", "--input", str(recording("fsdd_4_jackson_0.wav")),
         "--output", str(out), "--records-dir", str(tmp_path / "calls"), "--log-level", "WARNING"],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "agent (greeting):" in result.stdout and "caller:" in result.stdout
    assert "agent (reply):" in result.stdout or "agent (apology):" in result.stdout
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 16000
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    caller, agent = frames[:, 0].astype(float), frames[:, 1].astype(float)
    assert np.sqrt(np.mean(caller**2)) > 50 and np.sqrt(np.mean(agent**2)) > 50
    # the agent answers after the caller spoke: audio on the right after the caller's speech
    last_caller = np.flatnonzero(np.abs(caller) > 1000)[-1]
    assert np.abs(agent[last_caller:]).max() > 1000


def test_talk_without_a_sound_device_explains_itself() -> None:
    result = subprocess.run([sys.executable, "-m", "voiceagent", "talk"], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot use the microphone" in result.stderr and "--input FILE" in result.stderr
    assert "Traceback" not in result.stderr
