"""What the soak test reads from the server: /healthz (models) and /metrics (memory, active calls)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def http_base(ws_url: str) -> str:
    """``ws://host:port/ws`` -> ``http://host:port``."""
    scheme, rest = ws_url.split("://", 1)
    return ("https" if scheme == "wss" else "http") + "://" + rest.split("/", 1)[0]


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


async def health(base: str) -> dict[str, Any]:
    """The server's /healthz document."""
    return dict(json.loads(await asyncio.to_thread(_get, base + "/healthz")))


async def sample(base: str) -> dict[str, float]:
    """Resident memory (MB), active calls and counters of interest from /metrics."""
    text = (await asyncio.to_thread(_get, base + "/metrics")).decode()
    wanted = {
        "process_resident_memory_bytes": "rss_mb",
        "voiceagent_calls_active": "calls_active",
        "voiceagent_fillers_total": "fillers",
        "voiceagent_dropped_audio_frames_total": "dropped_audio_frames",
    }
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            key = wanted.get(item.name)
            if key is not None:
                out[key] = item.value / 1e6 if key == "rss_mb" else item.value
    return out
