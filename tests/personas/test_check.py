"""`voiceagent persona check FILE`: lint, the rendered prompt, and the facts a sentence matches."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.personas.conftest import BAKERY
from voiceagent.__main__ import main
from voiceagent.config import DEFAULT_PROMPTS_DIR
from voiceagent.personas import PersonaError, load_persona
from voiceagent.personas.check import lint

Write = Callable[..., Path]


def test_a_good_file_prints_its_prompt(write_persona: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_persona(BAKERY)
    assert main(["persona", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: ok: persona 'bakery': Crumb and Crust, open 6 days a week, 2 services, 1 example" in out
    assert load_persona(path).system in out


def test_a_bad_file_lists_each_field_and_fails(write_persona: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_persona(BAKERY.replace('"10:00-14:00"', '"10:00-25:00"').replace("kind =", "knd ="))
    assert main(["persona", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: 3 errors" in out
    assert "error: business.hours.saturday: '25:00': the hour is 0 to 23" in out
    assert "error: business.knd: unknown field (did you mean 'kind'?)" in out
    assert "error: business.kind: missing: this field is required" in out
    assert "system prompt" not in out


def test_ask_shows_the_facts_a_sentence_matches(write_persona: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_persona(BAKERY)
    assert main(["persona", "check", str(path), "--no-prompt", "--ask", "open on monday?", "--ask", "hi"]) == 0
    out = capsys.readouterr().out
    assert "facts for 'open on monday?':\n  [hours] Monday: open 9 am to 5 pm.\n" in out
    assert "without the model (unless the words ask for an action): On Monday we're open 9 am to 5 pm.\n" in out
    assert "facts for 'hi':\n  (none)\n  the model answers\n" in out and "system prompt" not in out


def test_lint_warns_about_what_makes_worse_calls(write_persona: Write) -> None:
    text = BAKERY.replace('greeting = "Good morning, Crumb and Crust, this is Robin."', 'greeting = "Hi."').replace(
        "price = 6.5\n", "").replace(
        "agent = \"Sorry, we're closed on Sundays.\"",
        "agent = \"* Closed. We open at 8. Come back. Please.\"")
    warnings = [(p.field, p.message) for p in lint(load_persona(write_persona(text)))]
    assert [field for field, _ in warnings] == ["greeting", "business.services[1].price"] + ["examples[1].agent"] * 3
    assert "Crumb and Crust" in warnings[0][1] and "not listed" in warnings[1][1]
    assert [message.split(":")[0] for _, message in warnings[2:]] == [
        "more than two sentences", "has list or markdown marks", "says 8, which is in none of the facts"]


def test_lint_warns_about_a_long_filler(write_persona: Write) -> None:
    text = BAKERY.replace('greeting = "Good morning', 'fillers = ["One moment.", "Hang on, let me have a look."]\n'
                          'greeting = "Good morning', 1)
    warnings = [(p.field, p.message) for p in lint(load_persona(write_persona(text)))]
    assert [(field, message.split(":")[0]) for field, message in warnings] == [("fillers[2]", "7 words")]


def test_the_bundled_personas_pass_the_check_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("receptionist", "garage"):
        assert lint(load_persona(DEFAULT_PROMPTS_DIR / f"{name}.toml")) == []
    files = sorted(str(p) for p in DEFAULT_PROMPTS_DIR.glob("*.toml"))
    assert main(["persona", "check", "--no-prompt", *files]) == 0


def test_the_installed_command_runs(write_persona: Write) -> None:
    done = subprocess.run([sys.executable, "-m", "voiceagent", "persona", "check", str(write_persona("x = 1\n"))],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "error: x: unknown field" in done.stdout


def test_actions_are_checked_and_described_to_the_model(write_persona: Write) -> None:
    good = '<tool_call>{"name": "take_message", "arguments": {"name": "", "phone": "", "text": ""}}</tool_call>'
    bad = '<tool_call>{"name": "book_appointment", "arguments": {"day": ""}}</tool_call>'
    text = (f'{BAKERY}\n[[examples]]\ncaller = "Can I leave a message?"\nagent = \'{good}\'\n'
            f'[[examples]]\ncaller = "Book me in."\nagent = \'{bad}\'\n'
            '[[actions]]\nname = "take_message"\n\n[[actions]]\nname = "order_cake"\n'
            'description = "Order a cake."\nparameters = { flavour = "the flavour" }\nwebhook = "https://example.com/h"\n')
    persona = load_persona(write_persona(text))
    assert [a.name for a in persona.actions] == ["take_message", "order_cake"]
    assert '"name": "order_cake"' in persona.system and "<tool_call>" in persona.system
    problems = [p.message for p in lint(persona) if p.field.startswith("examples")]
    assert problems == ["calls 'book_appointment', which is not in this persona's [[actions]]"]


def test_a_custom_action_without_a_webhook_is_an_error(write_persona: Write) -> None:
    path = write_persona(f'{BAKERY}\n[[actions]]\nname = "order_cake"\ndescription = "Order a cake."\n'
                         'parameters = { flavour = "the flavour" }\n')
    with pytest.raises(PersonaError, match="custom action needs webhook"):
        load_persona(path)
