"""Speech-to-text alone, offline, on the spoken benchmark's sentences: word error rate, key-word error rate
and time per transcription, per path, for the recogniser the settings configure.

Every caller sentence of the shipped benchmark scripts (``bench/calls/*.yaml``) is spoken by one of the
synthetic caller voices in turn, then carried as the call would carry it: wideband at 16 kHz, or over the
phone line (band limit, 8 kHz, mu-law, the server's resampling back to 16 kHz), with or without the line's
background noise. It is a fast way (minutes, not a quarter of an hour) to compare recogniser settings on
the same audio before a change is measured end to end with ``voiceagent bench calls``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voiceagent.audio.pcm import FloatAudio
from voiceagent.audio.resample import LISTENING_QUALITY, resample
from voiceagent.bench.calls.line import LINE_RATE, line_noise, mulaw_round_trip, phone_speech, set_level
from voiceagent.bench.calls.script import TurnSpec, builtin_scripts
from voiceagent.bench.calls.voices import RATE, Voice, VoiceBank, available_voices
from voiceagent.bench.calls.wer import keyword_error_rate, word_error_rate
from voiceagent.bench.machine import describe, machine
from voiceagent.bench.stats import percentile
from voiceagent.config import Settings
from voiceagent.engines.loader import make_transcriber
from voiceagent.personas import load_personas
from voiceagent.personas.render import call_recognition_prompt

PATHS = ("wideband", "phone", "phone_noise")
PAD_S = 0.25  # silence before and after each sentence, as on a line


@dataclasses.dataclass(frozen=True, slots=True)
class Heard:
    """One sentence on one path: what was said, what the recogniser wrote, and how long it took."""

    path: str
    voice: str
    said: str
    keywords: tuple[str, ...]
    transcript: str
    ms: float


def sentences() -> list[tuple[str, TurnSpec]]:
    """Every synthetic caller sentence of the shipped scripts, with its persona (the real-recording digit
    turns left out)."""
    return [(script.persona, turn) for script in builtin_scripts().values() for turn in script.turns.values()
            if not turn.real]


def prompts(settings: Settings) -> dict[str, str]:
    """The recogniser's prompt for each persona, as a call of that persona gives it (none without
    ``stt_vocabulary``, or for a persona without facts)."""
    personas = load_personas(settings.prompts_dir)
    return {name: call_recognition_prompt(p, settings.stt_vocabulary) for name, p in personas.items()}


def line_audio(path: str, speech: FloatAudio, seed: int) -> FloatAudio:
    """``speech`` (16 kHz) padded and carried over ``path``, back at 16 kHz as the server hands it on."""
    pad = np.zeros(int(PAD_S * RATE), dtype=np.float32)
    return over_line(path, np.concatenate([pad, speech, pad]), seed)


def over_line(path: str, audio: FloatAudio, seed: int = 0) -> FloatAudio:
    """``audio`` (16 kHz) carried over ``path`` as it is, back at 16 kHz as the server hands it on."""
    if path == "wideband":
        return set_level(audio)
    line = phone_speech(audio, RATE)
    if path == "phone_noise":
        line = np.clip(line + line_noise(len(line) / LINE_RATE + 0.1, seed)[: len(line)], -1.0, 1.0)
    return resample(mulaw_round_trip(line.astype(np.float32)), LINE_RATE, RATE, LISTENING_QUALITY)


def run(settings: Settings, paths: Sequence[str], voices: Sequence[Voice], limit: int = 0,
        seed: int = 7) -> list[Heard]:
    """Transcribe every sentence (or the first ``limit``) on every path, each sentence in one voice."""
    stt = make_transcriber(settings)  # exactly as the server builds it
    prompt = prompts(settings)
    bank = VoiceBank()
    stt.transcribe_blocking(np.zeros(RATE, dtype=np.float32))  # warm
    heard: list[Heard] = []
    try:
        for i, (persona, turn) in enumerate(sentences()[: limit or None]):
            voice = voices[i % len(voices)]
            said = " ".join(turn.parts) if turn.parts else turn.say
            speech = bank.speech(voice, said)
            for path in paths:
                audio = line_audio(path, speech, seed + i)
                started = time.perf_counter()
                text = stt.transcribe_blocking(audio, prompt.get(persona, ""))
                heard.append(Heard(path, voice.name, said, turn.keywords, text, (time.perf_counter() - started) * 1000))
    finally:
        stt.close()
    return heard


def summary(heard: Sequence[Heard]) -> dict[str, dict[str, float]]:
    """Per path: sentences, word error rate, key-word error rate, and transcription time p50 and p95."""
    out: dict[str, dict[str, float]] = {}
    nan = float("nan")
    for path in dict.fromkeys(h.path for h in heard):
        rows = [h for h in heard if h.path == path]
        times = [h.ms for h in rows]
        out[path] = {"sentences": len(rows), "wer": word_error_rate([h.said for h in rows], [h.transcript for h in rows]),
                     "ker": keyword_error_rate([h.keywords for h in rows], [h.transcript for h in rows]),
                     "p50_ms": percentile(times, 50) or nan, "p95_ms": percentile(times, 95) or nan}
    return out


def main(settings: Settings, paths: Sequence[str], voice_names: list[str] | None, limit: int,
         json_out: str | None) -> int:
    """``voiceagent bench stt``: a table per path, and every transcript in the JSON report if asked."""
    voices = available_voices(voice_names)
    print(f"machine: {describe(machine())}; stt {settings.stt_model} beam {settings.stt_beam_size} window "
          f"{settings.stt_window_s or 30:g} s, vocabulary {'on' if settings.stt_vocabulary else 'off'}, "
          f"denoise {settings.stt_denoise:g}, "
          f"{settings.stt_threads} threads; voices: {', '.join(v.name for v in voices)}",
          flush=True)
    heard = run(settings, paths, voices, limit)
    table = summary(heard)
    for path, row in table.items():
        print(f"{path:12} {row['sentences']:4.0f} sentences | WER {row['wer']:.3f} | key words lost {row['ker']:.3f} | "
              f"p50 {row['p50_ms']:4.0f} ms | p95 {row['p95_ms']:4.0f} ms")
    if json_out:
        report: dict[str, Any] = {"machine": machine(), "stt_model": settings.stt_model,
                                  "beam_size": settings.stt_beam_size, "window_s": settings.stt_window_s,
                                  "vocabulary": settings.stt_vocabulary, "denoise": settings.stt_denoise,
                                  "summary": table, "heard": [dataclasses.asdict(h) for h in heard]}
        Path(json_out).write_text(json.dumps(report, indent=1))
    return 0
