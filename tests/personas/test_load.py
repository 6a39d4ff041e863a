"""Loading persona files: the bundled ones, the structured facts, and errors that name file and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.personas.conftest import BAKERY, WEEK
from voiceagent.config import DEFAULT_PROMPTS_DIR
from voiceagent.personas import Persona, PersonaError, load_persona, load_personas

Write = Callable[..., Path]
MINIMAL = 'name = "x"\n[business]\nname = "A"\nkind = "shop"\nagent_name = "Kim"\n'


def _errors(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    assert caught.value.path == path
    return [(p.field, p.message) for p in caught.value.problems]


def test_the_bundled_personas_load_with_their_facts() -> None:
    personas = load_personas(DEFAULT_PROMPTS_DIR)
    assert {"assistant", "receptionist", "garage"} <= set(personas)
    dental = personas["receptionist"].business
    assert dental is not None and dental.name == "Bright Smile Dental" and dental.agent_name == "Sam"
    assert dental.hours_on("sunday").closed and not dental.hours_on("saturday").closed
    assert dental.hours_on("monday").openings[0].opens == 8 * 60
    assert dental.open_days() == ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    checkup = dental.service_named("Check-Up")
    assert checkup is not None and checkup.price == 60
    garage = personas["garage"].business
    assert garage is not None and garage.hours_on("saturday").openings[0].closes == 12 * 60
    brakes = garage.service_named("brake pad replacement")
    assert brakes is not None and (brakes.price, brakes.price_unit, brakes.duration_minutes) == (180, "per axle", 120)
    assert "towing" in garage.not_offered
    assert personas["assistant"].business is None and "voice assistant" in personas["assistant"].system


def test_the_loader_keeps_the_fields_the_engines_use(write_persona: Write) -> None:
    persona = load_persona(write_persona(BAKERY))
    assert isinstance(persona, Persona) and hash(persona) == hash(load_persona(write_persona(BAKERY)))
    assert persona.name == "bakery" and persona.greeting.startswith("Good morning")
    assert persona.fillers == ("One moment.",) and persona.apology
    assert "Crumb and Crust" in persona.system and persona.examples[0].caller == "Are you open on Sunday?"


def test_free_text_alone_is_the_whole_prompt(write_persona: Write) -> None:
    persona = load_persona(write_persona('system = "Be brief."\n', "plain"))
    assert persona.name == "plain" and persona.system == "Be brief." and persona.business is None


def test_free_text_beside_facts_is_appended_as_instructions(write_persona: Write) -> None:
    persona = load_persona(write_persona('system = "Always mention our loyalty card."\n' + BAKERY.split("\n", 2)[2]))
    assert persona.instructions == "Always mention our loyalty card."
    assert persona.system.index("Rules:") < persona.system.index("Always mention our loyalty card.")


def test_an_empty_file_says_so(write_persona: Write) -> None:
    assert _errors(write_persona("# nothing yet\n")) == [("", "the file is empty: see the persona format in the README")]


def test_a_file_without_facts_or_prompt_is_refused(write_persona: Write) -> None:
    [(field, message)] = _errors(write_persona('name = "x"\n'))
    assert field == "" and "[business]" in message and "system" in message


def test_missing_hours_are_named(write_persona: Write) -> None:
    [(field, message)] = _errors(write_persona(MINIMAL))
    assert field == "business.hours" and message.startswith("missing") and "sunday" in message


def test_a_missing_weekday_is_named(write_persona: Write) -> None:
    [(field, message)] = _errors(write_persona(MINIMAL + WEEK.replace('saturday = "10:00-14:00"\n', "")))
    assert field == "business.hours" and "missing saturday" in message


def test_an_unknown_weekday_suggests_the_right_one(write_persona: Write) -> None:
    [(field, message)] = _errors(write_persona(MINIMAL + WEEK.replace("thursday", "thurday")))
    assert field == "business.hours.thurday" and "unknown weekday" in message and "'thursday'" in message


@pytest.mark.parametrize(("hours", "words"), [
    ("9:00-17:70", "minutes are 00 to 59"),
    ("9-5", "closes before it opens"),
    ("nine to five", "is not a time"),
    ("13 pm - 5 pm", "hour is 1 to 12"),
    ("9:00-12:00, 11:00-15:00", "overlaps"),
    ("", "empty"),
])
def test_a_bad_time_names_the_day_and_the_fault(write_persona: Write, hours: str, words: str) -> None:
    [(field, message)] = _errors(write_persona(MINIMAL + WEEK.replace('"10:00-14:00"', f'"{hours}"')))
    assert field == "business.hours.saturday" and words in message


def test_a_service_listed_twice_is_refused(write_persona: Write) -> None:
    text = BAKERY + '\n[[business.services]]\nname = "Sourdough  Loaf"\nprice = 7\n'
    [(field, message)] = _errors(write_persona(text))
    assert field == "business.services" and "listed twice" in message


def test_every_problem_is_reported_with_its_field(write_persona: Write) -> None:
    text = BAKERY.replace("address =", "adress =").replace("price = 25", "price = -25").replace(
        "greeting =", "greting =")
    problems = dict(_errors(write_persona(text)))
    assert problems["business.adress"] == "unknown field (did you mean 'address'?)"
    assert problems["greting"] == "unknown field (did you mean 'greeting'?)"
    assert "greater than or equal to 0" in problems["business.services[2].price"]


def test_the_error_text_names_the_file(write_persona: Write) -> None:
    path = write_persona(MINIMAL)
    with pytest.raises(PersonaError, match=f"^{path}: business.hours: missing"):
        load_persona(path)


def test_a_folder_without_personas_or_with_two_of_one_name_is_refused(tmp_path: Path, write_persona: Write) -> None:
    with pytest.raises(PersonaError, match="no persona files"):
        load_personas(tmp_path)
    write_persona(BAKERY, "one")
    write_persona(BAKERY, "two")
    with pytest.raises(PersonaError, match="another persona file"):
        load_personas(tmp_path)
