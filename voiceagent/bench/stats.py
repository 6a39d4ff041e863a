"""Percentiles and trends for the benchmark and soak reports (numpy's linear-interpolation percentiles).

Values are milliseconds; results are rounded to 0.1 ms, and None stands where there were no values, so
every report stays plain JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of the values that are not None; None if there are none."""
    kept = [v for v in values if v is not None]
    return round(float(np.percentile(kept, q)), 1) if kept else None


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of ``values`` (None where there are none)."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    data = np.asarray(values, dtype=np.float64)
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    return {"count": len(data), "p50": round(float(p50), 1), "p95": round(float(p95), 1),
            "p99": round(float(p99), 1), "max": round(float(data.max()), 1), "mean": round(float(data.mean()), 1)}


def slope_per_hour(times_s: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of ``values`` against time, per hour (None with fewer than 3 points)."""
    if len(times_s) < 3 or max(times_s) - min(times_s) <= 0:
        return None
    slope = float(np.polyfit(np.asarray(times_s, dtype=np.float64), np.asarray(values, dtype=np.float64), 1)[0])
    return round(slope * 3600, 2)


def real_reply_ms(first_audio_ms: float | None, *, filler: bool, server_turn_ms: float | None,
                  server_reply_ms: float | None) -> float | None:
    """Client-side time to the first audio of the real reply (a filler is not an answer): the first audio
    the caller received, plus the server's own gap between its first audio (a filler, when one played)
    and the reply's first audio. None when no real reply was heard."""
    if first_audio_ms is None or server_reply_ms is None:
        return None
    if filler and server_turn_ms is not None:
        return first_audio_ms + max(0.0, server_reply_ms - server_turn_ms)
    return first_audio_ms
