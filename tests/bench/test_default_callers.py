"""Default callers of the soak and the turn benchmark: the real recordings when the checkout has them,
else phrases synthesised once with the bundled piper voice, as an installed wheel outside the checkout
would have to. The synthesised callers are checked the way the server hears them: speech by Silero VAD,
and the words by whisper (the bundled tiny.en)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.speech import words
from voiceagent.bench import callers
from voiceagent.client import load_audio, speech_end
from voiceagent.engines import bundled
from voiceagent.engines.whisper import WhisperTranscriber

pytestmark = pytest.mark.slow


def test_without_recordings_the_callers_are_synthesised_once_and_say_their_phrases(tmp_path: Path) -> None:
    empty, cache = tmp_path / "no-recordings", tmp_path / "cache"
    empty.mkdir()
    made = callers.default_callers(empty, cache)
    assert len(made) == len(callers.PHRASES) and all(p.is_relative_to(cache) for p in made)
    stt = WhisperTranscriber(bundled.whisper_dir("tiny.en"), device="cpu", compute_type="int8", threads=2,
                             label="tiny.en")
    try:
        for path, phrase in zip(made, callers.PHRASES, strict=True):
            audio = load_audio(path, 16000)
            assert speech_end(audio, 16000) > 0.5, f"{path.name}: no speech"
            heard, said = _words(stt.transcribe_blocking(audio)), _words(phrase)
            assert len(heard & said) >= 0.6 * len(said), (phrase, heard)
    finally:
        stt.worker.close()
    # a second start reuses them, untouched
    stamps = [p.stat().st_mtime_ns for p in made]
    assert callers.default_callers(empty, cache) == made
    assert [p.stat().st_mtime_ns for p in made] == stamps


def _words(text: str) -> set[str]:
    """Words without contractions ("where's" counts as "where") or hyphens ("check-up" is "checkup")."""
    return {w.split("'")[0] for w in words(text.replace("-", "")).split()}


def test_real_recordings_are_used_when_present(tmp_path: Path) -> None:
    recordings, cache = tmp_path / "audio", tmp_path / "cache"
    recordings.mkdir()
    source = callers.synthesised_callers(tmp_path / "voices")[0]
    shutil.copy(source, recordings / "b_caller.wav")
    shutil.copy(source, recordings / "a_caller.flac")
    (recordings / "SOURCES.md").write_text("not audio")
    assert callers.default_callers(recordings, cache) == (recordings / "a_caller.flac", recordings / "b_caller.wav")
    assert not cache.exists()
