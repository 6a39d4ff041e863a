"""``voiceagent persona check FILE``: lint a persona file and show the system prompt it becomes."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TextIO

from voiceagent.personas.actions import parse_call
from voiceagent.personas.facts import relevant_facts
from voiceagent.personas.load import PersonaError, Problem, load_persona
from voiceagent.personas.model import Persona
from voiceagent.personas.render import fact_lines
from voiceagent.stages.fact_answer import fact_answer

_MARKUP = re.compile(r"[*#_`]|^\s*(?:-|\d+\.)\s", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
MOST_FILLER_WORDS = 3  # "Sure, one second." (4 words) took piper 1.4 s to say


def lint(persona: Persona) -> list[Problem]:
    """Things that load but will likely make worse calls: each with its field and why."""
    warnings: list[Problem] = []
    business = persona.business
    if not persona.greeting:
        warnings.append(Problem("greeting", "empty: the caller hears silence until they speak"))
    warnings += [Problem(f"fillers[{i}]", f"{len(f.split())} words: a filler holds the answer back for as long as "
                         "it plays; two or three words are enough") for i, f in enumerate(persona.fillers, 1)
                 if len(f.split()) > MOST_FILLER_WORDS]
    if business is None:
        warnings.append(Problem("business", "no facts: the prompt is the free text only, and replies cannot "
                                "be checked against facts"))
    else:
        if business.name.lower() not in persona.greeting.lower():
            warnings.append(Problem("greeting", f"does not say {business.name!r}: callers like to know they "
                                    "reached the right place"))
        warnings += [Problem(f"business.services[{i}].price", "not given: the agent will say it is not listed")
                     for i, s in enumerate(business.services, 1) if s.price is None]
        if not persona.examples:
            warnings.append(Problem("examples", "none: two or three short worked exchanges help a small model"))
    known_numbers = set(re.findall(r"\d+", " ".join(fact_lines(business)))) if business else set()
    for i, example in enumerate(persona.examples, 1):
        where = f"examples[{i}].agent"
        if example.agent.lstrip().startswith(("<", "{")):  # a worked tool call, not words
            warnings += _call_problems(persona, where, example.agent)
            continue
        if len(_SENTENCE_END.findall(example.agent.strip())) > 2:
            warnings.append(Problem(where, "more than two sentences: replies on the phone should be short"))
        if _MARKUP.search(example.agent):
            warnings.append(Problem(where, "has list or markdown marks: they are read out or dropped"))
        unknown = sorted(set(re.findall(r"\d+", example.agent)) - known_numbers, key=int)
        if business and unknown:
            warnings.append(Problem(where, f"says {', '.join(unknown)}, which is in none of the facts"))
    return warnings


def _call_problems(persona: Persona, where: str, text: str) -> list[Problem]:
    """What is wrong with a worked example that is a tool call."""
    call = parse_call(text)
    if call is None:
        return [Problem(where, 'not a readable tool call: <tool_call>{"name": ..., "arguments": {...}}</tool_call>')]
    spec = persona.action(call[0])
    if spec is None:
        return [Problem(where, f"calls {call[0]!r}, which is not in this persona's [[actions]]")]
    wrong = sorted(set(call[1]) ^ set(spec.argument_names))
    return [Problem(where, f"{call[0]} takes {', '.join(spec.argument_names) or 'no arguments'}; "
                    f"check {', '.join(wrong)}")] if wrong else []


def check_file(path: Path, out: TextIO, *, show_prompt: bool = True, asks: list[str] | None = None) -> int:
    """Lint one file, print its problems, its prompt and the facts each ``asks`` sentence matches (and the
    answer said from them, when they answer it whole).

    Returns 0 when it loads (warnings allowed), 1 when it has errors.
    """
    try:
        persona = load_persona(path)
    except PersonaError as exc:
        print(f"{path}: {_count(len(exc.problems), 'error')}", file=out)
        for problem in exc.problems:
            print(f"  error: {problem.field or '(file)'}: {problem.message}", file=out)
        return 1
    print(f"{path}: ok: {_summary(persona)}", file=out)
    for problem in lint(persona):
        print(f"  warning: {problem.field}: {problem.message}", file=out)
    if show_prompt:
        words = len(persona.system.split())
        print(f"--- system prompt ({len(persona.system)} characters, {words} words) ---", file=out)
        print(persona.system, file=out)
        print("---", file=out)
    for said in asks or []:
        facts = relevant_facts(persona.business, said) if persona.business else ()
        print(f"facts for {said!r}:", file=out)
        for fact in facts or ():
            print(f"  [{fact.kind}] {fact.text}", file=out)
        if not facts:
            print("  (none)", file=out)
        answer = fact_answer(persona.business, said, facts)
        print(f"  said from the facts, without the model (unless the words ask for an action): {answer}" if answer
              else "  the model answers", file=out)
    return 0


def _summary(persona: Persona) -> str:
    business = persona.business
    if business is None:
        return f"persona {persona.name!r} (free-text prompt, {_count(len(persona.examples), 'example')})"
    return (f"persona {persona.name!r}: {business.name}, open {_count(len(business.open_days()), 'day')} a week, "
            f"{_count(len(business.services), 'service')}, {_count(len(persona.examples), 'example')}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``persona`` command's arguments: ``check FILE... [--ask TEXT] [--no-prompt]``."""
    actions = parser.add_subparsers(dest="persona_action", required=True)
    check = actions.add_parser("check", help="lint persona files and print the system prompt each becomes")
    check.add_argument("files", nargs="+", type=Path, help="persona TOML files")
    check.add_argument("--ask", action="append", default=[], metavar="TEXT",
                       help="also show which facts a caller saying TEXT is asking about (repeatable)")
    check.add_argument("--no-prompt", dest="show_prompt", action="store_false", help="lint only")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``voiceagent persona check``: 0 when every file loads, 1 when any has errors."""
    out = out or sys.stdout
    results = [check_file(path, out, show_prompt=args.show_prompt, asks=args.ask) for path in args.files]
    return max(results)
