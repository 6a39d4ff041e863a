"""Settings and per-stage latency budgets.

Precedence, lowest first: defaults < TOML file < environment (``VOICEAGENT_*``) < command-line flags.
Every option is a field of :class:`Settings` (or of :class:`Budgets`, under ``[budgets]`` in TOML and
``VOICEAGENT_BUDGET_*`` in the environment), so the documentation of an option is its field comment.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

LlmBackend = Literal["llama_cpp", "ollama", "openai"]
PROFILE_NAMES = ("cpu", "gpu")

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_PROMPTS_DIR = PACKAGE_ROOT / "prompts"  # package data: present in an installed wheel too


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


@dataclasses.dataclass(frozen=True, slots=True)
class Budgets:
    """Per-stage latency budgets in milliseconds. A stage past its budget emits a budget event."""

    endpoint_ms: int = 300  # last voiced sample -> end of turn detected
    stt_ms: int = 450  # transcription of the turn
    llm_first_token_ms: int = 250  # request sent -> first token
    tts_first_audio_ms: int = 150  # first clause ready -> its audio synthesised
    turn_ms: int = 1000  # last voiced sample -> first agent audio out; past it a filler plays


BUDGET_PROFILES: dict[str, Budgets] = {
    # Two CPU cores with the bundled models (see DESIGN.md for the measurements behind these).
    "cpu": Budgets(),
    # One GPU: whisper and the model are several times faster; the endpointing wait dominates.
    "gpu": Budgets(endpoint_ms=300, stt_ms=120, llm_first_token_ms=120, tts_first_audio_ms=100, turn_ms=700),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Everything that can be configured. Field comments are the option documentation."""

    # Server
    host: str = "127.0.0.1"  # address to listen on
    port: int = 8765  # TCP port to listen on
    # Language model
    llm: LlmBackend = "llama_cpp"  # llama_cpp (embedded), ollama, or openai (any OpenAI-compatible server)
    model: str = ""  # llama_cpp: "qwen2.5-0.5b" (bundled), "smollm2-135m" or a .gguf path; else a model name
    llm_url: str = ""  # ollama: host (default http://127.0.0.1:11434); openai: base URL ending in /v1
    llm_api_key: str = ""  # openai: API key, if the server wants one
    llm_fallback: bool = False  # ollama/openai: when the server fails, the embedded model (llama_cpp) answers
    llm_fallback_model: str = ""  # the embedded fallback: a bundled name or .gguf path ("" = the default)
    llm_fallback_after_s: float = 2.0  # no first token from the server within this long: use the fallback
    llm_threads: int = 2  # llama_cpp: CPU threads
    llm_context: int = 2048  # llama_cpp: context window in tokens
    llm_batch_threads: int = 0  # llama_cpp: CPU threads for prompt evaluation (0 = llm_threads)
    llm_seed: int = 7  # sampling seed, so a conversation gets the same reply (openai: if the server honours it)
    llm_top_k: int = 40  # llama_cpp, ollama: sample from the k likeliest tokens only (0 = all)
    llm_state_cache_mb: int = 64  # llama_cpp: RAM for saved prompt states (each persona's and call's prefix); 0: none
    llm_parallel: int = 0  # llama_cpp: replies decoded together, one KV sequence each (0 = one request at a time)
    llm_prompt_chunk: int = 32  # llama_cpp with llm_parallel: prompt tokens per step beside a reply still on its first clause
    llm_saved_prompts: bool = True  # llama_cpp: keep warmed persona prompts' states in the cache folder for the next start
    llm_keep_alive: str = "30m"  # ollama: how long the server keeps the model loaded after a request
    max_reply_tokens: int = 64  # longest reply, in tokens: phone answers are short
    max_reply_sentences: int = 2  # the reply is cut after this many sentences (small models ramble)
    temperature: float = 0.3  # sampling temperature
    history_turns: int = 8  # caller/agent exchanges kept in the model's context per call (past it, the older half is dropped at once)
    grounding: bool = True  # put the persona's facts that match the caller's words beside the question
    reply_check: bool = True  # check each clause against the facts before speaking it; say the facts instead
    fact_answers: bool = True  # a question the facts answer whole is answered from them, without the model
    unknown_answers: bool = True  # a question about a thing no fact mentions gets the dont_know line, without the model
    thanks_answers: bool = True  # a caller who only thanks is told "you're welcome", one who also says goodbye is said goodbye to (the call ends), without the model
    # Speech-to-text
    stt_model: str = "tiny.en"  # "tiny.en" (bundled) or a CTranslate2 model directory
    stt_device: str = "cpu"  # cpu or cuda
    stt_compute_type: str = "int8"  # CTranslate2 compute type (int8, int8_float32, float16 ...)
    stt_threads: int = 2  # CPU threads for whisper
    stt_retry_loops: bool = True  # decode once more (sampled) when whisper's text loops ("no, no, no, ...")
    stt_beam_size: int = 1  # whisper's beam search width (1: greedy)
    stt_vocabulary: bool = True  # the recogniser first reads the persona's greeting, services and hours (whisper's initial prompt)
    stt_window_s: float = 10.0  # whisper's encoder window: a turn is padded to it, not to 30 s (0: 30 s)
    stt_denoise: float = 0.7  # background noise taken down before recognition (spectral gating; 0: off, 1: removed)
    # Text-to-speech
    tts_voice: str = "en_US-joe-medium"  # bundled voice name, or a piper .onnx path
    tts_threads: int = 1  # CPU threads for piper
    tts_cache_mb: int = 32  # audio of clauses said before, kept by text and shared by calls (0: off)
    # Voice activity and turn taking
    vad_threshold: float = 0.5  # speech probability that counts as speech
    min_speech_ms: int = 96  # speech this long starts a caller turn
    endpoint_silence_ms: int = 256  # silence this long ends a caller turn (without an end-of-turn model, or when it fails)
    turn_model: str = "smart-turn-v3.2"  # end of turn by meaning: "smart-turn-v3.2" (bundled), an ONNX path, "" = off
    turn_min_silence_ms: int = 128  # silence this long asks the end-of-turn model whether the caller has finished
    turn_max_silence_ms: int = 800  # judged unfinished (or no answer yet): the turn ends after this much silence anyway
    turn_complete_threshold: float = 0.5  # the model's probability of "finished" at or above which the turn ends at once
    turn_question_threshold: float = 0.9  # while a number or a message is awaited, a question judged finished this surely ends the turn at once
    turn_unsure_ends: bool = True  # judged unfinished, a turn ends at once all the same: its reply is made meanwhile and heard only after turn_max_silence_ms of silence
    reply_not_before_ms: int = 700  # a turn ended early is not answered aloud before this much silence after the caller's last word, at most turn_max_silence_ms (the reply is made meanwhile; 0: off)
    partial_answer_hold: bool = True  # a turn ended early that gives part of what the action desk asked for waits for turn_max_silence_ms
    dictation_silence_ms: int = 1200  # while the message itself is awaited, only this much silence ends a turn
    turn_threads: int = 1  # CPU threads for the end-of-turn model
    speculate_after_ms: int = 64  # silence this long starts a speculative transcription
    barge_in_ms: int = 192  # caller speech this long while the agent talks interrupts it
    ask_again_after_s: float = 1.5  # the caller spoke, no words were heard, then this long passed quietly: the agent asks them to say it again (0: it stays silent)
    continue_audio_s: float = 2.0  # a caller going on this soon after their words, before any reply, has both parts transcribed together (later: the words are joined as text)
    continue_window_ms: int = 600  # a caller starting again this soon after a reply began was not finished: it is taken back (0: off)
    max_utterance_s: float = 20.0  # a caller turn is cut here and answered
    overlap: bool = True  # False runs the stages strictly in sequence (for comparison in benchmarks)
    # Call
    persona: str = "receptionist"  # default persona (a file in prompts_dir)
    prompts_dir: str = str(DEFAULT_PROMPTS_DIR)  # folder of persona TOML files (default: the bundled ones)
    records_dir: str = "calls"  # where per-call JSON-lines records are written ("" disables them)
    retention_days: int = 0  # delete call records, messages and past appointments older than this, hourly (0: keep)
    redact: bool = False  # write [phone] and [name] for phone numbers and names in call records and logs
    dtmf_gap_ms: int = 800  # keypad digits pressed closer together than this become one turn
    filler_grace_ms: int = 700  # a filler waits this much past the turn deadline when the caller's words are already in
    engine_timeout_s: float = 8.0  # an engine silent this long is treated as dead: the caller hears an apology
    # Actions (bookings, messages, transfer, hanging up)
    actions_db: str = "voiceagent.db"  # SQLite file of appointments and messages (the embedded action backend)
    webhook_secret: str = ""  # shared secret: webhook requests carry an HMAC-SHA256 signature made with it
    webhook_timeout_s: float = 3.0  # a webhook that has not answered in this long has failed (a spoken fallback)
    webhook_retries: int = 2  # retries of a failed webhook call, for idempotent actions only
    transfer_to: str = ""  # where transfer_to_human sends the caller (phone number or SIP URI), unless the persona says
    twilio_account_sid: str = ""  # /twilio transfers: the account that owns the calls (Twilio's REST API)
    twilio_auth_token: str = ""  # /twilio transfers: that account's auth token
    twilio_api_base: str = "https://api.twilio.com"  # Twilio's REST API (a stand-in server in tests)
    # Telephony
    audiosocket_port: int = 0  # TCP port for Asterisk AudioSocket connections (0: not served)
    sip_port: int = 5060  # voiceagent sip: UDP port for SIP
    sip_rtp_port: int = 40000  # voiceagent sip: first RTP port
    sip_public_address: str = ""  # voiceagent sip: address put in SDP/Contact (NAT); default: the bound one
    sip_registrar: str = ""  # voiceagent sip: register here, e.g. "sip:pbx.example.com" ("" answers direct calls only)
    sip_user: str = ""  # voiceagent sip: account user for registration (the AOR is sip:USER@registrar host)
    sip_password: str = ""  # voiceagent sip: account password (digest auth)
    # Security
    auth_token: str = ""  # clients must present it (Authorization: Bearer, ?token=, or 'token' in start/TwiML)
    insecure: bool = False  # allow serving on a non-loopback address without a token (not recommended)
    allowed_origins: str = ""  # comma list of browser origins allowed to open WebSockets ("" = same origin only)
    tls_cert: str = ""  # PEM certificate: serve wss:// and https:// (else put a TLS reverse proxy in front)
    tls_key: str = ""  # PEM private key for tls_cert
    # Limits
    max_calls: int = 8  # concurrent calls; the next caller is refused (WebSocket close 1013, SIP 486)
    admit_reply_p95_ms: float = 0.0  # refuse new calls while the last minute's real replies have a p95 above this (0: off)
    max_call_s: float = 3600.0  # a call is ended after this long
    idle_timeout_s: float = 60.0  # a call with no caller audio for this long is ended
    input_burst_s: float = 2.0  # caller audio may run this far ahead of real time; more is dropped
    input_abuse_s: float = 10.0  # a caller this far ahead of real time is cut off
    shutdown_grace_s: float = 30.0  # on SIGTERM, calls in progress get this long to finish
    max_frame_bytes: int = 65536  # largest binary audio frame accepted (larger ones get an error event)
    max_message_bytes: int = 1048576  # larger WebSocket messages close the connection (1009)
    trim_memory: bool = True  # after each call, give the memory it freed back to the system (glibc malloc_trim)
    malloc_mmap_threshold_kb: int = 0  # glibc: blocks this large or larger get their own mapping, freed at once (0: glibc's sliding default)
    malloc_arena_max: int = 0  # glibc: at most this many malloc arenas (0: glibc's default, eight per core)
    inbound_queue_frames: int = 200  # caller audio frames buffered per call; the oldest are dropped past it
    outbox_bytes: int = 262144  # what waits to be sent per connection; past it the oldest agent audio is dropped
    send_stall_s: float = 10.0  # a peer that takes longer than this over one write has stopped reading: cut off
    send_buffer_bytes: int = 65536  # kernel send buffer per connection (SO_SNDBUF; 0: the system's, up to 4 MB)
    # Output
    out_frame_ms: int = 20  # agent audio frame length sent to the client
    playback_lead_ms: int = 120  # how far ahead of real time agent audio is sent
    # Budgets
    profile: str = "cpu"  # budget profile: cpu or gpu
    budgets: Budgets = dataclasses.field(default_factory=Budgets)

    def describe(self) -> dict[str, Any]:
        """The effective settings as plain data (for logs and ``voiceagent config``); secrets masked."""
        data = dataclasses.asdict(self)
        for key in ("auth_token", "llm_api_key", "sip_password", "webhook_secret", "twilio_auth_token"):
            if data[key]:
                data[key] = "***"
        return data


SUPPORTED_SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)


def _coerce(name: str, annotation: Any, value: Any) -> Any:
    """Convert a raw TOML, environment or flag value to the field's type, or raise ConfigError."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        if value not in typing.get_args(annotation):
            raise ConfigError(f"{name}: {value!r} is not one of {typing.get_args(annotation)}")
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: {value!r} is not a boolean")
    if annotation in (int, float, str):
        try:
            return annotation(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name}: {value!r} is not a {annotation.__name__}") from exc
    raise ConfigError(f"{name}: unsupported option type {annotation!r}")


def _apply(cls: type[Any], base: Any, values: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown option {key!r}")
        changes[key] = _coerce(f"{where}.{key}", hints[key], raw)
    return dataclasses.replace(base, **changes)


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the effective settings: defaults < TOML file < environment < ``overrides`` (flags).

    Budgets start from the chosen profile; ``[budgets]`` keys, ``VOICEAGENT_BUDGET_<STAGE>_MS`` and
    ``budget_<stage>_ms`` overrides replace single stages. Raises ConfigError on a bad value.
    """
    env = os.environ if env is None else env
    config_file = config_file or env.get("VOICEAGENT_CONFIG") or None
    file_values: dict[str, Any] = {}
    if config_file:
        try:
            file_values = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    budget_values: dict[str, Any] = dict(file_values.pop("budgets", {}) or {})

    env_values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        key = f"VOICEAGENT_{field.name.upper()}"
        if field.name != "budgets" and key in env:
            env_values[field.name] = env[key]
    for field in dataclasses.fields(Budgets):
        key = f"VOICEAGENT_BUDGET_{field.name.upper()}"
        if key in env:
            budget_values[field.name] = env[key]

    flag_values = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in list(flag_values):
        if key.startswith("budget_"):
            budget_values[key.removeprefix("budget_")] = flag_values.pop(key)

    settings = Settings()
    settings = _apply(Settings, settings, file_values, "config file")
    settings = _apply(Settings, settings, env_values, "environment")
    settings = _apply(Settings, settings, flag_values, "flags")
    if settings.profile not in BUDGET_PROFILES:
        raise ConfigError(f"profile: {settings.profile!r} is not one of {PROFILE_NAMES}")
    budgets = _apply(Budgets, BUDGET_PROFILES[settings.profile], budget_values, "budgets")
    result: Settings = dataclasses.replace(settings, budgets=budgets)
    if bool(result.tls_cert) != bool(result.tls_key):
        raise ConfigError("tls_cert and tls_key go together")
    if result.max_calls < 1:
        raise ConfigError("max_calls must be at least 1")
    if result.turn_model and not 0 < result.turn_min_silence_ms <= result.turn_max_silence_ms:
        raise ConfigError("turn_min_silence_ms must be above 0 and at most turn_max_silence_ms")
    if not 0 <= result.turn_question_threshold <= 1 or not 0 <= result.turn_complete_threshold <= 1:
        raise ConfigError("turn_complete_threshold and turn_question_threshold are probabilities, from 0 to 1")
    if result.reply_not_before_ms < 0:
        raise ConfigError("reply_not_before_ms must be 0 (off) or more")
    if result.retention_days < 0:
        raise ConfigError("retention_days must be 0 (keep everything) or more")
    if result.tts_cache_mb < 0:
        raise ConfigError("tts_cache_mb must be 0 (off) or more")
    if result.stt_beam_size < 1 or not 0 <= result.stt_window_s <= 30:
        raise ConfigError("stt_beam_size must be at least 1 and stt_window_s from 0 to 30 (seconds)")
    if result.llm_parallel < 0 or result.llm_prompt_chunk < 0:
        raise ConfigError("llm_parallel must be 0 (one request at a time) or more, llm_prompt_chunk 0 or more")
    if result.dictation_silence_ms < 0:
        raise ConfigError("dictation_silence_ms must be 0 (the longest wait of any turn) or more")
    if not 0 <= result.stt_denoise <= 1:
        raise ConfigError("stt_denoise must be from 0 (off) to 1 (noise removed)")
    return result
