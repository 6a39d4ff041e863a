"""The caller's side of a phone line: speech at one level, background noise at a chosen signal-to-noise
ratio, the telephone band (300-3400 Hz, a causal Butterworth band-pass from scipy) and 8 kHz (soxr).
G.711 mu-law is applied where a real line applies it: the Twilio caller encodes every frame it sends
(:mod:`voiceagent.twilio_client`); :func:`mulaw_round_trip` does the same offline, for checks."""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from voiceagent.audio import g711
from voiceagent.audio.pcm import FloatAudio, float_to_pcm16, pcm16_to_float
from voiceagent.audio.resample import resample

SPEECH_DBFS = -26.0  # every caller sentence is set to this active speech level
BAND_HZ = (300.0, 3400.0)
LINE_RATE = 8000
NOISE_SNR_DB = 15.0


def active_rms(audio: FloatAudio) -> float:
    """RMS over the samples that carry speech (above 1% of the peak): pauses do not dilute the level."""
    if audio.size == 0:
        return 0.0
    loud = audio[np.abs(audio) > 0.01 * float(np.max(np.abs(audio)))]
    return float(np.sqrt(np.mean(np.square(loud, dtype=np.float64)))) if loud.size else 0.0


def set_level(audio: FloatAudio, dbfs: float = SPEECH_DBFS) -> FloatAudio:
    """``audio`` scaled so its active speech level is ``dbfs`` (clipped to [-1, 1])."""
    rms = active_rms(audio)
    if rms == 0.0:
        return audio.astype(np.float32)
    scaled: FloatAudio = np.clip(audio * (10 ** (dbfs / 20) / rms), -1.0, 1.0).astype(np.float32)
    return scaled


@functools.cache
def _band_pass(rate: int) -> np.ndarray:
    sos: np.ndarray = np.asarray(signal.butter(4, BAND_HZ, btype="bandpass", fs=rate, output="sos"))
    return sos


def band_limit(audio: FloatAudio, rate: int) -> FloatAudio:
    """The telephone band, 300-3400 Hz (4th-order Butterworth, causal like a real channel)."""
    filtered: FloatAudio = np.asarray(signal.sosfilt(_band_pass(rate), audio), dtype=np.float32)
    return filtered


def phone_line(audio: FloatAudio, rate: int) -> FloatAudio:
    """Caller audio at ``rate`` as it enters the line: band-limited, then resampled to 8 kHz."""
    return resample(band_limit(audio, rate), rate, LINE_RATE)


def mulaw_round_trip(audio: FloatAudio) -> FloatAudio:
    """Through G.711 mu-law and back (8-bit companded samples)."""
    return pcm16_to_float(g711.decode(g711.encode(float_to_pcm16(audio), "ulaw"), "ulaw"))


def pink_noise(seconds: float, rate: int, seed: int) -> FloatAudio:
    """Seeded pink (1/f) noise, unit RMS: the spectrum of a room, a street or a car interior."""
    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spectrum *= 1 / np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    unit: FloatAudio = (noise / np.sqrt(np.mean(noise**2))).astype(np.float32)
    return unit


def line_noise(seconds: float, seed: int, snr_db: float = NOISE_SNR_DB) -> FloatAudio:
    """Background noise as it arrives over the line (band-limited, 8 kHz), its RMS ``snr_db`` below the
    speech level that :func:`phone_speech` gives (both measured in the band). Filtering is linear, so
    adding this to a sentence from :func:`phone_speech` equals sending their mix down the line."""
    noise = phone_line(pink_noise(seconds, 16000, seed), 16000)
    rms = float(np.sqrt(np.mean(np.square(noise, dtype=np.float64))))
    return (noise * (10 ** ((SPEECH_DBFS - snr_db) / 20) / rms)).astype(np.float32)


def phone_speech(audio: FloatAudio, rate: int) -> FloatAudio:
    """A caller sentence as it arrives over the line (8 kHz), at the standard speech level in the band."""
    return set_level(phone_line(audio, rate))


def snr_db(speech: FloatAudio, noise: FloatAudio) -> float:
    """Signal-to-noise ratio in dB: active speech level over noise RMS."""
    noise_rms = float(np.sqrt(np.mean(np.square(noise, dtype=np.float64))))
    return 20 * float(np.log10(active_rms(speech) / noise_rms))
