"""Pre-synthesised phrases: a filler holds the answer back while it plays, so the synthesiser's silence
after it is cut."""

from __future__ import annotations

import numpy as np

from tests.audio.test_loudness import RATE, padded_tone
from tests.fakes.call import PERSONA
from voiceagent.audio.pcm import FloatAudio
from voiceagent.pipeline.phrases import EDGE_S, PhraseBank


class PaddedVoice:
    """A synthesiser that says every phrase as 0.4 s of tone with piper's silence around it."""

    label = "padded"
    sample_rate = RATE

    async def synthesize(self, text: str) -> FloatAudio:
        return padded_tone(0.05, 0.4, 0.2)

    def close(self) -> None:
        """Nothing to release."""


async def test_a_phrase_keeps_only_a_little_of_the_silence_around_it() -> None:
    bank = await PhraseBank.build(PaddedVoice(), [PERSONA])
    pcm = np.frombuffer(bank.pcm(PERSONA.fillers[0], RATE), dtype=np.int16)
    assert abs(len(pcm) / RATE - (0.4 + 2 * EDGE_S)) < 0.011  # not 0.65 s
