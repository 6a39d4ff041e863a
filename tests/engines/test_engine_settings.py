"""The engine constants come from the settings: what ``make_llm`` builds carries the configured seed,
top_k, keep-alive and threads (the defaults are the values that used to be written into the engines), and
``make_turn_model`` builds the end-of-turn model the settings name, or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.config import ConfigError, Settings, load_settings
from voiceagent.engines import bundled
from voiceagent.engines.bundled import ModelNotFound
from voiceagent.engines.llama_batch import BatchedLlamaEngine
from voiceagent.engines.llama_cpp import LlamaCppEngine
from voiceagent.engines.loader import make_llm, make_turn_model
from voiceagent.engines.ollama_chat import OllamaEngine
from voiceagent.engines.openai_chat import OpenAIEngine
from voiceagent.engines.turn_end import SmartTurnModel


async def test_server_backends_get_the_configured_sampling() -> None:
    ollama = make_llm(Settings(llm="ollama", llm_seed=3, llm_top_k=5, llm_keep_alive="2m"))
    openai = make_llm(Settings(llm="openai", llm_url="http://127.0.0.1:9/v1", llm_seed=3))
    try:
        assert isinstance(ollama, OllamaEngine) and isinstance(openai, OpenAIEngine)
        assert ollama.options == {"seed": 3, "top_k": 5} and ollama.keep_alive == "2m"
        assert openai.seed == 3
    finally:
        await ollama.close()
        await openai.close()


def test_defaults_are_the_former_constants() -> None:
    defaults = Settings()
    assert (defaults.llm_seed, defaults.llm_top_k, defaults.llm_keep_alive) == (7, 40, "30m")
    assert defaults.llm_batch_threads == 0  # prompt evaluation on as many threads as generation


@pytest.mark.slow
async def test_the_embedded_model_gets_the_configured_threads_and_sampling() -> None:
    engine = make_llm(Settings(model="smollm2-135m", llm_context=512, llm_threads=2, llm_batch_threads=1,
                               llm_seed=3, llm_top_k=5))
    try:
        assert isinstance(engine, LlamaCppEngine) and (engine.seed, engine.top_k) == (3, 5)
        params = engine._llm.context_params
        assert (params.n_threads, params.n_threads_batch) == (2, 1)
    finally:
        await engine.close()


@pytest.mark.slow
async def test_llm_parallel_gives_the_batched_engine_its_slots_and_sampling() -> None:
    engine = make_llm(Settings(model="smollm2-135m", llm_context=512, llm_parallel=3, llm_prompt_chunk=16,
                               llm_seed=3, llm_top_k=5, llm_saved_prompts=False))
    try:
        assert isinstance(engine, BatchedLlamaEngine) and (engine.seed, engine.top_k) == (3, 5)
        assert len(engine.decoder.slots) == 3 and engine.decoder.chunk == 16
    finally:
        await engine.close()


def test_the_end_of_turn_model_follows_its_settings(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    assert make_turn_model(Settings(turn_model="")) is None  # off: silence alone ends a turn
    model = make_turn_model(Settings(turn_threads=2))
    try:
        assert isinstance(model, SmartTurnModel) and model.label == "smart-turn-v3.2"
        assert model._session.get_session_options().intra_op_num_threads == 2
    finally:
        assert model is not None
        model.close()
    with pytest.raises(ModelNotFound):  # an operator's own file that is not there is an error
        make_turn_model(Settings(turn_model="/no/such/turn.onnx"))

    def missing(name: str) -> Path:
        raise ModelNotFound("smart-turn-v3.2: package pipecat-ai is not installed")

    monkeypatch.setattr(bundled, "turn_end_model", missing)  # an install from before the model was bundled
    assert make_turn_model(Settings()) is None
    assert "pip install --no-deps pipecat-ai==1.14.0" in caplog.text
    with pytest.raises(ConfigError, match="turn_min_silence_ms"):
        load_settings(env={}, overrides={"turn_min_silence_ms": 900, "turn_max_silence_ms": 800})
