"""faster-whisper on the bundled tiny.en: greedy decoding, with one sampled retry when the text loops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import recording
from voiceagent.client import load_audio
from voiceagent.engines import bundled
from voiceagent.engines.whisper import WhisperTranscriber

pytestmark = pytest.mark.slow


def _transcriber(**options: Any) -> WhisperTranscriber:
    return WhisperTranscriber(bundled.whisper_dir("tiny.en"), device="cpu", compute_type="int8", threads=2,
                              label="tiny.en", **options)


def _options_given(stt: WhisperTranscriber) -> dict[str, Any]:
    given: dict[str, Any] = {}
    real = stt._model.transcribe

    def spy(audio: Any, **options: Any) -> Any:
        given.update(options)
        return real(audio, **options)

    stt._model.transcribe = spy  # type: ignore[method-assign]
    stt.transcribe_blocking(np.zeros(16000, dtype=np.float32))
    return given


def test_a_looping_text_is_decoded_again_only_on_its_compression_ratio() -> None:
    given = _options_given(_transcriber())
    assert given["temperature"] == [0.0, 0.4] and given["compression_ratio_threshold"] == 2.4
    assert given["log_prob_threshold"] is None  # noisy phone audio has a low log-probability on most turns
    assert given["beam_size"] == 1


def test_a_decode_writes_no_more_than_its_audio_can_hold() -> None:
    """A greedy loop once ran to whisper's 448 tokens (1.3 to 2.7 s) before its retry; a second of audio
    now allows 20 tokens, and the longest turn stays within whisper's room beside the prompt."""
    from voiceagent.engines.whisper import MAX_DECODE_TOKENS, max_new_tokens

    assert _options_given(_transcriber())["max_new_tokens"] == max_new_tokens(1.0) == 20
    assert max_new_tokens(2.5) == 38 and max_new_tokens(60) == MAX_DECODE_TOKENS <= 448 - 228


def test_a_clause_a_loop_said_twice_in_a_row_is_kept_once() -> None:
    from voiceagent.engines.whisper import drop_repeats

    assert drop_repeats("Where is the coverage? Where is the coverage?") == "Where is the coverage?"
    assert drop_repeats("It is, it is.") == "It is."
    assert drop_repeats("Thank you, thank you, thank you so much.") == "Thank you, thank you so much."
    assert drop_repeats("No, no, no.") == "No, no, no."  # one word: said so
    assert drop_repeats("5 5 5, 5 5 5, 0 1 2 3.") == "5 5 5, 5 5 5, 0 1 2 3."  # a number's groups
    assert drop_repeats("Yes. Yes, my name is Grace.") == "Yes. Yes, my name is Grace."
    assert drop_repeats("...") == "..." and drop_repeats(" $5.50, please ") == " $5.50, please "  # untouched


def test_the_loop_a_decode_was_cut_in_is_said_once() -> None:
    stt = _transcriber()
    stt._decode = lambda audio, prompt: ("Where is the garage? Where is the garage? Where is the", -0.2)  # type: ignore[method-assign]
    assert stt.transcribe_blocking(np.zeros(32000, dtype=np.float32), "a prompt") == "Where is the garage? Where is the"


def test_without_retries_the_text_is_greedy_once() -> None:
    given = _options_given(_transcriber(retry_loops=False))
    assert given["temperature"] == 0.0 and "compression_ratio_threshold" not in given


def _frames_encoded(stt: WhisperTranscriber, audio: np.ndarray) -> tuple[list[int], str]:
    frames: list[int] = []
    real = stt._model.encode

    def spy(features: Any, *args: Any, **kwargs: Any) -> Any:
        frames.append(int(features.shape[-1]))
        return real(features, *args, **kwargs)

    stt._model.encode = spy  # type: ignore[method-assign]
    return frames, stt.transcribe_blocking(audio)


def test_a_shorter_encoder_window_pads_a_turn_to_it_and_hears_the_same_words() -> None:
    """whisper pads every turn to 30 s of features; with ``window_s`` the encoder sees a turn padded to
    that window instead (a longer turn padded by 2 s), and the words come out the same."""
    speech = load_audio(recording("jfk.flac"), 16000)  # 11 s
    whole_frames, whole = _frames_encoded(_transcriber(), speech[: 16000 * 4])
    short_frames, short = _frames_encoded(_transcriber(window_s=10), speech[: 16000 * 4])
    assert whole_frames == [3000] and short_frames == [1000]
    assert short == whole and "fellow Americans" in short
    long_frames, _ = _frames_encoded(_transcriber(window_s=10), speech)
    assert 1100 < long_frames[0] < 1400 and long_frames[0] % 2 == 0  # longer than the window: 2 s more


def test_beam_width_is_passed_to_whisper() -> None:
    assert _options_given(_transcriber(beam_size=3))["beam_size"] == 3


def test_the_personas_words_steer_the_recogniser_and_silence_stays_silent() -> None:
    """The prompt is whisper's initial prompt: a sentence the voice slurs comes out in the persona's
    words with it, and silence, noise or mains hum still give no text (none of the prompt is written out)."""
    from pathlib import Path

    from tests.speech import espeak
    from voiceagent.personas import load_persona
    from voiceagent.personas.render import recognition_prompt

    dental = load_persona(Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "receptionist.toml")
    assert dental.business is not None
    prompt = recognition_prompt(dental.business, dental.greeting)
    stt = _transcriber()
    asked = espeak("I'd like to book a check up on Friday", 16000)
    assert "check-up on friday" not in stt.transcribe_blocking(asked).lower()
    assert "book a check-up on friday" in stt.transcribe_blocking(asked, prompt).lower()
    rng = np.random.default_rng(1)
    seconds = np.arange(32000) / 16000
    for quiet in (np.zeros(32000), 0.05 * rng.standard_normal(32000), 0.1 * np.sin(2 * np.pi * 50 * seconds)):
        assert stt.transcribe_blocking(quiet.astype(np.float32), prompt) == ""
    assert _options_given(stt)["initial_prompt"] is None  # no prompt given: none passed


def test_the_noise_front_end_gates_what_the_model_hears_and_a_clean_voice_keeps_its_words() -> None:
    """With ``denoise`` the model gets the turn with its background taken down (the caller's voice
    activity and end of turn are judged on the line as it is); a clean recording is heard the same."""
    from tests.speech import words
    from voiceagent.bench.calls.line import pink_noise

    whole = load_audio(recording("jfk.flac"), 16000)  # 11 s, cut at no word
    plain, gated = _transcriber(), _transcriber(denoise=0.7)
    assert words(gated.transcribe_blocking(whole)) == words(plain.transcribe_blocking(whole))
    speech = whole[: 16000 * 4]
    noisy = np.concatenate([np.zeros(16000, dtype=np.float32), speech])
    noisy = (noisy + 0.02 * pink_noise(len(noisy) / 16000, 16000, seed=1)[: len(noisy)]).astype(np.float32)
    heard: list[np.ndarray] = []
    real = gated._model.transcribe

    def spy(audio: Any, **options: Any) -> Any:
        heard.append(np.asarray(audio))
        return real(audio, **options)

    gated._model.transcribe = spy  # type: ignore[method-assign]
    assert "fellow american" in gated.transcribe_blocking(noisy).lower()
    lead_in = heard[0][:16000]
    assert np.sqrt(np.mean(lead_in**2)) < 0.5 * np.sqrt(np.mean(noisy[:16000] ** 2))  # the background, taken down


def test_a_decode_the_prompt_ended_after_one_word_is_done_again_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the plumber's prompt, tiny.en hears a fast piper voice's "Could a plumber come round on
    Sunday?" as "Good" (at a log-probability of about -1) and stops: far too few words for the speech.
    It is decoded again without the prompt, and the longer text is kept."""
    from pathlib import Path

    from voiceagent.bench.calls.callers import path_audio
    from voiceagent.bench.calls.voices import Voice, VoiceBank
    from voiceagent.engines import whisper
    from voiceagent.personas import load_persona
    from voiceagent.personas.render import call_recognition_prompt

    plumber = load_persona(Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "plumber.toml")
    prompt = call_recognition_prompt(plumber, True)
    speech = path_audio("wideband", VoiceBank().speech(Voice("piper-joe-fast", "neural", length_scale=0.85),
                                                       "Could a plumber come round on Sunday?"))
    audio = np.concatenate([np.zeros(4000, np.float32), speech, np.zeros(8000, np.float32)])  # as a turn ends
    stt = _transcriber(denoise=0.7)
    assert "sunday" in stt.transcribe_blocking(audio, prompt).lower()
    monkeypatch.setattr(whisper, "LOW_LOGPROB", -100.0)  # never decoded again
    assert stt.transcribe_blocking(audio, prompt).rstrip(".") == "Good"


def test_a_turn_the_prompted_decode_hears_as_silence_is_decoded_again_without_the_prompt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone "six" on a phone line, read after the persona's prompt, once came back as no speech (its only
    segment dropped as such after a sampled retry): the caller was asked to say it again."""
    stt = _transcriber()
    asked: list[str] = []

    def decode(audio: object, prompt: str) -> tuple[str, float]:
        asked.append(prompt)
        return ("", 0.0) if prompt else ("6", -0.3)

    monkeypatch.setattr(stt, "_decode", decode)
    turn = np.zeros(16000, np.float32)
    assert stt.transcribe_blocking(turn, "Bright Smile Dental") == "6" and asked == ["Bright Smile Dental", ""]
    asked.clear()
    monkeypatch.setattr(stt, "_decode", lambda audio, prompt: (asked.append(prompt), ("", 0.0))[1])
    assert stt.transcribe_blocking(turn, "") == "" and asked == [""]  # no prompt: nothing to leave out


def test_a_short_text_counts_as_stopped_early_only_for_long_speech() -> None:
    from voiceagent.engines.whisper import stopped_early, word_count

    assert word_count("555-0263.") == 7 and word_count("Yes, it's Grace Miller.") == 4
    assert stopped_early("Good", 1.2) and not stopped_early("Could a plumber come round on Sunday?", 1.2)
    assert not stopped_early("Yes.", 0.5)  # a one-word answer is short speech


def test_a_text_too_long_for_its_audio_is_the_prompt_read_back() -> None:
    from voiceagent.engines.whisper import too_long

    looped = "5 pm, Friday 9 am to 6 pm, " + "Friday 9 am to 6 pm, " * 12
    assert too_long(looped, 3.5)  # a phone number's few seconds cannot hold 80 words
    assert not too_long("5 5 5 0 3 4 8.", 3.5)  # seven digits, said slowly or fast
    assert not too_long("Could a plumber come round on Sunday?", 1.2)
    assert not too_long("Yes.", 0.2)


def test_a_decode_far_too_long_for_its_audio_is_done_again_without_the_prompt() -> None:
    """A caller's phone number once came out as the persona's hours, looped (192 words from a few seconds
    of digits on the phone line). The decode is repeated without the prompt and the shorter text kept; a
    decode of the right length is never repeated."""
    stt = _transcriber()
    looped = "5 pm, Friday 9 am to 6 pm, " + "Friday 9 am to 6 pm, " * 30
    asked: list[str] = []

    def decode(audio: np.ndarray, prompt: str) -> tuple[str, float]:
        asked.append(prompt)
        return (looped if prompt else "5 5 5 0 3 4 8."), -0.3

    stt._decode = decode  # type: ignore[method-assign]
    four_seconds = np.zeros(64000, dtype=np.float32)
    assert stt.transcribe_blocking(four_seconds, "Silver Birch Hair Studio. Friday 9 am to 6 pm.") == "5 5 5 0 3 4 8."
    assert asked == ["Silver Birch Hair Studio. Friday 9 am to 6 pm.", ""]
    asked.clear()
    assert stt.transcribe_blocking(np.zeros(16000 * 60, dtype=np.float32), "a prompt") == looped  # a minute can hold it
    assert asked == ["a prompt"]
