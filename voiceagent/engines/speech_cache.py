"""Synthesised audio kept for text that is said again: a caller's question answered from the persona's
facts gets the same words every time ("Sorry, we're closed on Sunday."), and piper takes 150 to 250 ms
on two cores to say the first clause of them.

The cache is keyed by the exact text, bounded by the bytes of audio it holds (least recently used out
first) and shared by every call: it knows nothing of calls. Held audio is read-only, so no caller can
change what the next one hears.
"""

from __future__ import annotations

from cachetools import LRUCache

from voiceagent.audio.pcm import FloatAudio
from voiceagent.engines.speech import Synthesizer
from voiceagent.metrics import TTS_CACHE


def _audio_bytes(audio: FloatAudio) -> int:
    return int(audio.nbytes)


class CachedSynthesizer:
    """A :class:`~voiceagent.engines.speech.Synthesizer` that remembers up to ``max_bytes`` of audio by
    text. Two calls asking for the same new text at once both synthesise it (no call waits on another's
    work); the second result is the one kept."""

    def __init__(self, inner: Synthesizer, max_bytes: int) -> None:
        self.inner = inner
        self.label = inner.label
        self.sample_rate = inner.sample_rate
        self._audio: LRUCache[str, FloatAudio] = LRUCache(maxsize=max_bytes, getsizeof=_audio_bytes)
        self.hits = 0
        self.misses = 0

    async def synthesize(self, text: str) -> FloatAudio:
        """The audio of ``text``: held audio at once, else the inner synthesiser's (then held, unless it
        is larger than the whole cache). Cancelling abandons the result."""
        held = self._audio.get(text)
        if held is not None:
            self.hits += 1
            TTS_CACHE.labels("hit").inc()
            return held
        audio = await self.inner.synthesize(text)
        self.misses += 1
        TTS_CACHE.labels("miss").inc()
        if 0 < audio.nbytes <= self._audio.maxsize:
            audio.setflags(write=False)
            self._audio[text] = audio
        return audio

    @property
    def held_bytes(self) -> int:
        """Bytes of audio held now."""
        return int(self._audio.currsize)

    def close(self) -> None:
        """Release the inner engine."""
        self.inner.close()
