"""The recognition benchmark's audio paths and arithmetic (the transcriptions themselves run in
``voiceagent bench stt``; the engine's settings are tested in tests/engines/test_whisper.py)."""

from __future__ import annotations

import numpy as np
import pytest

from voiceagent.bench import stt
from voiceagent.bench.calls.script import builtin_scripts
from voiceagent.config import Settings


def _tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)


def test_each_path_hands_on_16_khz_audio_padded_as_on_a_line() -> None:
    speech = _tone()
    lengths = {path: len(stt.line_audio(path, speech, seed=1)) for path in stt.PATHS}
    expected = len(speech) + 2 * int(stt.PAD_S * 16000)
    assert all(abs(n - expected) <= 2 for n in lengths.values()), lengths


def test_the_noisy_line_is_the_phone_line_plus_noise_in_the_silences() -> None:
    speech = _tone()
    pad = int(stt.PAD_S * 16000)
    quiet = stt.line_audio("phone", speech, seed=1)[: pad // 2]
    noisy = stt.line_audio("phone_noise", speech, seed=1)[: pad // 2]
    assert np.sqrt(np.mean(noisy**2)) > 10 * max(np.sqrt(np.mean(quiet**2)), 1e-5)


@pytest.mark.parametrize("hz", [100, 6000])
def test_the_phone_line_keeps_only_its_band(hz: int) -> None:
    t = np.arange(16000) / 16000
    mixed = (0.2 * np.sin(2 * np.pi * hz * t) + 0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)

    def power_at(audio: np.ndarray, freq: int) -> float:
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        bins = np.fft.rfftfreq(len(audio), 1 / 16000)
        return float(spectrum[np.abs(bins - freq) < 20].sum())

    line = stt.line_audio("phone", mixed, seed=1)
    wide = stt.line_audio("wideband", mixed, seed=1)
    assert power_at(line, hz) < 0.01 * power_at(line, 1000)  # 20 dB and more below the band
    assert power_at(wide, hz) > 0.5 * power_at(wide, 1000)


def test_the_summary_gives_error_rates_and_times_per_path() -> None:
    heard = [stt.Heard("phone", "v", "Are you open on Sunday?", ("sunday",), "Are you open on Monday?", 100.0),
             stt.Heard("phone", "v", "How much is an oil change?", ("oil",), "How much is an oil change?", 300.0),
             stt.Heard("wideband", "v", "Are you open on Sunday?", ("sunday",), "Are you open on Sunday?", 50.0)]
    table = stt.summary(heard)
    assert table["phone"]["sentences"] == 2 and table["phone"]["ker"] == pytest.approx(0.5)
    assert table["phone"]["wer"] == pytest.approx(1 / 11) and table["wideband"]["wer"] == 0.0
    assert table["phone"]["p50_ms"] == pytest.approx(200.0)


def test_every_synthetic_sentence_of_every_script_is_used() -> None:
    said = stt.sentences()
    assert len(said) > 90 and not any(t.real for _, t in said)
    assert {persona for persona, _ in said} == set(builtin_scripts()) >= {"receptionist", "garage", "plumber"}


def test_each_persona_gets_its_own_prompt_or_none_when_switched_off() -> None:
    prompts = stt.prompts(Settings())
    assert "Oak Street Garage" in prompts["garage"] and "oil change" in prompts["garage"]
    assert "Bright Smile Dental" in prompts["receptionist"] and "Saturday" in prompts["receptionist"]
    assert set(stt.prompts(Settings(stt_vocabulary=False)).values()) == {""}
