"""Task sets: phone-agent conversations with deterministic checks, kept as YAML."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from voiceagent.engines.llm import Message
from voiceagent.personas import Persona

BUILTIN_TASKS = Path(__file__).with_name("phone_tasks.yaml")


class TaskError(ValueError):
    """A task file is malformed."""


@dataclasses.dataclass(frozen=True, slots=True)
class Task:
    """One conversation to answer, and what a good answer contains."""

    name: str
    system: str
    turns: tuple[str, ...]  # user, assistant, user, ... ending with the user
    expect: tuple[tuple[str, ...], ...] = ()
    forbid: tuple[str, ...] = ()
    max_words: int = 40
    spoken: bool = True

    def messages(self) -> list[Message]:
        """The chat messages the model is given."""
        out: list[Message] = [{"role": "system", "content": self.system}]
        for index, text in enumerate(self.turns):
            out.append({"role": "user" if index % 2 == 0 else "assistant", "content": text})
        return out


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"{where}: expected a string or a list of strings")
    return tuple(value)


def load_tasks(path: Path, personas: dict[str, Persona]) -> list[Task]:
    """Read a task file; personas resolve ``persona:`` references."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaskError(f"cannot read {path}: {exc}") from exc
    items = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise TaskError(f"{path}: expected a top-level 'tasks' list")
    tasks = []
    for index, item in enumerate(items):
        where = f"{path.name} task {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise TaskError(f"{where}: each task needs a 'name'")
        where = f"{path.name} task {item['name']!r}"
        system = item.get("system")
        if system is None:
            persona = personas.get(str(item.get("persona", "")))
            if persona is None:
                raise TaskError(f"{where}: needs 'system' or a known 'persona' (have {sorted(personas)})")
            system = persona.system
        turns = _strings(item.get("turns"), f"{where}.turns")
        if len(turns) % 2 == 0:
            raise TaskError(f"{where}: 'turns' alternate user/assistant and must end with the user")
        expect = item.get("expect", [])
        if not isinstance(expect, list):
            raise TaskError(f"{where}.expect: expected a list of groups")
        max_words = item.get("max_words", 40)
        if not isinstance(max_words, int) or max_words < 1:
            raise TaskError(f"{where}.max_words: expected a positive integer")
        tasks.append(Task(
            name=item["name"], system=str(system), turns=turns,
            expect=tuple(_strings(group, f"{where}.expect") for group in expect),
            forbid=_strings(item.get("forbid", []), f"{where}.forbid"),
            max_words=max_words, spoken=bool(item.get("spoken", True)),
        ))
    return tasks
