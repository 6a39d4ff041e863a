"""Reading persona files: TOML in, a validated :class:`Persona` out, or every problem with its field.

A persona file gives its facts (``[business]``, rendered into the prompt) or a free-text ``system``
prompt, or both (the text is then appended to the rendered facts as extra instructions).
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from pathlib import Path
from typing import Any

import pydantic
from pydantic.dataclasses import dataclass

from voiceagent.personas.actions import ActionEntry
from voiceagent.personas.model import (
    DEFAULT_DONT_KNOW,
    DEFAULT_NOT_HEARD,
    STRICT,
    WEEKDAYS,
    Business,
    Exchange,
    NonEmpty,
    Persona,
    Service,
)
from voiceagent.personas.render import render_system

DEFAULT_FILLERS = ("One moment.",)
DEFAULT_APOLOGY = "Sorry, something went wrong. Could you say that again?"


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a persona file: where (a dotted field path, "" for the whole file) and what."""

    field: str
    message: str


class PersonaError(ValueError):
    """A persona file is missing or malformed. ``problems`` lists each fault with its field."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        lines = [f"{self.path}: {p.field}: {p.message}" if p.field else f"{self.path}: {p.message}"
                 for p in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, config=STRICT)
class PersonaFile:
    """The fields of a persona TOML file, as written."""

    name: NonEmpty
    description: str = ""
    greeting: str = ""
    fillers: tuple[NonEmpty, ...] = DEFAULT_FILLERS
    apology: NonEmpty = DEFAULT_APOLOGY
    dont_know: NonEmpty = DEFAULT_DONT_KNOW  # said when a reply fails a fact check and no fact applies
    not_heard: NonEmpty = DEFAULT_NOT_HEARD  # said when the caller spoke but no words were heard in it
    system: str = ""  # free-text prompt; with [business], extra instructions after the facts
    business: Business | None = None
    examples: tuple[Exchange, ...] = ()
    actions: tuple[ActionEntry, ...] = ()  # what the agent may do (see voiceagent.personas.actions)

    @pydantic.model_validator(mode="after")
    def _has_a_prompt(self) -> PersonaFile:
        names = [a.name for a in self.actions]
        if len(set(names)) != len(names):
            raise ValueError(f"an action is listed twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
        if self.business is None and not self.system:
            raise ValueError("give the business facts ([business]) or a free-text `system` prompt")
        if not self.fillers:
            raise ValueError("`fillers` needs at least one phrase")
        return self


def load_persona(path: str | Path) -> Persona:
    """Read and validate one persona file. Raises :class:`PersonaError` listing every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PersonaError(path, [Problem("", f"cannot read it: {exc.strerror or exc}")]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PersonaError(path, [Problem("", f"not valid TOML: {exc}")]) from exc
    if not data:
        raise PersonaError(path, [Problem("", "the file is empty: see the persona format in the README")])
    data.setdefault("name", path.stem)
    try:
        written = _READER.validate_python(data)
    except pydantic.ValidationError as exc:
        raise PersonaError(path, [_problem(error) for error in exc.errors()]) from None
    actions = tuple(entry.spec() for entry in written.actions)
    return Persona(
        name=written.name,
        description=written.description,
        system=render_system(written.business, written.examples, written.system.strip(), actions),
        greeting=written.greeting,
        fillers=written.fillers,
        apology=written.apology,
        dont_know=written.dont_know,
        not_heard=written.not_heard,
        business=written.business,
        examples=written.examples,
        instructions=written.system.strip(),
        actions=actions,
    )


def load_personas(folder: str | Path) -> dict[str, Persona]:
    """Every ``*.toml`` persona in ``folder``, by name. Raises PersonaError if there is none or one is bad."""
    personas: dict[str, Persona] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        persona = load_persona(path)
        if persona.name in personas:
            raise PersonaError(path, [Problem("name", f"{persona.name!r} is the name of another persona file too")])
        personas[persona.name] = persona
    if not personas:
        raise PersonaError(folder, [Problem("", "no persona files (*.toml) in this folder")])
    return personas


_READER = pydantic.TypeAdapter(PersonaFile)
_HINTS = {"hours": ' (a [business.hours] table, monday to sunday, e.g. monday = "9:00-17:00", sunday = "closed")'}
_KNOWN_FIELDS = sorted(
    {f for cls in (PersonaFile, Business, Service, Exchange) for f in cls.__dataclass_fields__}  # type: ignore[attr-defined]
)


def _problem(error: Any) -> Problem:
    """A pydantic error as a business owner reads it: the field path and a plain message."""
    loc = [str(part) for part in error["loc"] if part not in ("[key]",)]
    field = ".".join(_dotted(loc))
    kind, message = error["type"], str(error["msg"]).removeprefix("Value error, ")
    if "[key]" in error["loc"] and loc[-2:-1] == ["hours"]:
        close = difflib.get_close_matches(loc[-1].lower(), WEEKDAYS, n=1)
        message = "unknown weekday" + (f" (did you mean {close[0]!r}?)" if close else "") + \
            f"; the days are {', '.join(WEEKDAYS)}"
    elif kind == "unexpected_keyword_argument" or kind == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], _KNOWN_FIELDS, n=1) if loc else []
        message = "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif kind == "missing" or kind == "missing_argument":
        message = "missing: this field is required" + _HINTS.get(loc[-1] if loc else "", "")
    return Problem(field, message)


def _dotted(loc: list[str]) -> list[str]:
    """``["business", "services", "2", "price"]`` -> ``["business", "services[3]", "price"]`` (from 1)."""
    out: list[str] = []
    for part in loc:
        if part.isdigit() and out:
            out[-1] += f"[{int(part) + 1}]"
        else:
            out.append(part)
    return out
