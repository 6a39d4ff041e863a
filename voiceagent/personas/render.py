"""The system prompt a persona's facts become: facts as a list, short rules, worked examples.

Rendering is deterministic (same file, same prompt, byte for byte), so the model's prompt cache holds.
Each fact's sentence is made here once and reused by the per-turn fact matcher (:mod:`.facts`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from voiceagent.personas.actions import ActionSpec
from voiceagent.personas.model import WEEKDAYS, Business, DayHours, Exchange, Persona, Service, Weekday
from voiceagent.personas.times import say_time
from voiceagent.personas.words import stem, tokens

RULES = (
    "Answer only from these facts. If the answer is not in them, say you don't know and offer to take a message.",
    "If the caller asks for a day when we are closed, say we are closed that day and give the days we are open.",
    "If the caller asks for something we do not do, say politely that we don't do it and say what we do.",
    "Never repeat the caller's words back; answer the question.",
    "Speak one or two short sentences, as on the phone: no lists, no markdown, no emojis.",
)


def say_day_hours(hours: DayHours) -> str:
    """One day's hours as spoken: ``"8 am to 6 pm"``, ``"9 am to 12 noon and 2 pm to 5 pm"``, ``"closed"``."""
    if hours.closed:
        return "closed"
    return " and ".join(f"{say_time(o.opens)} to {say_time(o.closes)}" for o in hours.openings)


def say_days(days: Sequence[Weekday]) -> str:
    """Three or more weekdays in a row as a range (``"Monday to Friday"``), others listed: ``"Monday and Wednesday"``."""
    runs: list[list[Weekday]] = []
    for day in days:
        if runs and WEEKDAYS.index(day) == WEEKDAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        parts += [f"{run[0].title()} to {run[-1].title()}"] if len(run) > 2 else [day.title() for day in run]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def hours_groups(business: Business) -> list[tuple[tuple[Weekday, ...], str]]:
    """Neighbouring weekdays with the same hours, together: ``[((monday..friday), "8 am to 6 pm"), ...]``."""
    groups: list[tuple[list[Weekday], str]] = []
    for day in WEEKDAYS:
        said = say_day_hours(business.hours_on(day))
        if groups and groups[-1][1] == said:
            groups[-1][0].append(day)
        else:
            groups.append(([day], said))
    return [(tuple(days), said) for days, said in groups]


def hours_sentence(business: Business, day: Weekday) -> str:
    """What a caller asking about ``day`` needs: its hours, and the open days when it is closed."""
    hours = business.hours_on(day)
    if not hours.closed:
        return f"{day.title()}: open {say_day_hours(hours)}."
    return f"{day.title()}: closed. {week_sentence(business, closed_days=False)}"


def week_sentence(business: Business, *, closed_days: bool = True) -> str:
    """The week in one sentence: ``"Open Monday to Friday 8 am to 6 pm, Saturday 9 am to 1 pm; closed on
    Sunday."`` (without the closed days when ``closed_days`` is False)."""
    open_groups = [f"{say_days(days)} {said}" for days, said in hours_groups(business) if said != "closed"]
    if not open_groups:
        return "Closed every day."
    closed = [day for day in WEEKDAYS if business.hours_on(day).closed]
    tail = f"; closed on {say_days(closed)}" if closed and closed_days else ""
    return f"Open {', '.join(open_groups)}{tail}."


def recognition_prompt(business: Business, agent_greeting: str = "") -> str:
    """Words the caller is likely to say, as text the recogniser reads before the turn (whisper's initial
    prompt): the greeting, the services by name and the week's hours. Measured on the spoken benchmark's
    sentences, it lowered key words lost on every path; a bare list of words (or every weekday in a row)
    made whisper write the list out instead of the caller's words, so it is said as the agent would."""
    greeting = agent_greeting or f"Hello, {business.name}, this is {business.agent_name}. How can I help you?"
    services = f" We do {', '.join(s.name for s in business.services)}." if business.services else ""
    return f"{greeting}{services} {week_sentence(business)}"


def call_recognition_prompt(persona: Persona, enabled: bool) -> str:
    """The prompt a call of ``persona`` gives the recogniser: "" when ``enabled`` is off (``stt_vocabulary``)
    or the persona has no facts."""
    return recognition_prompt(persona.business, persona.greeting) if enabled and persona.business else ""


def say_price(service: Service, currency: str) -> str:
    """``"45 dollars"``, ``"180 dollars per axle"``, ``"19.50 dollars"``; ``"price not listed"`` without one."""
    if service.price is None:
        return "price not listed"
    amount = f"{service.price:g}" if float(service.price).is_integer() else f"{service.price:.2f}"
    return " ".join(part for part in (amount, currency, service.price_unit) if part)


def say_duration(minutes: int) -> str:
    """``"30 minutes"``, ``"1 hour"``, ``"1 hour 30 minutes"``."""
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours > 1 else ''}"] if hours else []
    if rest:
        parts.append(f"{rest} minutes")
    return " ".join(parts)


def service_sentence(service: Service, currency: str) -> str:
    """``"Oil change: 45 dollars, takes about 30 minutes."``, plus the service's notes."""
    text = f"{service.name[0].upper()}{service.name[1:]}: {say_price(service, currency)}"
    if service.duration_minutes:
        text += f", takes about {say_duration(service.duration_minutes)}"
    return f"{text}. {_sentence(service.notes)}" if service.notes else f"{text}."


def services_sentence(business: Business) -> str:
    """What the business does, by name: ``"We offer: oil change, brake pad replacement."``."""
    return f"We offer: {', '.join(s.name for s in business.services)}." if business.services else ""


def not_offered_sentence(business: Business) -> str:
    """``"We do not do: towing, car sales."``."""
    return f"We do not do: {', '.join(business.not_offered)}." if business.not_offered else ""


def agent_can_sentence(business: Business) -> str:
    """``"On this call you can: book appointments; take a message."``."""
    return f"On this call you can: {'; '.join(business.agent_can)}." if business.agent_can else ""


def vocabulary(business: Business) -> frozenset[str]:
    """The stems of every word the persona's facts say, its services' names and aliases included: what
    the business knows about, in the words a caller might use."""
    lines = [business.name, business.kind, *fact_lines(business),
             *(n for v in business.services for n in (v.name, *v.aliases))]
    return frozenset(stem(w) for line in lines for w in tokens(line))


def first_unknown(business: Business, words: Sequence[str], also_known: frozenset[str] = frozenset()) -> str:
    """The first of the caller's ``words`` when none of them (by its stem) is a word of the persona's
    facts (:func:`vocabulary`) or in ``also_known``; "" otherwise, or when there are none."""
    known = vocabulary(business) | also_known
    return words[0] if words and not any(stem(w) in known for w in words) else ""


def fact_lines(business: Business) -> list[str]:
    """Every fact as one short line, in a fixed order."""
    lines: list[str] = []
    if business.address:
        lines.append(f"Address: {business.address}.")
    if business.phone:
        lines.append(f"Phone: {business.phone}.")
    lines += [f"{say_days(days)}: {'closed' if said == 'closed' else 'open ' + said}." for days, said in
              hours_groups(business)]
    lines += [service_sentence(s, business.currency) for s in business.services]
    lines += [not_offered_sentence(business), *(_sentence(p) for p in business.policies), agent_can_sentence(business)]
    return [line for line in lines if line]


def render_system(
    business: Business | None, examples: Sequence[Exchange], instructions: str, actions: Sequence[ActionSpec] = (),
) -> str:
    """The whole system prompt: who the agent is, facts, rules, worked examples, the file's own text, and
    the actions the agent may call."""
    parts: list[str] = []
    if business is not None:
        parts.append(f"You are {business.agent_name}, answering the phone for {business.name}, "
                     f"{_article(business.kind)} {business.kind}. You are speaking on a phone call.")
        parts.append("Facts:\n" + "\n".join(f"- {line}" for line in fact_lines(business)))
        parts.append("Rules:\n" + "\n".join(f"- {rule}" for rule in RULES))
    if instructions:
        parts.append(instructions)
    if examples:
        parts.append("Examples:\n" + "\n".join(f"Caller: {e.caller}\nYou: {e.agent}" for e in examples))
    if actions:
        parts.append(render_actions(actions))
    return "\n\n".join(parts)


def render_actions(actions: Sequence[ActionSpec]) -> str:
    """The actions as tools, in the widely trained "Hermes" tool-calling layout (Qwen2.5 and others),
    kept short: each tool's name, what it does and its arguments' names."""
    tools = "\n".join(json.dumps({"name": a.name, "description": a.description,
                                  "arguments": list(a.argument_names)}) for a in actions)
    return (
        "# Tools\n\nWhen the caller asks for one of these, call it at once instead of answering, with \"\" for "
        "every argument the caller has not said: never guess one. Never say something is done yourself."
        "\n<tools>\n" + tools + "\n</tools>\n\nTo call one, reply with only:\n"
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    )


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
