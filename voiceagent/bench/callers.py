"""The voices the soak and the turn benchmark speak with when no recordings are given.

In a checkout, the real recordings in ``../shared/audio`` (people, a telephone corpus). From an installed
wheel that folder is absent, so the callers are synthesised once with the bundled piper voice: a few
questions a caller of the default persona would ask, written as WAV files into the model cache (a
folder named for the phrases and the voice, so a change makes new ones) and reused afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import wave
from pathlib import Path

import numpy as np

from voiceagent.audio.pcm import float_to_pcm16
from voiceagent.engines import bundled

log = logging.getLogger(__name__)

CHECKOUT_RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "audio"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
DEFAULT_VOICE = "en_US-joe-medium"  # the bundled piper voice
PHRASES = (
    "Hello, what time do you open on Saturday?",
    "How much does a check-up cost?",
    "I would like to book an appointment for next Tuesday morning.",
    "My name is Maria Lopez.",
    "Are you open on Sunday?",
    "Can I move my appointment to Friday afternoon?",
    "Where is the practice?",
    "Thank you, that is all. Goodbye.",
)
PAD_S = 0.25  # silence before and after each phrase, as on a real line


def recordings_in(folder: Path) -> tuple[Path, ...]:
    """The WAV/FLAC/OGG/MP3 files in ``folder`` (none if it does not exist), sorted by name."""
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES))


def default_callers(recordings: Path = CHECKOUT_RECORDINGS, cache: Path | None = None) -> tuple[Path, ...]:
    """The real recordings in ``recordings`` when there are any; else the synthesised callers in
    ``cache`` (default: ``<model cache>/callers``), made now if they are not there yet."""
    found = recordings_in(recordings)
    if found:
        return found
    return synthesised_callers(cache or bundled.cache_dir() / "callers")


def synthesised_callers(cache: Path, voice: str = DEFAULT_VOICE) -> tuple[Path, ...]:
    """:data:`PHRASES` spoken by ``voice``, one WAV file each under ``cache``; synthesised only once."""
    key = hashlib.sha256("\n".join((voice, *PHRASES)).encode()).hexdigest()[:12]
    paths = _paths(cache / f"{voice}-{key}")
    if all(path.is_file() for path in paths):
        return paths
    paths = _paths(_writable(cache / f"{voice}-{key}"))
    missing = [(path, text) for path, text in zip(paths, PHRASES, strict=True) if not path.is_file()]
    if missing:
        log.info("synthesising %d default callers into %s", len(missing), paths[0].parent)
        _synthesise(missing, voice)
    return paths


def _paths(folder: Path) -> tuple[Path, ...]:
    return tuple(folder / f"{i:02d}_{_slug(text)}.wav" for i, text in enumerate(PHRASES, start=1))


def _synthesise(jobs: list[tuple[Path, str]], voice: str) -> None:
    from voiceagent.engines.piper import PiperSynthesizer

    onnx, config = bundled.piper_voice(voice)
    synthesizer = PiperSynthesizer(onnx, config, threads=1, label=voice)
    pad = np.zeros(int(PAD_S * synthesizer.sample_rate), dtype=np.float32)
    try:
        for path, text in jobs:
            audio = np.concatenate([pad, synthesizer.synthesize_blocking(text), pad])
            partial = path.with_suffix(f".partial-{os.getpid()}")
            with wave.open(str(partial), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(synthesizer.sample_rate)
                out.writeframes(float_to_pcm16(audio))
            os.replace(partial, path)  # a reader never sees half a file
    finally:
        synthesizer.worker.close()


def _writable(folder: Path) -> Path:
    """``folder``, created; a temporary one where the cache is read-only (a container's baked models)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / "voiceagent-callers" / folder.name
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _slug(text: str) -> str:
    return "_".join(re.findall(r"[a-z]+", text.lower())[:4])
