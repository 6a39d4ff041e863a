"""Load every engine once per process, warm them, and hand them to calls."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import numpy as np

from voiceagent.config import Settings
from voiceagent.engines import bundled
from voiceagent.engines.llm import ChatEngine, EngineError
from voiceagent.engines.piper import PiperSynthesizer
from voiceagent.engines.whisper import WhisperTranscriber
from voiceagent.personas import Persona, load_personas
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.pipeline.registry import CallRegistry
from voiceagent.stages.vad import SileroModel

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class Engines:
    """The shared engines and the personas, loaded once and shared by every call."""

    vad: SileroModel
    stt: WhisperTranscriber
    llm: ChatEngine
    tts: PiperSynthesizer
    personas: dict[str, Persona]
    phrases: PhraseBank
    calls: CallRegistry = dataclasses.field(default_factory=lambda: CallRegistry(8))  # calls in progress

    def models(self) -> dict[str, str]:
        """Which model each stage runs (for logs and the ready event)."""
        return {"vad": "silero_vad_v6", "stt": self.stt.label, "llm": self.llm.label, "tts": self.tts.label}

    async def close(self) -> None:
        """Release the engines."""
        await self.llm.close()
        self.stt.worker.close()
        self.tts.worker.close()


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


def _embedded(settings: Settings, model: str) -> ChatEngine:
    from voiceagent.engines.llama_cpp import LlamaCppEngine

    path = bundled.gguf_path(model)
    label = f"llama_cpp:{model or bundled.DEFAULT_LLM}"
    return LlamaCppEngine(path, threads=settings.llm_threads, context=settings.llm_context, label=label,
                          batch_threads=settings.llm_batch_threads, seed=settings.llm_seed, top_k=settings.llm_top_k)


async def load_engines(settings: Settings) -> Engines:
    """Load and warm everything: after this the first caller pays no start-up cost."""
    started = time.monotonic()
    personas = load_personas(settings.prompts_dir)
    if settings.persona not in personas:
        raise ValueError(f"persona {settings.persona!r} is not in {settings.prompts_dir} ({', '.join(personas)})")
    onnx, config = bundled.piper_voice(settings.tts_voice)

    def load_blocking() -> tuple[SileroModel, WhisperTranscriber, ChatEngine, PiperSynthesizer]:
        stt = WhisperTranscriber(
            bundled.whisper_dir(settings.stt_model),
            device=settings.stt_device,
            compute_type=settings.stt_compute_type,
            threads=settings.stt_threads,
            label=settings.stt_model,
        )
        tts = PiperSynthesizer(onnx, config, threads=settings.tts_threads, label=settings.tts_voice)
        return SileroModel(), stt, make_llm(settings), tts

    vad, stt, llm, tts = await asyncio.to_thread(load_blocking)
    await stt.transcribe(np.zeros(16000, dtype=np.float32))
    phrases = await PhraseBank.build(tts, personas.values())
    # The default persona last, so its system prompt is the one left in the model's cache.
    order = sorted(personas.values(), key=lambda p: p.name == settings.persona)
    try:
        await asyncio.wait_for(llm.warm([p.system for p in order]), settings.engine_timeout_s * len(order))
    except (EngineError, TimeoutError) as exc:
        # A remote model server may come up after us: serve anyway, calls apologise until it answers.
        log.warning("language model %s did not warm up: %s", llm.label, exc)
    log.info("engines loaded and warm in %.1f s", time.monotonic() - started)
    return Engines(vad=vad, stt=stt, llm=llm, tts=tts, personas=personas, phrases=phrases,
                   calls=CallRegistry(settings.max_calls))
