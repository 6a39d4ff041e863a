"""Speech helpers for tests: synthetic callers (espeak-ng) besides the real recordings, and word matching."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voiceagent.client import load_audio


def words(text: str) -> str:
    """Lower-case words only: punctuation depends on where the caller paused."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def espeak(text: str, rate: int) -> np.ndarray:
    """``text`` spoken by espeak-ng at ``rate`` Hz (skips the test if espeak-ng is missing)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = subprocess.run(["espeak-ng", "-s", "150", "--stdout", text], check=True, capture_output=True).stdout
    path = Path("/tmp") / f"voiceagent-espeak-{abs(hash(text))}.wav"
    path.write_bytes(wav)
    return load_audio(path, rate)
