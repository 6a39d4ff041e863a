"""Callers' voices: the bundled piper voice (at three speaking rates), espeak-ng formant voices (accents,
speeds, pitches) and, where ``../shared/audio`` is present, real recordings of spoken digits. Every
sentence is synthesised once and cached as a 16 kHz WAV (``$VOICEAGENT_CACHE/bench-calls-voices``)."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from voiceagent.audio.pcm import FloatAudio, float_to_pcm16, pcm16_to_float
from voiceagent.audio.resample import resample
from voiceagent.client import load_audio
from voiceagent.engines.bundled import cache_dir, piper_voice

RATE = 16000
SHARED_AUDIO = Path(__file__).resolve().parents[4] / "shared" / "audio"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclasses.dataclass(frozen=True, slots=True)
class Voice:
    """One caller voice. ``kind``: neural (piper), formant (espeak-ng) or real (recordings)."""

    name: str
    kind: str
    args: tuple[str, ...] = ()  # espeak-ng flags, or the recording speaker
    length_scale: float = 1.0  # piper speaking rate (above 1: slower)


SYNTHETIC = (
    Voice("piper-joe", "neural"),
    Voice("espeak-en-us", "formant", ("-v", "en-us", "-s", "160", "-p", "50")),
    Voice("piper-joe-fast", "neural", length_scale=0.85),
    Voice("espeak-en-gb", "formant", ("-v", "en-gb", "-s", "170", "-p", "40")),
    Voice("piper-joe-slow", "neural", length_scale=1.2),
    Voice("espeak-en-gb-rp", "formant", ("-v", "en-gb-x-rp", "-s", "145", "-p", "60")),
    Voice("espeak-en-us-f3", "formant", ("-v", "en-us+f3", "-s", "150", "-p", "70")),
    Voice("espeak-en-scotland", "formant", ("-v", "en-gb-scotland", "-s", "155", "-p", "45")),
)
REAL_DIGITS = (Voice("fsdd-jackson", "real", ("jackson",)), Voice("fsdd-nicolas", "real", ("nicolas",)))


def available_voices(names: list[str] | None = None) -> list[Voice]:
    """The synthetic voices to use: all usable ones, or those named (a name, or a kind: neural, formant).
    espeak-ng voices are dropped when the program is missing."""
    usable = [v for v in SYNTHETIC if v.kind != "formant" or shutil.which("espeak-ng")]
    if not names:
        return usable
    chosen = [v for v in usable if v.name in names or v.kind in names]
    unknown = set(names) - {v.name for v in SYNTHETIC} - {v.kind for v in SYNTHETIC}
    if unknown or not chosen:
        raise ValueError(f"unknown or unusable voices {sorted(unknown) or names}; have "
                         f"{[v.name for v in usable]} (or a kind: neural, formant)")
    return chosen


def real_digit_voices(folder: Path = SHARED_AUDIO) -> list[Voice]:
    """The real digit speakers whose ten recordings are all present (none in an installed wheel)."""
    return [v for v in REAL_DIGITS if all((folder / f"fsdd_{d}_{v.args[0]}_0.wav").is_file() for d in range(10))]


class VoiceBank:
    """Synthesises (or assembles) caller sentences, cached on disk."""

    def __init__(self, cache: Path | None = None, shared_audio: Path = SHARED_AUDIO) -> None:
        self.cache = cache or cache_dir() / "bench-calls-voices"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.shared_audio = shared_audio
        self._piper: object | None = None

    def speech(self, voice: Voice, text: str) -> FloatAudio:
        """``text`` in ``voice``, mono float32 at 16 kHz."""
        key = hashlib.sha1(repr((voice, text)).encode()).hexdigest()[:16]
        path = self.cache / f"{voice.name}-{key}.wav"
        if path.is_file():
            with wave.open(str(path), "rb") as wav:
                return pcm16_to_float(wav.readframes(wav.getnframes()))
        if voice.kind == "neural":
            audio = self._piper_speech(text, voice.length_scale)
        elif voice.kind == "formant":
            audio = self._espeak_speech(text, voice.args)
        else:
            audio = self._digits_speech(text, voice.args[0])
        partial = path.with_suffix(".partial")
        with wave.open(str(partial), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(float_to_pcm16(audio))
        partial.replace(path)
        return audio

    def _piper_speech(self, text: str, length_scale: float) -> FloatAudio:
        from piper import PiperVoice, SynthesisConfig

        if self._piper is None:
            onnx, config = piper_voice("en_US-joe-medium")
            self._piper = PiperVoice.load(onnx, config_path=config)
        voice = self._piper
        assert isinstance(voice, PiperVoice)
        chunks = [c.audio_float_array for c in voice.synthesize(text, SynthesisConfig(length_scale=length_scale))]
        return resample(np.concatenate(chunks).astype(np.float32), voice.config.sample_rate, RATE)

    def _espeak_speech(self, text: str, args: tuple[str, ...]) -> FloatAudio:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "say.wav"
            subprocess.run(["espeak-ng", *args, "-w", str(out), text], check=True, capture_output=True)
            return load_audio(out, RATE)

    def _digits_speech(self, text: str, speaker: str) -> FloatAudio:
        gap = np.zeros(int(0.12 * RATE), dtype=np.float32)
        parts: list[FloatAudio] = []
        for word in text.lower().split():
            parts += [load_audio(self.shared_audio / f"fsdd_{DIGITS.index(word)}_{speaker}_0.wav", RATE), gap]
        return np.concatenate(parts[:-1])
