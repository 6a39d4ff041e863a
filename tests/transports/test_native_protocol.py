import pytest

from voiceagent.transports.native_protocol import ProtocolError, Start, Stop, check_audio, parse_text


def code_of(text: str) -> str:
    with pytest.raises(ProtocolError) as info:
        parse_text(text)
    return info.value.code


def test_start_and_stop() -> None:
    assert parse_text('{"type": "start", "sample_rate": 8000, "persona": "assistant"}') == Start(8000, "assistant")
    assert parse_text('{"type": "start"}') == Start(16000)
    assert parse_text('{"type": "stop"}') == Stop()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"no": "type"}', "unknown_type"),
        ('{"type": "start", "sample_rate": 11025}', "unsupported_sample_rate"),
        ('{"type": "start", "sample_rate": "16000"}', "bad_message"),
        ('{"type": "start", "sample_rate": true}', "bad_message"),
        ('{"type": "start", "persona": 5}', "bad_message"),
    ],
)
def test_bad_messages_have_codes(text: str, code: str) -> None:
    assert code_of(text) == code


def test_audio_frames() -> None:
    check_audio(b"\x00\x01" * 10, 100)
    with pytest.raises(ProtocolError) as odd:
        check_audio(b"\x00" * 3, 100)
    assert odd.value.code == "odd_length"
    with pytest.raises(ProtocolError) as big:
        check_audio(b"\x00" * 102, 100)
    assert big.value.code == "frame_too_large"
