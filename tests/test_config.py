import pytest

from voiceagent.config import ConfigError, load_settings


def test_precedence_defaults_file_env_flags(tmp_path) -> None:
    cfg = tmp_path / "va.toml"
    cfg.write_text('port = 9000\nllm = "ollama"\n[budgets]\nturn_ms = 1200\nstt_ms = 500\n')
    env = {"VOICEAGENT_PORT": "9100", "VOICEAGENT_BUDGET_STT_MS": "600"}
    s = load_settings(cfg, env=env, overrides={"port": 9200, "host": None})
    assert s.port == 9200 and s.llm == "ollama" and s.host == "127.0.0.1"
    assert s.budgets.turn_ms == 1200 and s.budgets.stt_ms == 600 and s.budgets.endpoint_ms == 300


def test_gpu_profile_and_errors(tmp_path) -> None:
    assert load_settings(env={"VOICEAGENT_PROFILE": "gpu"}).budgets.turn_ms == 700
    with pytest.raises(ConfigError):
        load_settings(env={"VOICEAGENT_PORT": "eighty"})
    with pytest.raises(ConfigError):
        load_settings(env={"VOICEAGENT_LLM": "gpt5"})
    with pytest.raises(ConfigError, match="stt_denoise"):
        load_settings(env={"VOICEAGENT_STT_DENOISE": "1.5"})
    with pytest.raises(ConfigError, match="llm_parallel"):
        load_settings(env={"VOICEAGENT_LLM_PARALLEL": "-1"})
    with pytest.raises(ConfigError, match="reply_not_before_ms"):
        load_settings(env={"VOICEAGENT_REPLY_NOT_BEFORE_MS": "-1"})
    with pytest.raises(ConfigError, match="turn_question_threshold"):
        load_settings(env={"VOICEAGENT_TURN_QUESTION_THRESHOLD": "1.5"})
    bad = tmp_path / "bad.toml"
    bad.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError):
        load_settings(bad, env={})


def test_the_readme_documents_every_option_with_its_default() -> None:
    import dataclasses
    from pathlib import Path

    from voiceagent.config import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for field in dataclasses.fields(Settings):
        if field.name in ("budgets", "prompts_dir"):
            continue
        assert f"| `{field.name}` | `{field.default!r}` |".replace("'", '"') in readme, field.name


def test_secrets_are_masked_in_the_printed_configuration() -> None:
    from voiceagent.config import load_settings

    shown = load_settings(env={"VOICEAGENT_AUTH_TOKEN": "hunter2"}).describe()
    assert shown["auth_token"] == "***" and shown["llm_api_key"] == ""
