"""Offline probe: how well the end-of-turn model tells a finished sentence from a mid-sentence pause.

For every distinct caller sentence of the shipped benchmark personas, in two of the benchmark's voices,
Smart Turn's probability of "finished" is taken where the server asks it (after 128 ms of silence): on
the whole sentence, and, for each paused turn, on the audio up to its mid-sentence pause (cut as
``voiceagent bench calls`` cuts it, so the voice keeps its mid-sentence tone). Wideband and over the
phone line (band limit, 8 kHz mu-law, back to 16 kHz as the server hears it).

It answers one question: could a reply be heard sooner after a turn judged finished very surely, without
more false cut-ins? Printed per path: the share of finished sentences and of first halves at or above
each probability. Usage: ``.venv/bin/python scripts/turn_end_probe.py`` (about a minute on 2 cores).

``--text``: the same question asked of the words instead, as a text end-of-turn detector would (LiveKit's
is a Qwen2.5-0.5B trained to predict the end of a turn): the bundled Qwen2.5-Coder-0.5B's probability that
the caller's message ends (``<|im_end|>`` next) after the whole sentence and after its first part, both
without their closing punctuation (whisper writes a full stop or a question mark on a first half too), and
after the whole sentence as written. Prints the quartiles of log10 of it and how often a whole sentence
scores above a first half (0.5: no better than chance).
"""

from __future__ import annotations

import math
import re
import sys

import numpy as np

from voiceagent.audio.pcm import FloatAudio
from voiceagent.bench.calls.pauses import pause_within
from voiceagent.bench.calls.script import builtin_scripts
from voiceagent.bench.calls.voices import RATE, VoiceBank, available_voices
from voiceagent.bench.stt import over_line
from voiceagent.engines import bundled
from voiceagent.engines.turn_end import SmartTurnModel

LEAD_S, SILENCE_S = 0.3, 0.128  # the preroll before a turn; the silence when the server asks
PAUSE_MS = 600
THRESHOLDS = (0.5, 0.9, 0.95, 0.98)


def as_heard(path: str, speech: FloatAudio) -> FloatAudio:
    """``speech`` with its lead-in and 128 ms of silence, as the server hears it on ``path``."""
    audio = np.concatenate([np.zeros(int(LEAD_S * RATE), np.float32), speech,
                            np.zeros(int(SILENCE_S * RATE), np.float32)])
    return over_line(path, audio)


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


_SYSTEM = "<|im_start|>system\nYou are the receptionist of a small business, answering the phone.<|im_end|>\n"


def text_end_probabilities() -> dict[str, list[float]]:
    """"whole", "first half" (closing punctuation removed) and "whole, as written" -> the bundled model's
    probability that the caller's message ends there."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(bundled.qwen_gguf()), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    end = llm.tokenize(b"<|im_end|>", add_bos=False, special=True)[0]

    def ends(text: str) -> float:
        llm.reset()
        llm.eval(llm.tokenize(f"{_SYSTEM}<|im_start|>user\n{text}".encode(), add_bos=False, special=True))
        logits = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float64)
        top = logits.max()
        return math.exp(logits[end] - top - math.log(np.exp(logits - top).sum()))

    def bare(text: str) -> str:
        return re.sub(r"[\s,.;:?!]+$", "", text.strip())

    out: dict[str, list[float]] = {"whole": [], "first half": [], "whole, as written": []}
    seen: set[str] = set()
    for script in builtin_scripts().values():
        for turn in script.turns.values():
            whole = " ".join(turn.parts) if turn.parts else turn.say
            if whole in seen:
                continue
            seen.add(whole)
            out["whole"].append(ends(bare(whole)))
            out["whole, as written"].append(ends(whole))
            if turn.parts:
                out["first half"].append(ends(bare(turn.parts[0])))
    return out


def print_text_table() -> None:
    """The ``--text`` figures."""
    found = text_end_probabilities()
    for kind, probs in found.items():
        logs = np.log10(np.maximum(probs, 1e-30))
        quartiles = " ".join(f"{q:5.1f}" for q in np.percentile(logs, [25, 50, 75]))
        print(f"{kind:18s} ({len(probs):3d})  log10 P(end) quartiles {quartiles}")
    whole, half = found["whole"], found["first half"]
    above = sum((w > h) + 0.5 * (w == h) for w in whole for h in half) / (len(whole) * len(half))
    print(f"a whole sentence scores above a first half: {above:.2f} of pairs")


def main() -> None:
    """Print the table."""
    if "--text" in sys.argv[1:]:
        print_text_table()
        return
    print("share of turns judged finished at or above: " + "  ".join(f">={t}" for t in THRESHOLDS))
    for (path, kind), probs in probabilities().items():
        shares = "  ".join(f"{sum(p >= t for p in probs) / len(probs):5.2f}" for t in THRESHOLDS)
        print(f"{path:9s} {kind:10s} ({len(probs):3d})  {shares}   median {float(np.median(probs)):.2f}")


if __name__ == "__main__":
    main()
