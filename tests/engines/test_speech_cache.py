"""The synthesised-audio cache: text said again is not synthesised again, the cache holds no more bytes
than it is given, and no caller can change the audio the next one hears. The fast tests wrap a counting
stand-in for the voice; the last one wraps the bundled piper voice as the server builds it."""

from __future__ import annotations

import numpy as np
import pytest

from voiceagent.audio.pcm import FloatAudio
from voiceagent.config import Settings
from voiceagent.engines.loader import make_synthesizer
from voiceagent.engines.piper import PiperSynthesizer
from voiceagent.engines.speech_cache import CachedSynthesizer


class CountingVoice:
    """A stand-in synthesiser: one sample per character, and a count of what it was asked."""

    label = "counting"
    sample_rate = 16000

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.closed = False

    async def synthesize(self, text: str) -> FloatAudio:
        self.asked.append(text)
        return np.full(len(text), 0.1, dtype=np.float32)

    def close(self) -> None:
        self.closed = True


async def test_text_said_again_is_not_synthesised_again() -> None:
    voice = CountingVoice()
    tts = CachedSynthesizer(voice, max_bytes=1 << 20)
    first = await tts.synthesize("Sorry, we're closed on Sunday.")
    again = await tts.synthesize("Sorry, we're closed on Sunday.")
    other = await tts.synthesize("We're open Monday to Friday.")
    assert voice.asked == ["Sorry, we're closed on Sunday.", "We're open Monday to Friday."]
    assert again is first and len(other) == len("We're open Monday to Friday.")
    assert (tts.hits, tts.misses) == (1, 2)
    assert (tts.label, tts.sample_rate) == ("counting", 16000)
    tts.close()
    assert voice.closed


async def test_the_cache_holds_no_more_bytes_than_it_is_given() -> None:
    voice = CountingVoice()
    tts = CachedSynthesizer(voice, max_bytes=4 * 25)  # 25 samples of float32
    await tts.synthesize("a" * 10)
    await tts.synthesize("b" * 10)
    await tts.synthesize("a" * 10)  # the a's are now the most recently used
    await tts.synthesize("c" * 10)  # the b's go out
    assert tts.held_bytes <= 4 * 25
    await tts.synthesize("a" * 10)
    await tts.synthesize("b" * 10)
    assert voice.asked == ["a" * 10, "b" * 10, "c" * 10, "b" * 10]
    await tts.synthesize("z" * 30)  # larger than the whole cache: said, not held
    await tts.synthesize("z" * 30)
    assert voice.asked[-2:] == ["z" * 30, "z" * 30]


async def test_held_audio_cannot_be_changed_by_a_caller() -> None:
    tts = CachedSynthesizer(CountingVoice(), max_bytes=1 << 20)
    audio = await tts.synthesize("Thank you for calling.")
    with pytest.raises(ValueError):
        audio *= 2
    assert float((await tts.synthesize("Thank you for calling."))[0]) == pytest.approx(0.1)


@pytest.mark.slow
async def test_the_server_voice_is_cached_as_configured() -> None:
    tts = make_synthesizer(Settings())
    off = make_synthesizer(Settings(tts_cache_mb=0))
    try:
        assert isinstance(tts, CachedSynthesizer) and isinstance(tts.inner, PiperSynthesizer)
        assert isinstance(off, PiperSynthesizer)
        first = await tts.synthesize("We're open until six tonight.")
        again = await tts.synthesize("We're open until six tonight.")
        assert again is first and len(first) > tts.sample_rate // 2  # real speech, over half a second
        assert (tts.hits, tts.misses) == (1, 1)
    finally:
        tts.close()
        off.close()
