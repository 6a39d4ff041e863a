"""Figures from the judged turns: per path and persona, recognition errors (WER, key-word error rate),
relevance (overall, by category, by position in the call, by kind of voice), real-reply latency,
filler rate and false cut-ins on paused turns; the JSON report and the terminal table."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from voiceagent.bench.calls.script import CATEGORIES
from voiceagent.bench.calls.textnorm import normalize
from voiceagent.bench.calls.wer import keyword_error_rate, word_error_rate
from voiceagent.bench.stats import percentile

TIMELINE_MARKS = ("endpoint", "stt_done", "llm_first_token", "first_clause", "tts_first_audio", "audio_out")
EARLY_TURNS = 5  # positions 1-5 are "early" in a call; later ones test whether relevance holds up
VOICE_KINDS = ("neural", "real", "formant")

Row = dict[str, Any]


def _share(rows: Sequence[Row], test: Callable[[Row], bool]) -> float | None:
    return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else None


def _rate(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)  # NaN (nothing to measure) -> None


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """Every figure for one group of turns."""
    latencies = [r["real_reply_ms"] for r in rows]
    summary: dict[str, Any] = {
        "turns": len(rows),
        "wer": _rate(word_error_rate([r["said"] for r in rows], [r["transcript"] for r in rows])),
        "keyword_error_rate": _rate(keyword_error_rate([r["keywords"] for r in rows], [r["transcript"] for r in rows])),
        "relevance": _share(rows, lambda r: bool(r["ok"])),
        "relevance_by_category": {c: _share([r for r in rows if r["category"] == c], lambda r: bool(r["ok"]))
                                  for c in CATEGORIES},
        "relevance_first_5": _share([r for r in rows if r["position"] <= EARLY_TURNS], lambda r: bool(r["ok"])),
        "relevance_later": _share([r for r in rows if r["position"] > EARLY_TURNS], lambda r: bool(r["ok"])),
        "real_reply_p50_ms": percentile(latencies, 50),
        "real_reply_p95_ms": percentile(latencies, 95),
        "filler_rate": _share(rows, lambda r: bool(r["filler"])),
        "repeat_rate": _share(rows, lambda r: bool(r["repeats_earlier"])),
        "unanswered": sum(1 for r in rows if r["real_reply_ms"] is None),
        **cut_ins(rows),
        "server_p50_ms": server_medians(rows),
        "ended_by": ended_by(rows),
    }
    summary["by_voice_kind"] = {
        kind: {"turns": len(sub), "relevance": _share(sub, lambda r: bool(r["ok"])),
               "wer": _rate(word_error_rate([r["said"] for r in sub], [r["transcript"] for r in sub])),
               "keyword_error_rate": _rate(keyword_error_rate([r["keywords"] for r in sub],
                                                              [r["transcript"] for r in sub]))}
        for kind in VOICE_KINDS if (sub := [r for r in rows if r["voice_kind"] == kind])
    }
    return summary


def server_medians(rows: Sequence[Row]) -> dict[str, float | None]:
    """Where the time of an answered turn went, by the server's clock: the median of each timeline mark
    (ms after the end of the caller's speech) and of each stage's duration and queue wait."""
    answered = [r for r in rows if r.get("outcome") == "answered"]
    out: dict[str, float | None] = {}
    for mark in TIMELINE_MARKS:
        out[mark] = percentile([r.get("server_timeline", {}).get(mark) for r in answered], 50)
    stages = [r.get("server_stages", {}) for r in answered]  # a report from before the field has none
    for name in sorted({k for s in stages for k in s}):
        out[f"stage:{name}"] = percentile([s.get(name) for s in stages], 50)
    return out


def ended_by(rows: Sequence[Row]) -> dict[str, dict[str, float | None]]:
    """What ended the answered turns (the server endpointer's reason: ``model``, ``unsure``, ``patient``
    ...), each with its count and the median and 95th percentile of the real reply: where the slow turns
    waited."""
    answered = [r for r in rows if r.get("outcome") == "answered" and r.get("end_of_turn")]
    out: dict[str, dict[str, float | None]] = {}
    for reason in sorted({str(r["end_of_turn"].get("reason")) for r in answered}):
        times = [r["real_reply_ms"] for r in answered if str(r["end_of_turn"].get("reason")) == reason]
        out[reason] = {"turns": len(times), "real_reply_p50_ms": percentile(times, 50),
                       "real_reply_p95_ms": percentile(times, 95)}
    return out


def cut_ins(rows: Sequence[Row]) -> dict[str, Any]:
    """False cut-ins: over the paused turns that were played (a failed call measured none), how many
    there were, the share where agent audio reached the caller mid-sentence, and the share the server
    cut into more than one turn."""
    paused = [r for r in rows if r.get("cut_in") is not None]
    return {"paused_turns": len(paused), "cut_in_rate": _share(paused, lambda r: bool(r["cut_in"])),
            "paused_split_rate": _share(paused, lambda r: bool(r.get("split")))}


def mark_repeats(rows: Sequence[Row]) -> None:
    """Set ``repeats_earlier`` on each turn whose reply the caller already heard earlier in the same call,
    word for word after normalisation (a small model's history taking over shows up here)."""
    heard: dict[tuple[str, str, str], set[str]] = {}
    for row in rows:
        earlier = heard.setdefault((row["persona"], row["path"], row["call"]), set())
        said = normalize(row["heard"])
        row["repeats_earlier"] = bool(said) and said in earlier
        earlier.add(said)


def build_report(rows: Sequence[Row], meta: dict[str, Any]) -> dict[str, Any]:
    """The report: run facts, a summary per persona and path, per path over all personas, and every turn."""
    mark_repeats(rows)
    groups: dict[str, Any] = {}
    for persona in dict.fromkeys(r["persona"] for r in rows):
        for path in dict.fromkeys(r["path"] for r in rows):
            sub = [r for r in rows if r["persona"] == persona and r["path"] == path]
            if sub:
                groups[f"{persona}/{path}"] = {"persona": persona, "path": path, **summarize(sub)}
    by_path = {path: summarize([r for r in rows if r["path"] == path]) for path in dict.fromkeys(r["path"] for r in rows)}
    return {**meta, "summary": groups, "by_path": by_path, "turns": list(rows)}


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.0f}%" if pct else f"{value:.0f}"


HEADER = (f"{'persona/path':28s}{'turns':>6s}{'WER':>6s}{'KER':>6s}{'relev':>7s}{'fact':>6s}{'oos':>6s}"
          f"{'unk':>6s}{'dlg':>6s}{'1-5':>6s}{'6+':>6s}{'p50':>7s}{'p95':>7s}{'filler':>7s}{'repeat':>7s}"
          f"{'paused':>7s}{'cut-in':>7s}")


def table_line(name: str, s: dict[str, Any]) -> str:
    """One row of the terminal table."""
    cat = s["relevance_by_category"]
    return (f"{name:28s}{s['turns']:>6d}{_fmt(s['wer'], True):>6s}{_fmt(s['keyword_error_rate'], True):>6s}"
            f"{_fmt(s['relevance'], True):>7s}{_fmt(cat['fact'], True):>6s}{_fmt(cat['out_of_scope'], True):>6s}"
            f"{_fmt(cat['unknown_fact'], True):>6s}{_fmt(cat['dialogue'], True):>6s}"
            f"{_fmt(s['relevance_first_5'], True):>6s}{_fmt(s['relevance_later'], True):>6s}"
            f"{_fmt(s['real_reply_p50_ms']):>7s}{_fmt(s['real_reply_p95_ms']):>7s}{_fmt(s['filler_rate'], True):>7s}"
            f"{_fmt(s['repeat_rate'], True):>7s}{s['paused_turns']:>7d}{_fmt(s['cut_in_rate'], True):>7s}")


def format_table(report: dict[str, Any]) -> str:
    """The summary table: one row per persona and path, then one per path, then per kind of voice."""
    lines = [HEADER]
    lines += [table_line(name, s) for name, s in report["summary"].items()]
    lines += [table_line(f"all/{path}", s) for path, s in report["by_path"].items()]
    lines.append("")
    lines.append("by kind of voice (all personas): WER / key-word error rate / relevance")
    for path, s in report["by_path"].items():
        kinds = "   ".join(f"{kind} {_fmt(v['wer'], True)}/{_fmt(v['keyword_error_rate'], True)}/"
                           f"{_fmt(v['relevance'], True)} ({v['turns']})" for kind, v in s["by_voice_kind"].items())
        lines.append(f"  {path:12s} {kinds}")
    lines.append("where the time went (server, answered turns, median ms after the end of speech):")
    for path, s in report["by_path"].items():
        marks = s.get("server_p50_ms", {})
        lines.append(f"  {path:12s} " + "  ".join(f"{k.removeprefix('stage:')} {_fmt(v)}" for k, v in marks.items()))
    lines.append("what ended the answered turns: turns, real reply p50/p95 ms")
    for path, s in report["by_path"].items():
        ends = s.get("ended_by", {})
        lines.append(f"  {path:12s} " + "   ".join(
            f"{reason} {v['turns']} ({_fmt(v['real_reply_p50_ms'])}/{_fmt(v['real_reply_p95_ms'])})" for reason, v in ends.items()))
    lines.append("WER, KER: speech recognition; relev: share of turns passing every rule (fact, oos = out of scope, "
                 "unk = unknown fact, dlg = dialogue step; 1-5 / 6+: position in the call); p50/p95: real reply "
                 "at the client, ms; filler: share of turns with a filler; repeat: share of replies the caller had "
                 "already heard in the call, word for word; paused: turns spoken with a mid-sentence pause; cut-in: "
                 "share of those where agent audio reached the caller before they finished the sentence")
    return "\n".join(lines)
