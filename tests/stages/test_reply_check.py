"""The reply check: clauses that contradict the persona's facts, echo the caller or repeat an earlier
reply are caught; right answers pass."""

from __future__ import annotations

import pytest

from voiceagent.personas import relevant_facts
from voiceagent.personas.facts import identity_sentence
from voiceagent.personas.model import Business
from voiceagent.stages.reply_check import ReplyCheck, fallback_reply, numbers_in


def last_fails(check: ReplyCheck, clauses: list[str]) -> str:
    """The kind of problem the last of ``clauses`` has, all before it passing ("" if it passes too)."""
    problems = [check.clause(c) for c in clauses]
    assert problems[:-1] == [None] * (len(clauses) - 1)
    return problems[-1].kind if problems[-1] is not None else ""


def test_numbers_are_read_as_digits_and_words() -> None:
    assert numbers_in("Open 7:30 am to 5:30 pm, call 555 0142") == {7, 30, 5, 555, 142}
    assert numbers_in("It costs sixty dollars") == {60}


@pytest.mark.parametrize("clause", [
    "An oil change is 45 dollars.",
    "Brakes are 180 dollars per axle.",
    "We're open Saturday from 8 am to 12 noon.",
    "Sorry, we're closed on Sundays.",
    "We are not open on Sunday, but Monday works.",
    "Sure, what's your name?",
])
def test_right_answers_pass(garage: Business, clause: str) -> None:
    assert ReplyCheck(garage, "a question").clause(clause) is None


@pytest.mark.parametrize(("said", "clause", "kind"), [
    ("How much is an oil change?", "An oil change is 39 dollars.", "invented_number"),
    ("Do you do wheel alignment?", "Wheel alignment is ninety dollars.", "invented_number"),
    ("Do you do wheel alignment?", "Yes, we do wheel alignment.", "unsupported_yes"),
    ("Can you tow my car to your garage?", "Sure, we can tow it today.", "unsupported_yes"),
    # a yes in what someone will do: a 0.5B model to "Would the vet be able to look at my corn snake?"
    ("Would the mechanic be able to look at my jet ski?", "The mechanic is able to look at your jet ski.",
     "unsupported_yes"),
    ("Could you tow my car?", "We would be happy to tow it.", "unsupported_yes"),
    ("When do you close on Friday?", "We are closed on Fridays.", "open_day"),
    ("How much does a new battery cost?", "A new battery costs 180 dollars per axle.", "wrong_price"),
    ("Do you recharge air conditioning?", "It costs about $20 a time.", "wrong_price"),
    ("Can I bring my car in on Sunday morning?", "Sure, Sunday works for us.", "closed_day"),
    ("Are you open Sunday?", "Yes, we're open on Sunday.", "closed_day"),
    ("Can we do Sunday, since it's my only day off?", "Yes, we can do Sunday.", "closed_day"),
    ("Could a mechanic come round on Sunday?", "Yes, Oak Street Garage does Sunday at 8 am to 12 noon.", "closed_day"),
    ("I would like to book an oil change for Tuesday", "You would like to book an oil change for Tuesday.",
     "echo"),
    ("When do you close on Friday?", "Friday the 2nd of December, noted.", "claims_action"),
    ("My number is 555 0199.", "Got it, noted.", "claims_action"),
    ("Is Mike working this Saturday? He did my car last time.", "Could you give me the day and the time?",
     "asks_details"),
    ("If something comes up, how much notice do you need to cancel?", "Could you give me your message?",
     "asks_details"),
    ("What happens if I miss my appointment?", ("You can: book, move or cancel appointments (ask for the caller's "
     "name and a preferred day)."), "instructions"),  # the prompt's words for the agent, copied
    ("I need to change my booking.", "Please ask for the caller's name and a preferred day.", "instructions"),
    ("Who's the head mechanic these days?", "The head mechanic is Alex.", "agent_as_someone"),  # the agent's name
    ("What's the name of the owner?", "Alex is the owner of Oak Street Garage.", "agent_as_someone"),
])
def test_wrong_answers_are_caught(garage: Business, said: str, clause: str, kind: str) -> None:
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(clause)
    assert problem is not None and problem.kind == kind


@pytest.mark.parametrize(("said", "clause"), [
    ("Who am I speaking to?", "This is Alex at Oak Street Garage."),
    ("Sorry, who's this?", "I'm Alex, at Oak Street Garage."),
    ("Can I leave a message for the mechanic?", "Sure, what's your name and number?"),
    ("Tuesday morning, please.", "Sure, Tuesday morning it is."),
])
def test_yes_is_fine_where_a_fact_answers_or_nothing_was_asked(garage: Business, said: str, clause: str) -> None:
    assert ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(clause) is None


def test_a_number_the_caller_gave_may_be_said_back(garage: Business) -> None:
    check = ReplyCheck(garage, "It's 0 7 9 3 4", earlier_said=["My car is a 2014 Ford"])
    assert check.clause("Thanks, I have 2014 and 7 9 3 4.") is None


def test_an_earlier_reply_is_not_repeated_to_a_different_question(garage: Business) -> None:
    earlier = [("I'd like to book a check of my brakes", "Sure, you can book a brake check for next week.")]
    check = ReplyCheck(garage, "Do you sell used cars?", earlier_replies=earlier)
    problem = check.clause("Sure, you can book a brake check for next week.")
    assert problem is not None and problem.kind == "repeat"
    same_question = ReplyCheck(garage, "I'd like to book a check of my brakes", earlier_replies=earlier)
    assert same_question.clause("Sure, you can book a brake check for next week.") is None


def test_only_the_first_clause_is_checked_for_echo_and_repeat(garage: Business) -> None:
    check = ReplyCheck(garage, "Is there parking for customers at the garage?")
    assert check.clause("Let me see.") is None
    assert check.clause("Is there parking for customers at the garage?") is None


def test_without_facts_only_echo_and_repeat_are_checked() -> None:
    check = ReplyCheck(None, "What is the meaning of life, tell me now")
    assert check.clause("It is 42.") is None
    echo = ReplyCheck(None, "What is the meaning of life, tell me now").clause("The meaning of life, tell me now.")
    assert echo is not None and echo.kind == "echo"


def test_the_fallback_says_the_matching_facts_or_offers_a_message(garage: Business) -> None:
    facts = relevant_facts(garage, "Are you open on Sunday?")
    said = fallback_reply(facts, "I don't know.")
    assert "closed" in said.lower() and "sunday" in said.lower()
    assert fallback_reply((), "I don't know, shall I take a message?") == "I don't know, shall I take a message?"


@pytest.mark.parametrize(("said", "clauses", "kind"), [
    ("Are you open on Sunday?", ["Oak Street Garage is open", "on Sunday."], "closed_day"),
    ("Can I come in on Sunday?", ["Sure, that works."], "closed_day"),
    ("Are you open on Saturday?", ["Sorry, we are closed", "on Saturday."], "open_day"),
])
def test_open_or_closed_without_a_day_answers_for_the_day_asked(garage: Business, said: str, clauses: list[str],
                                                                 kind: str) -> None:
    """The first piece of a reply is cut early, before a phrase such as "on Sunday": the claim is in it."""
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(clauses[0])
    assert problem is not None and problem.kind == kind


@pytest.mark.parametrize(("said", "clauses"), [
    ("Are you open on Sunday?", ["Sorry, we're closed on Sundays.", "We are open Monday to Saturday."]),
    ("Are you open on Saturday?", ["Yes, we are open", "on Saturday from 8 am to 12 noon."]),
    ("Are you open on Sunday or Monday?", ["We are open", "on Monday from 7:30 am."]),  # two days: the clause says which
])
def test_open_or_closed_said_rightly_passes(garage: Business, said: str, clauses: list[str]) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert [check.clause(c) for c in clauses] == [None] * len(clauses)


@pytest.mark.parametrize("clauses", [["The brush is", "in the garage."], ["It's located near the town centre."]])
def test_a_place_that_is_not_the_address_is_caught(garage: Business, clauses: list[str]) -> None:
    """Judged on the first sentence so far: its first piece is cut early, before "in the garage"."""
    said = "Where's the brush?"  # "Where's the garage?" on a phone line
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problems = [check.clause(c) for c in clauses]
    assert problems[:-1] == [None] * (len(clauses) - 1)
    assert problems[-1] is not None and problems[-1].kind == "wrong_place"
    assert "48 Oak Street" in fallback_reply(relevant_facts(garage, said), "I don't know.")


@pytest.mark.parametrize(("said", "clause"), [
    ("Where are you located?", "We're located at 48 Oak Street."),
    ("Where are you?", "You'll find us on Oak Street, at number 48."),
    ("Is your car park big?", "The car park is behind the building."),  # not a question of where
])
def test_the_address_or_a_place_nobody_asked_for_passes(garage: Business, said: str, clause: str) -> None:
    assert ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(clause) is None


def test_a_list_asked_for_by_name_is_the_fallback(garage: Business) -> None:
    said = fallback_reply(relevant_facts(garage, "Can you tell me about your prices and your opening hours?"), "I don't know.")
    assert "saturday" in said.lower() and "45" in said  # the week and the oil change's price
    # "when" alone brings the week in as context: it answers no particular question
    assert fallback_reply(relevant_facts(garage, "When is my car ready?"), "I don't know.") == "I don't know."


@pytest.mark.parametrize(("said", "clauses"), [
    ("How much does an oil change cost?", ["I'm sorry, I don't have that information."]),
    ("Can you tell me your prices?", ["I'm sorry, I don't have that information."]),
    ("What are your opening hours?", ["Sorry,", "I don't know that."]),
    ("What are your prices?", ["I'm not sure."]),
])
def test_not_knowing_what_the_facts_answer_is_caught(garage: Business, said: str, clauses: list[str]) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problems = [check.clause(c) for c in clauses]
    assert problems[:-1] == [None] * (len(clauses) - 1)
    assert problems[-1] is not None and problems[-1].kind == "dont_know"


@pytest.mark.parametrize(("said", "clauses"), [
    ("Is there a cafe nearby?", ["I'm sorry, I don't have that information."]),  # no fact answers
    ("How much does a new battery cost?", ["I'm sorry, I don't have that information."]),  # not sold: right
    ("When is my car ready?", ["I don't know that, I can take a message."]),  # the week is only context
    ("How much is an oil change?", ["An oil change is 45 dollars.", "I don't know about other work."]),
])
def test_not_knowing_passes_where_no_fact_answers_or_after_the_answer(garage: Business, said: str,
                                                                      clauses: list[str]) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert [check.clause(c) for c in clauses] == [None] * len(clauses)


def test_the_dont_know_line_says_what_the_business_is(garage: Business) -> None:
    said = fallback_reply((), "Sorry, I don't know. Shall I take a message?", garage)
    assert said == f"Sorry, I don't know. {identity_sentence(garage)} Shall I take a message?"
    assert garage.kind in said


def test_an_echo_behind_a_lone_sure_is_caught_in_the_first_sentence(garage: Business) -> None:
    said = "Hi, can I make an appointment for an oil change?"
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert check.clause("Sure,") is None
    problem = check.clause("you can make an appointment for an oil change.")
    assert problem is not None and problem.kind == "echo"


def test_a_generic_line_may_be_said_again_but_a_claim_may_not(garage: Business) -> None:
    dont_know = "I'm sorry, I don't know that. I can take a message for the mechanic if you like."
    earlier = [("Is there parking?", dont_know), ("Are you open Saturday?", "Yes, we are open Saturday from 8 am.")]
    generic = ReplyCheck(garage, "Do you sell gift cards?", earlier_replies=earlier)
    assert generic.clause(dont_know) is None
    claim = ReplyCheck(garage, "Do you sell gift cards?", earlier_replies=earlier)
    problem = claim.clause("Yes, we are open Saturday from 8 am.")
    assert problem is not None and problem.kind in ("repeat", "unsupported_yes")


def test_a_generic_line_said_again_to_a_question_the_facts_answer_is_a_repeat(garage: Business) -> None:
    identity = identity_sentence(garage)
    earlier = [("Who won the football game last night?", identity)]
    asked = "What time do you close on Friday?"
    check = ReplyCheck(garage, asked, facts=relevant_facts(garage, asked), earlier_replies=earlier)
    problem = check.clause(identity)
    assert problem is not None and problem.kind == "repeat"
    generic = "Sorry, I don't know that. Shall I take a message?"
    unanswered = ReplyCheck(garage, "Do you sell gift cards?", earlier_replies=[("Is there a cafe nearby?", generic)])
    assert unanswered.clause(generic) is None  # no fact answers it: the line may be said again


@pytest.mark.parametrize("clause", ["60", "60.", "45,", "55.0.3.4.8.", "555 0199."])  # (the last two: digits of a
# number the caller gave, copied to a question about notice)
def test_a_number_alone_is_not_an_answer(garage: Business, clause: str) -> None:
    """A small model copies a number from its facts or its last reply to the next question, whatever it is."""
    problem = ReplyCheck(garage, "Can I order a large pizza?").clause(clause)
    assert problem is not None and problem.kind == "bare_number"


def test_a_number_with_what_it_is_passes(garage: Business) -> None:
    said = "How much is an oil change?"
    assert ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("45 dollars.") is None


@pytest.mark.parametrize("clauses", [["Sorry, I can't assist with that."], ["Sorry,", "but I can't assist with that."],
                                     ["I'm sorry, I cannot help with that request."],
                                     ["Sorry, but I don't know how to do that."],
                                     ["I'm sorry, I can't do that."]])  # to a garbled "fit a new light switch"
def test_a_refusal_and_nothing_else_is_not_an_answer(garage: Business, clauses: list[str]) -> None:
    """A chatbot's refusal leaves a caller with nothing: neither what the business does nor what they can do."""
    check = ReplyCheck(garage, "Tell him the car is still making a noise after the repair.")
    problems = [check.clause(c) for c in clauses]
    assert problems[:-1] == [None] * (len(clauses) - 1)
    assert problems[-1] is not None and problems[-1].kind == "bare_refusal"


@pytest.mark.parametrize("clause", ["Sorry, I can't help with that, but I can take a message for the mechanic.",
                                    "Sorry, we can't do bodywork or paint.", "Sorry, we can't do that on a Sunday."])
def test_a_refusal_that_says_what_instead_passes(garage: Business, clause: str) -> None:
    assert ReplyCheck(garage, "Can you repaint my car?").clause(clause) is None


@pytest.mark.parametrize(("said", "clauses"), [
    ("Is there a warranty on your repairs?", ["Sorry,", "There are no warranties on your repairs."]),
    ("Do you do brake pad replacement?", ["No, we don't do brake pads."]),
    ("Can I pay by card?", ["We don't accept card payments, sorry."]),
])
def test_denying_what_an_answering_fact_has_is_caught(garage: Business, said: str, clauses: list[str]) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problems = [check.clause(c) for c in clauses]
    assert problems[:-1] == [None] * (len(clauses) - 1)
    assert problems[-1] is not None and problems[-1].kind == "denies_fact"


@pytest.mark.parametrize(("said", "clause"), [
    ("Do you have courtesy cars?", "No, there are no courtesy cars, but there is a free shuttle within 5 miles."),
    ("Can I pay by cheque?", "No, we don't take cheques; payment is by card or cash."),
    ("Do you do motorcycles?", "Sorry, we don't do motorcycles."),  # the fact says it is not done
    ("Can I just walk in for an oil change?", "No, appointments are needed for all services."),
    ("Do you offer a discount for seniors?", "We don't offer discounts, as far as I know."),  # no fact: another rule's
])
def test_a_denial_no_fact_contradicts_passes(garage: Business, said: str, clause: str) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problem = check.clause(clause)
    assert problem is None or problem.kind != "denies_fact"


@pytest.mark.parametrize("clauses", [
    ["Oak Street Garage,", "This is Oak Street Garage, a car repair garage."],
    ["This is Oak Street Garage, a car repair garage."],
    ["Sorry,", "Oak Street Garage."],
    ["I'm Oak Street Garage, a car repair garage."],
    ["We're Oak Street Garage."],
])
def test_saying_only_who_answers_is_no_answer(garage: Business, clauses: list[str]) -> None:
    check = ReplyCheck(garage, "Who won the football game last night?", facts=())
    assert last_fails(check, clauses) == "identity_only"


@pytest.mark.parametrize(("said", "clause"), [
    ("Who am I speaking to?", "This is Oak Street Garage, a car repair garage."),  # asked who answers
    ("Is this Oak Street Garage?", "Yes, this is Oak Street Garage."),
    ("Who won the football game?", "This is Oak Street Garage, so I can't help with football."),
])
def test_who_answers_said_when_asked_or_with_more_passes(garage: Business, said: str, clause: str) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problem = check.clause(clause)
    assert problem is None or problem.kind != "identity_only"


def test_hours_for_a_closed_day_that_reach_the_check_in_two_pieces_are_caught(garage: Business) -> None:
    """The chunker cuts a long first sentence after eight words: the day came in one piece, its hours in the
    next ("Yes, Riverside Plumbing & Heating does Sunday" + "at 9 am to 12 noon.", to a caller asking for
    a plumber on Sunday, which is closed). The sentence is judged whole; with its "Yes" the first piece is
    caught by itself."""
    said = "Could a mechanic come round on Sunday?"
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert check.clause("Oak Street Garage does Sunday") is None
    problem = check.clause("at 8 am to 12 noon.")
    assert problem is not None and problem.kind == "closed_day"
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("Yes, Oak Street Garage does Sunday")
    assert problem is not None and problem.kind == "closed_day"
    closed = ReplyCheck(garage, said, facts=relevant_facts(garage, said))  # said as closed: passes
    assert [closed.clause(c) for c in ("Sorry, we're closed on Sunday. We're open Monday", "to Friday 7:30 am to 5:30 pm.")] == [None, None]


@pytest.mark.parametrize(("said", "clauses"), [
    ("Who won the football game last night?", ["Sorry, we're closed."]),
    ("Is there parking near the garage?", ["Sorry,", "we're closed right now."]),
    ("How much is an oil change?", ["I'm afraid we are closed at the moment."]),
])
def test_saying_only_that_the_business_is_closed_to_another_question_is_no_answer(
        garage: Business, said: str, clauses: list[str]) -> None:
    """True after hours, or not, "we're closed" answers none of these (a 0.5B model said it to each)."""
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert last_fails(check, clauses) == "closed_only"


@pytest.mark.parametrize(("said", "clause"), [
    ("Are you open right now?", "Sorry, we're closed right now."),  # asked about now
    ("Is anyone there?", "Sorry, we're closed at the moment."),
    ("Can I come in on Sunday?", "Sorry, we're closed."),  # a day named: the day's check judges it
    ("Who won the football game?", "Sorry, we're closed, but I can take a message."),  # more than closed
    ("What time do you close tonight?", "We're closed today."),
])
def test_closed_said_when_asked_about_the_hours_or_with_more_passes(garage: Business, said: str, clause: str) -> None:
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problem = check.clause(clause)
    assert problem is None or problem.kind != "closed_only"


def test_yes_to_a_question_only_context_matches_is_unsupported(garage: Business) -> None:
    said = "Are your mechanics licensed and insured?"  # "mechanic" matches what the agent can do: context only
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problem = check.clause("Yes, my mechanics are licensed and insured.")
    assert problem is not None and problem.kind == "unsupported_yes"


def test_a_town_the_business_is_said_to_be_based_in_is_not_its_address(garage: Business) -> None:
    said = "Whereabouts are you based?"
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    problem = check.clause("I'm based in Riverside, California.")
    assert problem is not None and problem.kind == "wrong_place"
    assert ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("We're based at 48 Oak Street.") is None


@pytest.mark.parametrize(("said", "clause"), [
    ("Are your mechanics licensed?", "Sorry, we don't do car repairs."),  # what the business is
    ("Can you look at my brakes?", "No, we don't do brake pad replacement."),  # a service it sells
])
def test_denying_what_the_business_is_or_sells_is_caught(garage: Business, said: str, clause: str) -> None:
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(clause)
    assert problem is not None and problem.kind == "denies_fact"


def test_denying_something_else_passes(garage: Business) -> None:
    said = "Can you restore my old Jaguar?"
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("Sorry, we don't do car restorations.")
    assert problem is None or problem.kind != "denies_fact"


def test_a_price_unit_names_no_service(garage: Business) -> None:
    """20 dollars is the tyre fitting's price, per tyre: "per tyre" alone does not make it the price of
    a puncture repair, which the garage does not list."""
    said = "How much is a puncture repair?"
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("A puncture repair is 20 dollars per tyre.")
    assert problem is not None and problem.kind == "wrong_price"
    assert ReplyCheck(garage, "How much to fit tyres?", facts=relevant_facts(garage, "How much to fit tyres?")).clause(
        "Tyre fitting is 20 dollars per tyre.") is None


@pytest.mark.parametrize(("said", "reply"), [
    ("Do you take walk-ins?", "No, no walk-ins."),
    ("Do you offer a discount for students?", "Sorry, we don't offer any discounts for students."),
    ("Is there a waiting room?", "There is no waiting room."),
    ("Can I leave a message for the mechanic?", "Sorry, we don't have a mechanic."),
])
def test_a_no_that_no_fact_supports_is_caught(garage: Business, said: str, reply: str) -> None:
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause(reply)
    assert problem is not None and problem.kind == "unsupported_no"


@pytest.mark.parametrize(("said", "reply"), [
    ("Can you fix my roof?", "Sorry, we don't do roofing. We're a car repair garage."),  # work refused
    ("Do you have courtesy cars?", "No, there are no courtesy cars, but there is a free shuttle."),  # a policy
    ("Do you work on motorcycles?", "No, we don't work on motorcycles."),  # something not done
    ("Can you call me back later?", "No problem, what's your number?"),
    ("Do you take walk-ins?", "I'm sorry, I don't have that information."),
    ("I don't need a courtesy car.", "No worries."),
])
def test_a_supported_no_or_a_refusal_of_work_passes(garage: Business, said: str, reply: str) -> None:
    facts = relevant_facts(garage, said)
    problem = ReplyCheck(garage, said, facts=facts).clause(reply)
    assert problem is None or problem.kind != "unsupported_no", problem


def test_the_price_of_another_service_is_no_answer_to_a_thing_no_fact_mentions(garage: Business) -> None:
    """Asked the price of something the garage does not list, a small model gives the nearest price it
    knows. The caller must hear that it is not listed (the fallback), not another service's price."""
    for said, what in (("How much would a valet cost me?", "valet"), ("How much would a paint job cost me?", "paint"),
                       ("How much do you charge to fit a new sunroof?", "sunroof")):  # "fit" and "new" are known
        problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("An oil change is 45 dollars.")
        assert problem is not None and problem.kind == "unasked_price" and what in problem.detail


def test_the_price_of_another_service_is_no_answer_to_something_not_done(garage: Business) -> None:
    """Seen on the salon's phone line: "Today I book a manicure while my color is processing." (no word of
    price) answered "A woman's haircut is 55 dollars."; the caller must hear that manicures are not done."""
    said = "Today I book a paint job while my car is in."
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("An oil change is 45 dollars.")
    assert problem is not None and problem.kind == "unasked_price" and "paint" in problem.detail


@pytest.mark.parametrize(("said", "earlier", "reply"), [
    ("How much is an oil change?", (), "An oil change is 45 dollars."),  # named
    ("My car is making a squeaky noise, how much to look at it?", (), "An engine diagnostic check is 60 dollars."),
    ("And roughly how much would that be?", (("Do you do oil changes?", "Yes, an oil change takes 30 minutes."),),
     "An oil change is 45 dollars."),  # named in the exchange it follows on from
    ("What would it cost for my van?", (("How long does an oil change take?", "An oil change takes 30 minutes."),),
     "An oil change is 45 dollars."),
])
def test_a_price_the_caller_asked_for_passes(garage: Business, said: str, earlier: tuple[tuple[str, str], ...],
                                             reply: str) -> None:
    assert ReplyCheck(garage, said, facts=relevant_facts(garage, said), earlier_replies=earlier).clause(reply) is None


def test_a_copied_list_of_things_not_done_is_no_answer_to_another_question(garage: Business) -> None:
    """Seen on the plumber's line: "Are your plumbers licensed and insured?" answered "Sorry, we don't do
    electrical work, roofing or gutters, ...". Asked about one of them, the refusal is the answer."""
    said = "Are your mechanics fully qualified?"
    check = ReplyCheck(garage, said, facts=relevant_facts(garage, said))
    assert last_fails(check, ["Sorry,", "we don't do bodywork or paint, car sales, towing or motorcycles."]) == "unasked_refusal"
    asked = "Can you paint my car, or do bodywork?"
    check = ReplyCheck(garage, asked, facts=relevant_facts(garage, asked))
    assert check.clause("Sorry, we don't do bodywork or paint, car sales, towing or motorcycles.") is None


def test_thanking_the_caller_by_a_name_they_never_gave_is_caught(garage: Business) -> None:
    """Seen on the salon's line: "Is Megan working this Saturday?" answered "Thanks, Megan. Saturday, open
    8 am to 5 pm." (the model copies the desk's "Thanks, <name>." from the call's history)."""
    said = "Is Megan working this Saturday?"
    problem = ReplyCheck(garage, said, facts=relevant_facts(garage, said)).clause("Thanks, Megan.")
    assert problem is not None and problem.kind == "unknown_name"
    given = ReplyCheck(garage, "Friday at 10.", caller_names=["Megan Lee"])  # given earlier in the call
    assert given.clause("Thanks, Megan.") is None and given.clause("Thank you for calling.") is None
    business = ReplyCheck(garage, "It's making working this Saturday.")  # the phone line's "Is Megan working"
    thanked = business.clause("Thanks, Oak Street Garage.")  # the business thanked as if it were the caller
    assert thanked is not None and thanked.kind == "unknown_name"
    three = ReplyCheck(garage, "Friday at 10.", caller_names=["Mary Ann Lee"])
    assert three.clause("Thank you, Mary Ann Lee.") is None
