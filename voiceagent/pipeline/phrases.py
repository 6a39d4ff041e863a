"""Pre-synthesised phrases (greeting, fillers, apology) so they play instantly, even when an engine is slow
or dead. Synthesised once per persona at start-up; resampled once per call sample rate on first use.
The synthesiser's silence around each phrase is cut to :data:`EDGE_S`: a filler holds the answer behind
it for as long as it plays, and piper ends every phrase with about 0.2 s of silence."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from voiceagent.audio.loudness import trim_silence
from voiceagent.audio.pcm import FloatAudio, float_to_pcm16
from voiceagent.audio.resample import resample
from voiceagent.engines.speech import Synthesizer
from voiceagent.personas import Persona

EDGE_S = 0.03  # silence kept before and after a phrase


class PhraseBank:
    """Audio of every persona's fixed phrases."""

    def __init__(self, tts_rate: int) -> None:
        self._tts_rate = tts_rate
        self._audio: dict[str, FloatAudio] = {}
        self._pcm: dict[tuple[str, int], bytes] = {}
        self._filler_turn = itertools.count()

    @classmethod
    async def build(cls, tts: Synthesizer, personas: Iterable[Persona]) -> PhraseBank:
        """Synthesise the greeting, fillers, apology and "say it again" line of each persona."""
        bank = cls(tts.sample_rate)
        for persona in personas:
            for text in (persona.greeting, persona.apology, persona.not_heard, *persona.fillers):
                if text and text not in bank._audio:
                    audio = await tts.synthesize(text)
                    trimmed = trim_silence(audio, tts.sample_rate, keep_s=EDGE_S)
                    bank._audio[text] = trimmed if len(trimmed) else audio  # (all silence: a test voice)
        return bank

    def pcm(self, text: str, sample_rate: int) -> bytes:
        """16-bit PCM of a known phrase at ``sample_rate``. Raises KeyError for an unknown phrase."""
        key = (text, sample_rate)
        if key not in self._pcm:
            self._pcm[key] = float_to_pcm16(resample(self._audio[text], self._tts_rate, sample_rate))
        return self._pcm[key]

    def filler(self, persona: Persona) -> str:
        """The next filler phrase of ``persona`` (they take turns, so a caller does not hear one on repeat)."""
        return persona.fillers[next(self._filler_turn) % len(persona.fillers)]
