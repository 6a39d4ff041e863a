"""The action desk on its own: the model's tool call checked against what the caller said, missing
arguments asked for and read from the next turn, a read-back before a cancellation."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from voiceagent.personas import Persona, load_persona
from voiceagent.personas.actions import parse_call
from voiceagent.pipeline.action_desk import ActionDesk, Reconsider, Run, Say

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
TODAY = datetime.date(2026, 11, 25)  # a Wednesday


@pytest.fixture()
def desk() -> ActionDesk:
    return ActionDesk(load_persona(GARAGE))


def test_tool_calls_are_read_with_or_without_their_tags() -> None:
    assert parse_call('<tool_call>\n{"name": "end_call", "arguments": {}}\n</tool_call>') == ("end_call", {})
    assert parse_call('{"name": "take_message", "arguments": {"name": "Ann"}}') == ("take_message", {"name": "Ann"})
    assert parse_call("Sure, we're open.") is None
    assert parse_call('{"name": "end_call", "argu') is None


def test_arguments_the_caller_never_said_are_dropped_and_asked_for(desk: ActionDesk) -> None:
    turn = "I'd like to book an oil change."
    decision = desk.on_call("book_appointment", {"name": "Oak Street Garage", "service": "oil change",
                                                 "day": "Friday", "time": "7:30 am"}, turn, TODAY)
    assert isinstance(decision, Say)
    assert "your name" in decision.text and "the day" in decision.text and "the time" in decision.text
    assert "what it's for" not in decision.text  # the service was said
    assert desk.pending == "book_appointment"


def test_the_next_turn_fills_what_is_missing_and_the_action_runs(desk: ActionDesk) -> None:
    first = "I'd like to book an oil change."
    desk.on_call("book_appointment", {"name": "", "service": "", "day": "", "time": ""}, first, TODAY)
    second = "John Smith, Tuesday at 10 am."
    decision = desk.before_model(second, TODAY)
    assert decision == Run(desk.persona.action("book_appointment"),  # type: ignore[arg-type]
                           {"service": "oil change", "name": "John Smith", "day": "2026-12-01", "time": "10:00"})
    assert desk.pending is None


def test_a_turn_about_something_else_drops_the_waiting_action(desk: ActionDesk) -> None:
    first = "Can you take a message?"
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, first, TODAY)
    assert desk.before_model("how much is it", TODAY) is None
    assert desk.pending is None


def test_a_message_is_read_from_the_callers_words(desk: ActionDesk) -> None:
    first = "Can I leave a message for the mechanic?"
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, first, TODAY)
    second = "It's Mary Jones, 555 0199, please call me about my brakes."
    decision = desk.before_model(second, TODAY)
    assert isinstance(decision, Run)
    assert decision.arguments == {"name": "Mary Jones", "phone": "5550199", "text": "please call me about my brakes"}


def test_cancelling_needs_a_yes(desk: ActionDesk) -> None:
    turn = "Please cancel my appointment, the name is Peter Brown."
    decision = desk.on_call("cancel_appointment", {"name": "Peter Brown"}, turn, TODAY)
    assert isinstance(decision, Say) and "Peter Brown" in decision.text and "yes or no" in decision.text
    assert isinstance(desk.before_model("Yes, please.", TODAY), Run)
    desk.on_call("cancel_appointment", {"name": "Peter Brown"}, turn, TODAY)
    no = desk.before_model("No, leave it.", TODAY)
    assert isinstance(no, Say) and "left it" in no.text


@pytest.mark.parametrize(("name", "turn"), [
    ("end_call", "How much is an oil change?"),
    ("transfer_to_human", "Are you open on Sunday?"),
    ("find_appointment", "Hello, is this Oak Street Garage?"),
    ("book_appointment", "How much is an oil change?"),
    ("book_appointment", "How much does a check-up cost?"),  # the cue word alone, in a question
    ("book_appointment", "What times are available on Friday?"),
    ("take_message", "What time do you open on Saturday?"),
    ("book_appointment", "Do I have to put a deposit down to book an oil change?"),  # a rule asked about
    ("no_such_action", "Bye"),
])
def test_an_action_the_caller_did_not_ask_for_is_reconsidered(desk: ActionDesk, name: str, turn: str) -> None:
    assert isinstance(desk.on_call(name, {}, turn, TODAY), Reconsider)


@pytest.mark.parametrize("turn", ["How do I book a check-up?", "I'd like to book a check-up on Friday.",
                                  "Can I bring my car in on Monday?"])
def test_a_booking_asked_for_in_words_or_in_a_question_goes_ahead(desk: ActionDesk, turn: str) -> None:
    assert isinstance(desk.on_call("book_appointment", {}, turn, TODAY), Say)  # asks for what is missing


@pytest.mark.parametrize(("turn", "acts"), [
    ("I'd like to book an oil change.", True),
    ("Can I bring my car in on Monday?", True),
    ("Can I get my car in for its inspection?", True),  # "get ... in", as callers say it
    ("How early can I get in on a Tuesday?", False),  # the hours: nothing to get in
    ("How do I book a check-up?", True),
    ("Do I have to book?", True),  # whether to book at all: the model hears it
    ("How much is an oil change?", False),
    ("Do I have to put a deposit down to book an oil change?", False),  # a rule of booking, asked about
    ("Do I need to pay anything up front to book?", False),
    ("If something comes up, how much notice do you need for me to cancel?", False),  # a rule, asked about
    ("How long before do I have to move it?", False),
    ("I need to cancel, how do I do that?", True),
])
def test_words_that_may_ask_for_an_action(desk: ActionDesk, turn: str, acts: bool) -> None:
    assert desk.may_act(turn) is acts


def test_how_about_a_day_answers_the_waiting_question(desk: ActionDesk) -> None:
    desk.on_call("book_appointment", {"name": "Ann Lee"}, "I'd like to book an oil change.", TODAY)
    asked = desk.before_model("How about Tuesday?", TODAY)
    assert desk.pending == "book_appointment" and isinstance(asked, Say) and "Tuesday" in asked.text


def test_hang_up_and_transfer_run_when_asked_for(desk: ActionDesk) -> None:
    assert isinstance(desk.on_call("end_call", {}, "Thanks, that's all. Bye!", TODAY), Run)
    assert isinstance(desk.on_call("transfer_to_human", {}, "Can I speak to a person?", TODAY), Run)


def test_a_persona_without_actions_offers_no_tools() -> None:
    persona = Persona(name="p", description="", system="s", greeting="", fillers=("One moment.",), apology="a")
    assert ActionDesk(persona).tools() == []


def test_a_question_to_the_agent_drops_the_waiting_action(desk: ActionDesk) -> None:
    first = "I'd like to book an oil change."
    desk.on_call("book_appointment", {}, first, TODAY)
    assert desk.before_model("What time do you open on Saturday?", TODAY) is None  # the model answers it
    assert desk.pending is None


def test_a_number_too_short_to_be_one_is_said_back_and_asked_for_once_more(desk: ActionDesk) -> None:
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, "Can I leave a message?", TODAY)
    assert isinstance(desk.before_model("My name is Raj Patel.", TODAY), Say)
    again = desk.before_model("0 1 9 9", TODAY)  # the phone line lost the first digits
    assert isinstance(again, Say) and "0 1 9 9" in again.text and "number again" in again.text
    assert desk.pending == "take_message"
    asked = desk.before_model("5 5 5 0 1 9 9", TODAY)
    assert isinstance(asked, Say) and "your message" in asked.text
    assert desk.before_model("It's about the noise after the repair.", TODAY) is not None


def test_a_short_number_is_asked_for_again_only_once(desk: ActionDesk) -> None:
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, "Can I leave a message?", TODAY)
    desk.before_model("My name is Raj Patel.", TODAY)
    assert isinstance(desk.before_model("0 1 9 9", TODAY), Say)
    assert desk.before_model("1 9 9 5", TODAY) is None and desk.pending is None


def test_byes_while_a_number_is_awaited_are_asked_again_not_taken_for_a_goodbye(desk: ActionDesk) -> None:
    """On a phone line, "five five five" is heard as "Bye, bye, bye.": hanging up on a caller who is
    giving their number is the worst reading of it."""
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, "Can I leave a message?", TODAY)
    desk.before_model("My name is Raj Patel.", TODAY)
    again = desk.before_model("Bye, bye, bye.", TODAY)
    assert isinstance(again, Say) and "number again" in again.text and desk.pending == "take_message"


@pytest.mark.parametrize("number", ["5, 5, 5, 0, 1, 9, 9", "Five, five, five. 0 1 9 9", "Bye, bye, bye. 5, 5, 5, 0, 1, 9, 9"])
def test_a_number_however_it_was_written_is_not_the_message(desk: ActionDesk, number: str) -> None:
    """Speech-to-text writes a number said slowly with commas, or half in words; none of it is a message
    for the staff, so the message is asked for instead of being passed on with the digits as its text."""
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, "Can I leave a message?", TODAY)
    desk.before_model("My name is Raj Patel.", TODAY)
    asked = desk.before_model(number, TODAY)
    assert isinstance(asked, Say) and "your message" in asked.text and desk.pending == "take_message"
    done = desk.before_model("Tell him the car is still making a noise after the repair.", TODAY)
    assert isinstance(done, Run) and done.arguments["phone"] == "5550199"
    assert done.arguments["text"] == "Tell him the car is still making a noise after the repair"


@pytest.mark.parametrize("turn,asks", [("Is there a warranty on your repairs?", True),
                                       ("What time do you close on Friday", True),
                                       ("Can I bring it in on Sunday?", True),
                                       ("Tell him the car is still making a noise after the repair.", False),
                                       ("Could you ask him to call me back", False), ("It's about my bill.", False)])
def test_a_question_asked_instead_of_the_message_is_not_taken_as_it(desk: ActionDesk, turn: str, asks: bool) -> None:
    """:meth:`ActionDesk.asks_instead` (which lets such a turn end when it sounds finished) says what the
    desk does with the words: a question is not passed on as the caller's message."""
    desk.on_call("take_message", {"name": "", "phone": "", "text": ""}, "Can I leave a message?", TODAY)
    desk.before_model("My name is Raj Patel, my number is 555 0199.", TODAY)
    assert desk.awaits_message and desk.asks_instead(turn) == asks
    decision = desk.before_model(turn, TODAY)
    assert isinstance(decision, Run) != asks


@pytest.mark.parametrize("turn,name", [("My name is Tom Wilson.", "Tom Wilson"), ("Hi, my name is Sarah.", "Sarah"),
                                       ("Yes, my name's Peter Brown.", "Peter Brown"),
                                       ("Yet the name's Tom Fletcher.", "Tom Fletcher")])  # "yes", misheard
def test_a_caller_who_only_gives_their_name_is_thanked_and_asked_what_they_need(
        desk: ActionDesk, turn: str, name: str) -> None:
    said = desk.before_model(turn, TODAY)
    assert isinstance(said, Say) and said.text == f"Thanks, {name}. How can I help you?"
    assert desk.pending is None  # nothing was started


@pytest.mark.parametrize("turn", ["What is your name?", "This is Oak Street Garage?", "Is my name on the list?"])
def test_a_name_with_a_request_or_a_question_goes_to_the_model(desk: ActionDesk, turn: str) -> None:
    assert desk.before_model(turn, TODAY) is None


@pytest.mark.parametrize(("turn", "action", "asked"), [
    ("I need to change my booking.", "move_appointment", "your name, the day and the time"),
    ("I need to move my dog's appointment to another day.", "move_appointment", "your name, the day and the time"),
    ("Could I reschedule my oil change appointment?", "move_appointment", "your name, the day and the time"),
    ("I want to cancel my appointment on Tuesday.", "cancel_appointment", "your name"),
    ("Can I leave a message for the mechanic?", "take_message", "your name, a number to call you back on"),
    ("Can you pass the message onto the mechanic for me?", "take_message", "your name, a number to call you back on"),
    ("Can you pass a message onto the mechanic for me?", "take_message", "your name, a number to call you back on"),
    ("I've got a booking and I need to change the day.", "move_appointment", "your name, the day and the time"),
    ("I've got a visit both and I need to change today.", "move_appointment", "your name, the day and the time"),
    ("I've got a tyre fitting booked but I need to move it.", "move_appointment", "your name, the day and the time"),
    ("I've got an oil change book but I need to change today.", "move_appointment", "your name, the day and the time"),
    ("My name is Tom Wilson, I'd like to book an oil change.", "book_appointment", "the day and the time"),
    ("I need to change my working.", "move_appointment", "your name, the day and the time"),  # "booking", misheard
    ("I have to cancel my walking on Tuesday.", "cancel_appointment", "your name"),
])
def test_an_action_asked_for_outright_gets_its_first_question_without_the_model(
        desk: ActionDesk, turn: str, action: str, asked: str) -> None:
    said = desk.before_model(turn, TODAY)
    assert isinstance(said, Say) and asked in said.text
    assert desk.pending == action


@pytest.mark.parametrize("turn", ["How do I cancel my booking?", "When is my appointment?",
                                  "Can I change the oil myself?", "Do you book appointments on Saturday?",
                                  "I changed my mind about the brakes.", "Can I change my mind?",
                                  "I have an appointment for an oil change on Friday.",
                                  "I have to book an oil change."])  # a service's name moves nothing
def test_questions_and_other_words_about_bookings_go_to_the_model(desk: ActionDesk, turn: str) -> None:
    assert desk.before_model(turn, TODAY) is None
    assert desk.pending is None


def test_a_word_of_the_facts_after_change_my_is_no_misheard_booking() -> None:
    """"I need to change my heating" asks a plumber for a job (heating is in its facts), not to move a booking."""
    desk = ActionDesk(load_persona(GARAGE.with_name("plumber.toml")))
    assert desk.requested("I need to change my heating.") == ""
    assert desk.requested("I need to change my walking.") == "move_appointment"


def test_a_move_reads_the_new_day_not_the_day_the_caller_is_booked_for(desk: ActionDesk) -> None:
    desk.before_model("I need to move my appointment.", TODAY)
    named = desk.before_model("It's Mike Ross, I'm in on Monday for brakes.", TODAY)
    assert isinstance(named, Say) and named.text == "Thanks, Mike Ross. Could you give me the day and the time?"
    day = desk.before_model("Can we move it to Thursday?", TODAY)
    assert isinstance(day, Say) and day.text == "Tomorrow, Thursday, noted. We're open from 7:30 am to 5:30 pm that day. Could you give me the time?"  # Thursday
    done = desk.before_model("10 am, please.", TODAY)
    assert isinstance(done, Run) and done.arguments == {"name": "Mike Ross", "day": "2026-11-26", "time": "10:00"}


def test_a_move_said_in_one_sentence_takes_the_day_after_to(desk: ActionDesk) -> None:
    said = desk.before_model("Peter Brown here, I want to move my appointment on Monday at 9 to Friday at 2 pm.", TODAY)
    assert isinstance(said, Run)
    assert said.arguments == {"name": "Peter Brown", "day": "2026-11-27", "time": "14:00"}


def test_moving_it_to_another_day_asks_for_the_rest(desk: ActionDesk) -> None:
    said = desk.before_model("Can we move it to Thursday?", TODAY)  # "it": the booking spoken of before
    assert isinstance(said, Say) and said.text == "Tomorrow, Thursday, noted. We're open from 7:30 am to 5:30 pm that day. Could you give me your name and the time?"
    assert desk.pending == "move_appointment"


def test_a_day_or_time_given_earlier_can_be_changed_instead(desk: ActionDesk) -> None:
    desk.before_model("I'd like to book an oil change.", TODAY)
    desk.before_model("John Smith, on Tuesday.", TODAY)
    changed = desk.before_model("Could we make it Friday instead?", TODAY)
    assert isinstance(changed, Say) and changed.text == "Friday the 27th of November, noted. We're open from 7:30 am to 5:30 pm that day. Could you give me the time?"
    done = desk.before_model("Actually 10 am.", TODAY)
    assert isinstance(done, Run) and (done.arguments["day"], done.arguments["time"]) == ("2026-11-27", "10:00")


def test_a_day_given_without_a_time_is_said_back_with_that_days_hours(desk: ActionDesk) -> None:
    """A caller who asks for a day ("Can I get in on Saturday?") hears when it is open there before choosing
    the time: on the phone line "How early can I get in on a Tuesday?" lost "How early" and became a booking."""
    said = desk.before_model("I'd like to book an oil change on Saturday.", TODAY)
    assert isinstance(said, Say) and said.text == ("Saturday the 28th of November, noted. We're open from 8 am to 12 noon "
                                                   "that day. Could you give me your name and the time?")
    named = desk.before_model("It's John Smith.", TODAY)  # no day in this answer: the hours are not said again
    assert isinstance(named, Say) and named.text == "Thanks, John Smith. Could you give me the time?"


@pytest.mark.parametrize(("when", "why"), [
    ("Saturday at 3 pm", "Sorry, that's after we close: on Saturdays we're open from 8 am to 12 noon."),
    ("Monday at 7 am", "Sorry, that's before we open: on Mondays we're open from 7:30 am to 5:30 pm."),
    ("Saturday at 11:45", "Sorry, an oil change takes 30 minutes and we close at 12 noon; the latest it can start is 11:30 am."),
])
def test_a_time_the_business_cannot_do_is_asked_again_with_why(desk: ActionDesk, when: str, why: str) -> None:
    """The booking's own rules (the store's) are met before the booking is run: a time outside the day's
    hours, or too late to finish by closing, is taken back and asked again; the action waits on."""
    desk.before_model("I'd like to book an oil change.", TODAY)
    said = desk.before_model(f"John Smith, {when}.", TODAY)
    assert isinstance(said, Say) and said.text.startswith("Thanks, John Smith. ")
    assert said.text.endswith(f"{why} What time would suit you?")
    assert desk.pending == "book_appointment"
    done = desk.before_model("10 am, then.", TODAY)
    assert isinstance(done, Run) and done.arguments["time"] == "10:00" and done.arguments["name"] == "John Smith"


def test_a_day_said_again_without_a_change_keeps_what_was_given(desk: ActionDesk) -> None:
    desk.before_model("I'd like to book an oil change.", TODAY)
    desk.before_model("John Smith, on Tuesday.", TODAY)
    said = desk.before_model("Friday would be nice too.", TODAY)  # no word that changes the day
    assert not (isinstance(said, Say) and "Friday" in said.text)


def test_an_answer_the_line_garbled_is_asked_for_once_more(desk: ActionDesk) -> None:
    """Asked for a name and a day, the caller's "It's David Chen, I'm booked for Wednesday." came out as
    "If you stay with Ken, I booked for Wednesday.": nothing asked for is in it (Wednesday is the booking
    being moved). The action stays and what is missing is asked for once more; a second miss drops it."""
    desk.before_model("I need to move my appointment.", TODAY)
    again = desk.before_model("If you stay with Ken, I booked for Wednesday.", TODAY)
    assert isinstance(again, Say) and again.text == "Sorry, I didn't catch that. Could you give me your name, the day and the time?"
    assert desk.pending == "move_appointment"
    assert desk.before_model("Well, it's complicated.", TODAY) is None and desk.pending is None


@pytest.mark.parametrize("turn", ["I've got a noise from the brakes, how much to look at it.",
                                  "The car is making a noise, what would a check cost."])
def test_a_question_in_a_later_clause_drops_the_waiting_action(desk: ActionDesk, turn: str) -> None:
    """Asked for the time, the caller asks a price in the second clause and the recogniser wrote no
    question mark (seen on the plumber's line: "I've got a dripping pipe under the sink, how much to fix
    it."): it is a question for the agent, not a garbled time, so the model hears it."""
    desk.before_model("I'd like to book an oil change.", TODAY)
    desk.before_model("John Smith, on Tuesday.", TODAY)
    assert desk.pending == "book_appointment"
    assert desk.before_model(turn, TODAY) is None and desk.pending is None


@pytest.mark.parametrize("turn", ["No, forget it.", "Don't worry about it."])
def test_a_no_instead_of_an_answer_drops_the_waiting_action(desk: ActionDesk, turn: str) -> None:
    desk.before_model("I need to move my appointment.", TODAY)
    assert desk.before_model(turn, TODAY) is None and desk.pending is None


def test_a_booking_for_something_not_done_is_refused_without_a_booking(desk: ActionDesk) -> None:
    decision = desk.before_model("I'd like to book a paint job for Friday.", TODAY)
    assert isinstance(decision, Say) and decision.text.startswith("Sorry, we don't do bodywork or paint.")
    assert "oil change" in decision.text  # what the garage does do
    assert desk.pending is None
    model_call = desk.on_call("book_appointment", {"service": "towing"}, "Can I book a tow for my van?", TODAY)
    assert isinstance(model_call, Say) and "towing" in model_call.text and desk.pending is None


def test_a_booking_for_a_service_beside_something_not_done_says_both(desk: ActionDesk) -> None:
    decision = desk.before_model("Can I book an oil change and a paint touch-up?", TODAY)
    assert isinstance(decision, Say)
    assert decision.text.startswith("Sorry, we don't do bodywork or paint. We offer oil change")  # and what it does
    assert decision.text.endswith("Could you give me your name, the day and the time?")
    assert desk.pending == "book_appointment"


def test_coming_in_on_a_closed_day_is_answered_by_the_desk_without_the_model(desk: ActionDesk) -> None:
    """"Can I bring my car in on Sunday?" is a booking for a day the garage never opens: the desk says so
    and asks the day again, as it does when the model calls the booking."""
    decision = desk.before_model("Can I bring my car in on Sunday?", TODAY)
    assert isinstance(decision, Say) and "closed on Sundays" in decision.text and "Which day" in decision.text
    assert desk.pending == "book_appointment"
    later = desk.before_model("Monday then, please.", TODAY)
    assert isinstance(later, Say) and "Monday" in later.text and "your name" in later.text


@pytest.mark.parametrize("turn", ["Can I pop in on Sunday?", "Could I drop the car off on Sunday?",
                                  "Could a mechanic come round on Sunday?", "Can someone come out to me on Sunday?"])
def test_other_words_for_coming_in_on_a_closed_day(desk: ActionDesk, turn: str) -> None:
    decision = desk.before_model(turn, TODAY)
    assert isinstance(decision, Say) and "closed on Sundays" in decision.text


def test_a_turn_that_drops_the_waiting_action_is_read_afresh(desk: ActionDesk) -> None:
    """Asked for the message, the caller asks to come in on Sunday instead: the message is dropped and
    the closed day answered, as it would be with nothing waiting."""
    desk.on_call("take_message", {}, "Can I leave a message for the mechanic? It's Raj Patel, 555 0199.", TODAY)
    assert desk.pending == "take_message"
    decision = desk.before_model("Can I bring my car in on Sunday?", TODAY)
    assert isinstance(decision, Say) and "closed on Sundays" in decision.text
    assert desk.pending == "book_appointment"


@pytest.mark.parametrize("turn", [
    "Can I come in on Sunday or Monday?",  # one of them is open: whether to book is the model's call
    "Are you open on Sunday?",  # a question about the hours: the facts answer it
])
def test_other_days_and_questions_are_not_taken_as_closed_day_bookings(desk: ActionDesk, turn: str) -> None:
    assert desk.before_model(turn, TODAY) is None and desk.pending is None


@pytest.mark.parametrize(("turn", "part"), [
    ("It's John Smith.", True),  # one of the three asked for
    ("Tuesday, please.", True),
    ("It's John Smith, Tuesday at 10 am.", False),  # all of it
    ("What time do you close?", False),  # a question, no answer
    ("Um, let me think.", False),  # none of it
])
def test_an_answer_that_gives_part_of_what_was_asked(desk: ActionDesk, turn: str, part: bool) -> None:
    desk.before_model("I'd like to book an oil change.", TODAY)  # asks for the name, the day and the time
    assert desk.answers_in_part(turn, TODAY) is part
    assert desk.pending == "book_appointment"  # nothing was changed


def test_nothing_waiting_is_no_part_answer(desk: ActionDesk) -> None:
    assert not desk.answers_in_part("It's John Smith.", TODAY)


def test_only_what_the_last_question_asked_for_counts(desk: ActionDesk) -> None:
    desk.before_model("Can I bring my car in on Sunday?", TODAY)  # closed: "Which day would suit you?"
    assert not desk.answers_in_part("It's John Smith.", TODAY)  # the day alone was asked for


def test_a_name_the_line_garbled_is_not_taken_for_the_message(desk: ActionDesk) -> None:
    """Asked for a name, a number and a message, the caller gives a name the recogniser garbled ("Sure,
    it's all it be accused."): it is asked for again, not passed on as the message, so the message the
    caller gives later is the one kept."""
    desk.on_call("take_message", {}, "Could I leave a message for the mechanic, please?", TODAY)
    again = desk.before_model("Sure, it's all it be accused.", TODAY)
    assert isinstance(again, Say) and "didn't catch" in again.text and "your message" in again.text
    number = desk.before_model("5, 5, 5, 0, 4, 1, 7.", TODAY)
    assert isinstance(number, Say) and "I have your number as 5 5 5 0 4 1 7." in number.text
    assert "your name and your message" in number.text
    message = desk.before_model("It's about Rocky's blood test results from Monday.", TODAY)
    assert isinstance(message, Say) and "I have your message." in message.text and "your name?" in message.text
    assert desk.pending == "take_message"
    done = desk.before_model("My name is Olivia Hughes.", TODAY)
    assert isinstance(done, Run) and done.arguments == {
        "name": "Olivia Hughes", "phone": "5550417", "text": "It's about Rocky's blood test results from Monday"}


def test_a_short_number_after_a_garbled_name_is_still_asked_for_again(desk: ActionDesk) -> None:
    """Asking again for what was not caught and asking again for a number cut short are two chances,
    not one: a number the line shortened after a garbled name is asked for once more."""
    desk.on_call("take_message", {}, "Could I leave a message for the mechanic, please?", TODAY)
    desk.before_model("Sure, it's all it be a hues.", TODAY)
    again = desk.before_model("5. 0. 4. 1. 7.", TODAY)
    assert isinstance(again, Say) and "only caught 5 0 4 1 7" in again.text and desk.pending == "take_message"


@pytest.mark.parametrize(("answer", "goodbye"), [
    ("Okay, thank you, have a good day.", True),
    ("Yes please. Bye!", True),
    ("Yes, that's it.", False),
    ("Yes please.", False),
])
def test_a_yes_that_also_says_goodbye_runs_the_action_and_then_ends_the_call(
        desk: ActionDesk, answer: str, goodbye: bool) -> None:
    desk.on_call("cancel_appointment", {}, "I need to cancel my appointment on Friday.", TODAY)
    read_back = desk.before_model("It's under Mark Sullivan.", TODAY)
    assert isinstance(read_back, Say) and "yes or no" in read_back.text
    decision = desk.before_model(answer, TODAY)
    assert isinstance(decision, Run) and decision.spec.name == "cancel_appointment"
    assert decision.then_goodbye is goodbye


def test_a_question_for_the_staff_is_the_message(desk: ActionDesk) -> None:
    """Asked for the message, "Can she call me about Bella's stitches?" is a question for the person the
    message is for: it is the message, not a question for the agent (which drops the message)."""
    desk.on_call("take_message", {}, "Can I leave a message for Dr Patel?", TODAY)
    named = desk.before_model("Yes, my name is Sarah Jones and my number is 555 0133.", TODAY)
    assert isinstance(named, Say) and named.text.startswith("Thanks, Sarah Jones.")  # not "Thanks, Dr Patel."
    assert not desk.asks_instead("Can she call me about Bella's stitches?")
    done = desk.before_model("Can she call me about Bella's stitches?", TODAY)
    assert isinstance(done, Run) and done.arguments["text"] == "Can she call me about Bella's stitches?"
    assert desk.asks_instead("Is there a warranty on your repairs?")


@pytest.mark.parametrize(("turn", "acts"), [
    ("What happens if we forget and miss the appointment?", False),
    ("What if I need to cancel my booking?", False),
    ("Can I cancel my appointment?", True),
    ("When is my appointment?", True),
])
def test_a_question_of_what_happens_if_asks_for_no_action(desk: ActionDesk, turn: str, acts: bool) -> None:
    """"What happens if we miss the appointment?" asks about a rule (the policies answer it), not to find,
    move or cancel anything: the model, which may call an action, need not hear it."""
    assert desk.may_act(turn) is acts


def test_a_name_given_again_in_full_is_taken_and_the_message_goes_on(desk: ActionDesk) -> None:
    """"Yeah it's Tom." then "Tom Baker.": the name is put right and the number asked for again, not the
    message dropped (a short answer with nothing asked for in it used to end it)."""
    desk.on_call("take_message", {}, "Can I leave a message?", TODAY)
    desk.before_model("Yeah it's Tom.", TODAY)
    again = desk.before_model("Tom Baker.", TODAY)
    assert isinstance(again, Say) and again.text.startswith("Thanks, Tom Baker.") and "a number" in again.text
    desk.before_model("555 0123.", TODAY)
    done = desk.before_model("Just that the car is ready to collect whenever.", TODAY)
    assert isinstance(done, Run) and done.arguments["name"] == "Tom Baker"


def test_a_call_back_asked_for_with_what_it_is_about_is_the_whole_message(desk: ActionDesk) -> None:
    turn = "Hi, this is Tom Baker, 555 0123, can you ask the mechanic to call me about my brakes?"
    assert desk.requested(turn) == "take_message"
    done = desk.before_model(turn, TODAY)
    assert isinstance(done, Run) and done.arguments["name"] == "Tom Baker" and done.arguments["phone"] == "5550123"
    assert "call me about my brakes" in done.arguments["text"]


def test_a_move_asked_for_by_the_service_booked_is_a_move_from_the_day_said_first(desk: ActionDesk) -> None:
    """"Move my oil change from Monday to Wednesday": the service names the booking, and the day after
    "from" is the one it moves from."""
    assert desk.requested("I'd like to move my oil change from Monday to Wednesday.") == "move_appointment"
    assert desk.requested("Could I cancel the oil change, please?") == "cancel_appointment"
    assert desk.requested("How much is an oil change?") == ""
    asked = desk.before_model("I'd like to move my oil change from Monday to Wednesday.", TODAY)
    assert isinstance(asked, Say) and asked.text.startswith("Wednesday the 2nd of December, noted.")


def test_see_me_asks_for_a_booking(desk: ActionDesk) -> None:
    assert desk.may_act("My brakes are squealing, can you see me today?")


@pytest.mark.parametrize(("turn", "action"), [
    ("Hello, I was hoping to book my car in for an oil change.", "book_appointment"),
    ("I need to bring my car in, the brakes are squealing.", "book_appointment"),
    ("Can I bring my car in on Monday?", "book_appointment"),  # as "Can I book for Monday?" is
    ("Hi there, I'm calling to cancel Max's appointment.", "cancel_appointment"),
    ("Do you have anything on Saturday morning?", ""),  # a question: the model hears it, and may book
])
def test_more_ways_to_ask_outright(desk: ActionDesk, turn: str, action: str) -> None:
    assert desk.requested(turn) == action


def test_a_question_for_a_free_time_may_ask_for_a_booking(desk: ActionDesk) -> None:
    assert desk.may_act("Do you have anything on Saturday morning for an oil change?")
    assert desk.may_act("Have you got any slots on Friday?")


def test_a_visit_at_a_time_no_day_is_open_is_no_booking_for_the_desk(desk: ActionDesk) -> None:
    """"It's 11 at night, can I bring my car in now?": what to do when the garage is closed (its facts,
    through the model), not a booking's first question."""
    late = "It's 11 at night and I've broken down. Can I bring my car in now?"
    assert desk.before_model(late, TODAY) is None
    assert isinstance(desk.on_call("book_appointment", {}, late, TODAY), Reconsider)  # nor when the model calls it
    asked = desk.before_model("Can I bring my car in at 10 on Friday?", TODAY)
    assert isinstance(asked, Say) and "Friday the 27th of November at 10 am, noted." in asked.text


def test_a_new_time_with_no_new_day_moves_the_booking_on_the_day_it_is(desk: ActionDesk) -> None:
    desk.before_model("I need to change the time of my appointment.", TODAY)
    desk.before_model("It's Mike Ross, I'm booked for Friday at nine.", TODAY)
    done = desk.before_model("Could we make it two thirty instead?", TODAY)
    assert isinstance(done, Run) and done.arguments == {"name": "Mike Ross", "day": "2026-11-27", "time": "14:30"}


def test_a_new_day_said_is_the_day_moved_to(desk: ActionDesk) -> None:
    desk.before_model("I need to change the time of my appointment.", TODAY)
    desk.before_model("It's Mike Ross, I'm booked for Friday at nine.", TODAY)
    done = desk.before_model("Could we do Thursday at two thirty instead?", TODAY)
    assert isinstance(done, Run) and done.arguments["day"] == "2026-11-26"
