"""Personas: a system prompt, a greeting, filler phrases and an apology, one TOML file each in prompts/."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path


class PersonaError(ValueError):
    """A persona file is missing or malformed."""


@dataclasses.dataclass(frozen=True, slots=True)
class Persona:
    """How the agent talks on a call."""

    name: str
    description: str
    system: str
    greeting: str
    fillers: tuple[str, ...]
    apology: str


def load_personas(folder: str | Path) -> dict[str, Persona]:
    """Every ``*.toml`` persona in ``folder``, by name. Raises PersonaError if there is none or one is bad."""
    personas: dict[str, Persona] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            persona = Persona(
                name=str(data.get("name", path.stem)),
                description=str(data.get("description", "")),
                system=str(data["system"]).strip(),
                greeting=str(data.get("greeting", "")).strip(),
                fillers=tuple(str(f) for f in data.get("fillers", ["One moment."])),
                apology=str(data.get("apology", "Sorry, something went wrong. Could you say that again?")),
            )
        except (KeyError, tomllib.TOMLDecodeError, OSError) as exc:
            raise PersonaError(f"persona file {path}: {exc}") from exc
        if not persona.fillers:
            raise PersonaError(f"persona file {path}: needs at least one filler phrase")
        personas[persona.name] = persona
    if not personas:
        raise PersonaError(f"no persona files (*.toml) in {folder}")
    return personas
