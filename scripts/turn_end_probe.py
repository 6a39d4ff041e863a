"""Offline probe: how well the end-of-turn model tells a finished sentence from a mid-sentence pause.

For every distinct caller sentence of the shipped benchmark personas, in two of the benchmark's voices,
Smart Turn's probability of "finished" is taken where the server asks it (after 128 ms of silence): on
the whole sentence, and, for each paused turn, on the audio up to its mid-sentence pause (cut as
``voiceagent bench calls`` cuts it, so the voice keeps its mid-sentence tone). Wideband and over the
phone line (band limit, 8 kHz mu-law, back to 16 kHz as the server hears it).

It answers one question: could a reply be heard sooner after a turn judged finished very surely, without
more false cut-ins? Printed per path: the share of finished sentences and of first halves at or above
each probability. Usage: ``.venv/bin/python scripts/turn_end_probe.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import numpy as np

from voiceagent.audio.pcm import FloatAudio
from voiceagent.audio.resample import LISTENING_QUALITY, resample
from voiceagent.bench.calls.line import mulaw_round_trip, phone_speech, set_level
from voiceagent.bench.calls.pauses import pause_within
from voiceagent.bench.calls.script import builtin_scripts
from voiceagent.bench.calls.voices import RATE, VoiceBank, available_voices
from voiceagent.engines import bundled
from voiceagent.engines.turn_end import SmartTurnModel

LINE_RATE = 8000
LEAD_S, SILENCE_S = 0.3, 0.128  # the preroll before a turn; the silence when the server asks
PAUSE_MS = 600
THRESHOLDS = (0.5, 0.9, 0.95, 0.98)


def as_heard(path: str, speech: FloatAudio) -> FloatAudio:
    """``speech`` with its lead-in and 128 ms of silence, as the server hears it on ``path``."""
    audio = np.concatenate([np.zeros(int(LEAD_S * RATE), np.float32), speech,
                            np.zeros(int(SILENCE_S * RATE), np.float32)])
    if path == "wideband":
        return set_level(audio)
    line = mulaw_round_trip(phone_speech(audio, RATE).astype(np.float32))
    return resample(line, LINE_RATE, RATE, LISTENING_QUALITY)


def probabilities() -> dict[tuple[str, str], list[float]]:
    """(path, "finished" or "first half") -> Smart Turn's probabilities."""
    model = SmartTurnModel(bundled.turn_end_model("smart-turn-v3.2"), threads=1)
    bank, voices = VoiceBank(), available_voices(None)
    out: dict[tuple[str, str], list[float]] = {}
    seen: set[str] = set()
    try:
        for script in builtin_scripts().values():
            for i, turn in enumerate(sorted(script.turns.values(), key=lambda t: t.id)):
                if turn.say in seen:
                    continue
                seen.add(turn.say)
                for voice in (voices[i % len(voices)], voices[(i + 3) % len(voices)]):
                    whole = bank.speech(voice, " ".join(turn.parts) if turn.parts else turn.say)
                    kinds = [("finished", whole)]
                    if turn.parts:
                        cut = pause_within(whole, bank.speech(voice, turn.parts[0]), bank.speech(voice, turn.parts[1]),
                                           PAUSE_MS, RATE)
                        kinds.append(("first half", cut.audio[: len(cut.audio) - int((cut.tail_s or 0) * RATE)]))
                    for kind, speech in kinds:
                        for path in ("wideband", "phone"):
                            out.setdefault((path, kind), []).append(model.probability_blocking(as_heard(path, speech)))
    finally:
        model.close()
    return out


def main() -> None:
    """Print the table."""
    print("share of turns judged finished at or above: " + "  ".join(f">={t}" for t in THRESHOLDS))
    for (path, kind), probs in probabilities().items():
        shares = "  ".join(f"{sum(p >= t for p in probs) / len(probs):5.2f}" for t in THRESHOLDS)
        print(f"{path:9s} {kind:10s} ({len(probs):3d})  {shares}   median {float(np.median(probs)):.2f}")


if __name__ == "__main__":
    main()
