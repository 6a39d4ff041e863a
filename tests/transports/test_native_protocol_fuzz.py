"""Any text or bytes a client sends either parses or raises ProtocolError with a known code: nothing else."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.transports.native_protocol import ProtocolError, Start, Stop, check_audio, parse_text

CODES = {"bad_json", "unknown_type", "bad_message", "unsupported_sample_rate"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def check(text: str) -> None:
    try:
        message = parse_text(text)
    except ProtocolError as exc:
        assert exc.code in CODES and exc.message
    else:
        assert isinstance(message, Start | Stop)


@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    check(text)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["type", "sample_rate", "persona", "prompt", "token", "x"]), json_values))
def test_arbitrary_json_objects(data: dict[str, object]) -> None:
    if "type" in data and not isinstance(data["type"], str):
        data["type"] = "start"
    check(json.dumps(data))


def test_deeply_nested_json() -> None:
    check("[" * 100_000 + "]" * 100_000)


@given(st.binary(max_size=300))
def test_arbitrary_audio_frames(data: bytes) -> None:
    try:
        check_audio(data, 256)
    except ProtocolError as exc:
        assert exc.code in {"odd_length", "frame_too_large"}
