"""Personas are package data: an installed wheel, used outside the checkout, finds them (nothing is built)."""

from __future__ import annotations

import fnmatch
import importlib.resources
import tomllib
from pathlib import Path

from voiceagent.config import DEFAULT_PROMPTS_DIR, Settings
from voiceagent.personas import load_personas

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_persona_folder_is_inside_the_package() -> None:
    package = Path(str(importlib.resources.files("voiceagent")))
    assert DEFAULT_PROMPTS_DIR == package / "prompts"
    assert Path(Settings().prompts_dir) == DEFAULT_PROMPTS_DIR
    assert Settings().persona in load_personas(DEFAULT_PROMPTS_DIR)


def test_every_persona_file_is_declared_as_package_data() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["voiceagent"]
    files = [p.relative_to(DEFAULT_PROMPTS_DIR.parent).as_posix() for p in DEFAULT_PROMPTS_DIR.iterdir()
             if p.is_file()]
    assert files and all(p.endswith(".toml") for p in files), files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in declared)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_no_persona_folder_is_left_outside_the_package() -> None:
    assert not (ROOT / "prompts").exists()
