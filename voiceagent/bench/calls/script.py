"""The benchmark's data: per persona, caller turns with the rules that judge the reply, and the calls
that string them together. Kept as YAML beside this module (``receptionist.yaml`` documents the format);
:func:`load_script` reads and validates one file with clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent
CATEGORIES = ("fact", "out_of_scope", "unknown_fact", "dialogue")
CALL_KINDS = ("short", "long")
REAL_KINDS = ("digits",)
PAUSE_MARK = "|"  # in ``say``: the caller pauses here, mid-sentence


class ScriptError(ValueError):
    """A benchmark data file is malformed."""


@dataclasses.dataclass(frozen=True, slots=True)
class TurnSpec:
    """One caller sentence and the rules for the reply."""

    id: str
    say: str
    category: str
    keywords: tuple[str, ...]
    expect: tuple[tuple[str, ...], ...]
    forbid: tuple[str, ...] = ()
    allow_numbers: tuple[str, ...] = ()
    real: str | None = None
    parts: tuple[str, str] | None = None  # a paused turn: ``say`` in two parts, a pause between them

    @property
    def paused(self) -> bool:
        """True when the caller pauses mid-sentence (``say`` had a ``|``)."""
        return self.parts is not None


@dataclasses.dataclass(frozen=True, slots=True)
class CallSpec:
    """One call: its turns in order."""

    name: str
    kind: str
    turns: tuple[TurnSpec, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Script:
    """Everything for one persona."""

    persona: str
    numbers: frozenset[str]
    turns: dict[str, TurnSpec]
    calls: tuple[CallSpec, ...]
    quick: tuple[str, ...]

    @property
    def spoken_turns(self) -> int:
        """Turns spoken over all calls (a question reused in two calls counts twice)."""
        return sum(len(c.turns) for c in self.calls)

    def call(self, name: str) -> CallSpec:
        """The call named ``name``."""
        for call in self.calls:
            if call.name == name:
                return call
        raise KeyError(name)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return (str(value),)
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ScriptError(f"{where}: expected a string or a list of strings")
    return tuple(str(v) for v in value)


def _expect(value: Any, groups: dict[str, tuple[str, ...]], where: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ScriptError(f"{where}: expected a list of groups of alternatives")
    out = []
    for index, group in enumerate(value):
        alternatives: list[str] = []
        for alt in _strings(group, f"{where}[{index}]"):
            if alt.startswith("$"):
                if alt[1:] not in groups:
                    raise ScriptError(f"{where}[{index}]: unknown group {alt!r} (have {sorted(groups)})")
                alternatives.extend(groups[alt[1:]])
            else:
                alternatives.append(alt)
        if not alternatives:
            raise ScriptError(f"{where}[{index}]: an empty group can never match")
        out.append(tuple(alternatives))
    return tuple(out)


def _turn(tid: str, item: Any, groups: dict[str, tuple[str, ...]], where: str) -> TurnSpec:
    if not isinstance(item, dict):
        raise ScriptError(f"{where}: expected a mapping")
    unknown = set(item) - {"say", "category", "keywords", "expect", "forbid", "allow_numbers", "real"}
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
    say, parts = _say(item.get("say"), f"{where}.say")
    category = item.get("category")
    if category not in CATEGORIES:
        raise ScriptError(f"{where}.category: {category!r} is not one of {CATEGORIES}")
    expect = _expect(item.get("expect"), groups, f"{where}.expect")
    if not expect:
        raise ScriptError(f"{where}.expect: at least one group is required (a turn must be judged)")
    real = item.get("real")
    if real is not None and real not in REAL_KINDS:
        raise ScriptError(f"{where}.real: {real!r} is not one of {REAL_KINDS}")
    if real == "digits" and not all(w in _DIGIT_WORDS for w in say.lower().split()):
        raise ScriptError(f"{where}.say: a `real: digits` turn must be digit words only")
    return TurnSpec(id=tid, say=say, category=category,
                    keywords=_strings(item.get("keywords"), f"{where}.keywords"), expect=expect,
                    forbid=_strings(item.get("forbid"), f"{where}.forbid"),
                    allow_numbers=_strings(item.get("allow_numbers"), f"{where}.allow_numbers"), real=real,
                    parts=parts)


def _say(value: Any, where: str) -> tuple[str, tuple[str, str] | None]:
    """The whole sentence, and its two parts when one ``|`` marks a mid-sentence pause."""
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: the caller's sentence is required")
    pieces = [p.strip() for p in value.split(PAUSE_MARK)]
    if len(pieces) == 1:
        return pieces[0], None
    if len(pieces) != 2 or not all(pieces):
        raise ScriptError(f"{where}: one {PAUSE_MARK!r} with words on both sides marks a pause")
    return " ".join(pieces), (pieces[0], pieces[1])


_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _calls(items: Any, turns: dict[str, TurnSpec], where: str) -> tuple[CallSpec, ...]:
    if not isinstance(items, list) or not items:
        raise ScriptError(f"{where}: expected a non-empty list of calls")
    calls, seen = [], set()
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ScriptError(f"{at}: each call needs a name")
        if item["name"] in seen:
            raise ScriptError(f"{at}: call {item['name']!r} is defined twice")
        seen.add(item["name"])
        if item.get("kind") not in CALL_KINDS:
            raise ScriptError(f"{at}.kind: {item.get('kind')!r} is not one of {CALL_KINDS}")
        ids = _strings(item.get("turns"), f"{at}.turns")
        missing = [t for t in ids if t not in turns]
        if missing or not ids:
            raise ScriptError(f"{at}.turns: unknown turn ids {missing}" if missing else f"{at}.turns: empty call")
        calls.append(CallSpec(item["name"], item["kind"], tuple(turns[t] for t in ids)))
    return tuple(calls)


def load_script(path: str | Path) -> Script:
    """Read and validate one persona's benchmark file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("persona"), str):
        raise ScriptError(f"{path.name}: expected a mapping with a 'persona' name")
    raw_groups = data.get("groups") or {}
    if not isinstance(raw_groups, dict):
        raise ScriptError(f"{path.name}.groups: expected a mapping of name -> alternatives")
    groups = {str(k): _strings(v, f"{path.name}.groups.{k}") for k, v in raw_groups.items()}
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, dict) or not raw_turns:
        raise ScriptError(f"{path.name}.turns: expected a mapping of turn id -> turn")
    turns = {str(k): _turn(str(k), v, groups, f"{path.name}.turns.{k}") for k, v in raw_turns.items()}
    calls = _calls(data.get("calls"), turns, f"{path.name}.calls")
    quick = _strings(data.get("quick"), f"{path.name}.quick")
    names = {c.name for c in calls}
    if not quick or any(q not in names for q in quick):
        raise ScriptError(f"{path.name}.quick: name one or more of the calls {sorted(names)}")
    numbers = frozenset(_strings(data.get("numbers"), f"{path.name}.numbers"))
    return Script(persona=data["persona"], numbers=numbers, turns=turns, calls=calls, quick=quick)


def builtin_scripts() -> dict[str, Script]:
    """The shipped scripts, by persona name."""
    scripts = [load_script(p) for p in sorted(DATA_DIR.glob("*.yaml"))]
    return {s.persona: s for s in scripts}
