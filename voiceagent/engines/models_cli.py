"""``voiceagent models``: every bundled model file, the package and version pinned for it, its size,
SHA-256 and licence, and whether the installed file is the pinned one. Exit code 1 when a file that is
there does not match its pin."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from voiceagent.engines import bundled, weights
from voiceagent.engines.weights import BundledModel, WeightFile

OK, MISMATCH, MISSING, NOT_INSTALLED, NOT_JOINED = "ok", "mismatch", "missing", "not installed", "not joined"
_RANK = {OK: 0, NOT_JOINED: 1, NOT_INSTALLED: 2, MISSING: 3, MISMATCH: 4}  # a model takes its worst file's


@dataclasses.dataclass(slots=True)
class FileCheck:
    """One pinned file, where it is and what was found there."""

    pin: WeightFile
    role: str  # "file" (what the engine loads) or "part" (a package part of a joined file)
    path: Path | None
    status: str
    found_sha256: str | None
    installed_version: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role, "file": self.pin.path, "path": str(self.path) if self.path else None,
            "package": self.pin.package, "pinned_version": self.pin.version,
            "installed_version": self.installed_version, "size": self.pin.size, "sha256": self.pin.sha256,
            "found_sha256": self.found_sha256, "status": self.status,
        }


@dataclasses.dataclass(slots=True)
class ModelCheck:
    """A bundled model and the check of each of its files."""

    model: BundledModel
    files: list[FileCheck]

    @property
    def status(self) -> str:
        return max((f.status for f in self.files), key=_RANK.__getitem__)

    def as_json(self) -> dict[str, Any]:
        m = self.model
        return {
            "name": m.name, "stage": m.stage, "holds": m.holds, "licence": m.licence, "upstream": m.upstream,
            "packages": list(m.packages), "status": self.status, "files": [f.as_json() for f in self.files],
        }


def check_file(entry: BundledModel, pin: WeightFile, role: str, cache: Path, *, rehash: bool,
               parts_installed: bool = True) -> FileCheck:
    """Check one file against its pin (hashing it unless the record of verified files knows it)."""
    installed = None if pin.joined else weights.installed_version(pin.package)
    path = weights.location(pin, cache)
    if path is None or not parts_installed:
        return FileCheck(pin, role, path, NOT_INSTALLED, None, installed)
    if not path.is_file():
        return FileCheck(pin, role, path, NOT_JOINED if pin.joined else MISSING, None, installed)
    found = weights.sha256_of(path, cache, rehash=rehash)
    return FileCheck(pin, role, path, OK if found == pin.sha256 else MISMATCH, found, installed)


def check_model(entry: BundledModel, cache: Path, *, rehash: bool = False) -> ModelCheck:
    """Check every file of a bundled model (a joined model's package parts too)."""
    parts = [check_file(entry, pin, "part", cache, rehash=rehash) for pin in entry.parts]
    parts_installed = all(p.status != NOT_INSTALLED for p in parts)
    files = [check_file(entry, pin, "file", cache, rehash=rehash, parts_installed=parts_installed)
             for pin in entry.files]
    return ModelCheck(entry, files + parts)


def check_all(cache: Path | None = None, *, rehash: bool = False) -> list[ModelCheck]:
    """Check every bundled model."""
    folder = cache or bundled.cache_dir()
    return [check_model(entry, folder, rehash=rehash) for entry in weights.MODELS]


def format_checks(checks: list[ModelCheck]) -> str:
    """The human-readable listing."""
    lines = []
    for c in checks:
        m = c.model
        lines.append(f"{m.name} ({m.stage}): {c.status} - {m.holds}; licence {m.licence}")
        for f in c.files:
            where = str(f.path) if f.path else f"{f.pin.path} (package not installed)"
            source = f"{f.pin.package} {f.pin.version}"
            if f.installed_version and f.installed_version != f.pin.version:
                source += f" (installed: {f.installed_version})"
            lines.append(f"  {f.role:<4} {f.status:<13} {f.pin.size:>13,}  {f.pin.sha256}  {source}  {where}")
            if f.status == MISMATCH:
                lines.append(f"  {'':<4} {'found':<13} {'':>13}  {f.found_sha256}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``models`` command's arguments."""
    parser.add_argument("--json", action="store_true", help="print the listing as JSON")
    parser.add_argument("--rehash", action="store_true",
                        help="hash every file again, ignoring the record of files already verified")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``voiceagent models``: 1 when a file that is there does not match its pin, else 0."""
    out = out or sys.stdout
    checks = check_all(rehash=args.rehash)
    mismatched = any(c.status == MISMATCH for c in checks)
    if args.json:
        payload = {"ok": not mismatched, "cache_dir": str(bundled.cache_dir()), "models": [c.as_json() for c in checks]}
        print(json.dumps(payload, indent=2), file=out)
    else:
        print(format_checks(checks), file=out)
        if mismatched:
            print("some model files do not match their pins: see SECURITY.md, 'Model weights'", file=out)
    return 1 if mismatched else 0
