"""Recognition errors: word error rate (``jiwer``, on normalised text) and key-word error rate (the share
of a turn's fact-carrying words that the recogniser lost)."""

from __future__ import annotations

from collections.abc import Sequence

import jiwer

from voiceagent.bench.calls.textnorm import contains, normalize


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus word error rate over paired sentences, both normalised the same way (an empty reference
    is skipped: it has no words to get wrong)."""
    pairs = [(normalize(r), normalize(h)) for r, h in zip(references, hypotheses, strict=True)]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        return float("nan")
    return float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]))


def keywords_missed(keywords: Sequence[str], hypothesis: str) -> int:
    """How many of ``keywords`` do not occur (as normalised whole words) in ``hypothesis``."""
    heard = normalize(hypothesis)
    return sum(1 for k in keywords if normalize(k) and not contains(heard, k))


def keyword_error_rate(keywords: Sequence[Sequence[str]], hypotheses: Sequence[str]) -> float:
    """Share of all key words, over paired turns, that the recogniser lost."""
    total = sum(len([k for k in ks if normalize(k)]) for ks in keywords)
    if not total:
        return float("nan")
    missed = sum(keywords_missed(ks, h) for ks, h in zip(keywords, hypotheses, strict=True))
    return missed / total
