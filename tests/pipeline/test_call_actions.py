"""Actions in a call on fake engines, with the real SQLite store: the model picks the action, the call
asks for what is missing, carries it out, and says only what really happened."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from pathlib import Path

from tests.actions.test_webhook import SECRET, Answer, StartHook
from tests.fakes.call import FAST_BUDGETS, running_call
from tests.fakes.engines import ScriptedStt, ScriptedTurnModel, seconds_of
from tests.fakes.llm import Reply, ScriptedLlm
from voiceagent.actions.runner import FAILED, ActionRunner
from voiceagent.actions.store import ActionStore
from voiceagent.actions.webhook import WebhookClient
from voiceagent.actions.when import resolve_day
from voiceagent.events import Transcript, Transfer, TurnMetrics
from voiceagent.personas import Persona, load_persona

GARAGE = Path(__file__).resolve().parents[2] / "voiceagent" / "prompts" / "garage.toml"
BOOK = '<tool_call>{"name": "book_appointment", "arguments": {"name": "", "service": "", "day": "", "time": ""}}</tool_call>'


def garage() -> Persona:
    return load_persona(GARAGE)


def store_and_runner(tmp_path: Path) -> tuple[ActionStore, dict[str, ActionRunner]]:
    store = ActionStore(tmp_path / "actions.db")
    return store, {"runner": ActionRunner(store)}


async def test_a_booking_over_two_turns_is_stored_and_confirmed_from_the_store(tmp_path: Path) -> None:
    store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["Can you book me in for an oil change?", "John Smith, Tuesday at 10 am."])  # the model's call
    llm = ScriptedLlm([BOOK])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage(), call_options=options) as call:
        await call.exchange(1)
        await call.exchange(2)
        asked, done = " ".join(call.output.said("reply", turn=1)), " ".join(call.output.said("reply", turn=2))
        record = await call.end()
    assert "your name" in asked and "the day" in asked
    [booked] = store.appointments("garage")
    tuesday = resolve_day("Tuesday", datetime.date.today())
    assert (booked.name, booked.service, booked.start) == (
        "John Smith", "oil change", datetime.datetime.combine(tuesday, datetime.time(10, 0)))  # type: ignore[arg-type]
    assert done.startswith("Done") and "John Smith" in done
    assert len(llm.requests) == 1  # the second turn was read by the call, not guessed by the model
    actions = [e for e in record if e["kind"] == "action"]
    assert [(a["name"], a["outcome"]) for a in actions] == [("book_appointment", "done")]


async def test_how_many_people_a_booking_is_for_is_kept_with_it_and_said(tmp_path: Path) -> None:
    store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I'd like to book an oil change for the two of us, there'll be 2 people.",
                       "John Smith, Tuesday at 10 am."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=garage(), call_options=options) as call:
        await call.exchange(1)
        await call.exchange(2)
        asked, done = " ".join(call.output.said("reply", turn=1)), " ".join(call.output.said("reply", turn=2))
        await call.end()
    assert asked.startswith("For 2 people, noted.")
    [booked] = store.appointments("garage")
    assert booked.party == 2 and "for 2 people" in done


async def book_then(tmp_path: Path, second: str) -> tuple[str, list[dict[str, object]], ActionStore]:
    """A garage call: "I'd like to book an oil change." (the model calls book_appointment), then ``second``.
    What the caller heard in reply to ``second``, the call's record, and the store."""
    store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I'd like to book an oil change.", second])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=garage(),
                            call_options=options) as call:
        await call.exchange(1)
        await call.exchange(2)
        said = " ".join(call.output.said("reply", turn=2))
        record = await call.end()
    return said, record, store


async def test_a_closed_day_is_refused_with_the_reason_and_another_day_asked_for(tmp_path: Path) -> None:
    said, _, store = await book_then(tmp_path, "My name is John Smith, Sunday at 10 am.")
    assert "closed on Sundays" in said and "Which day" in said and "Done" not in said
    assert store.appointments("garage") == []


async def test_a_time_the_rules_refuse_is_asked_again_with_their_reason_and_nothing_is_stored(tmp_path: Path) -> None:
    """The booking's rules are met before it runs: a time after closing is asked again, with why, and the
    booking waits on; nothing is stored until a time that fits is given, and no refusal was needed."""
    store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I'd like to book an oil change.", "My name is John Smith, Saturday at 3 pm.", "10 am, then."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=garage(),
                            call_options=options) as call:
        await call.exchange(1)
        await call.exchange(2)
        said = " ".join(call.output.said("reply", turn=2))
        assert store.appointments("garage") == []
        await call.exchange(3)
        done = " ".join(call.output.said("reply", turn=3))
        record = await call.end()
    assert "after we close" in said and "What time would suit you?" in said and "Done" not in said, said
    assert done.startswith("Done"), done
    [booked] = store.appointments("garage")
    assert booked.start.time() == datetime.time(10, 0) and booked.start.weekday() == 5
    assert [a["outcome"] for a in record if a["kind"] == "action"] == ["done"]


async def test_what_was_understood_is_said_back_while_asking_for_the_rest(tmp_path: Path) -> None:
    said, _, _ = await book_then(tmp_path, "My name is Maria Lopez.")
    assert said == "Thanks, Maria Lopez. Could you give me the day and the time?"


async def test_the_agent_says_goodbye_and_ends_the_call(tmp_path: Path) -> None:
    llm = ScriptedLlm(['<tool_call>{"name": "end_call", "arguments": {}}</tool_call>'])
    async with running_call(tmp_path, stt=ScriptedStt(["That's all. Bye!"]), llm=llm,
                            persona=garage()) as call:
        await call.say()
        await asyncio.wait_for(asyncio.shield(call.task), 3.0)
        assert call.call.end_reason == "agent_ended"
        assert "Goodbye" in " ".join(call.output.said(turn=1))


async def test_a_transfer_is_handed_to_the_transport_after_the_words_are_heard(tmp_path: Path) -> None:
    llm = ScriptedLlm(['<tool_call>{"name": "transfer_to_human", "arguments": {}}</tool_call>'])
    async with running_call(tmp_path, stt=ScriptedStt(["Can I speak to a person?"]), llm=llm, persona=garage(),
                            transfer_to="sip:desk@example.com") as call:
        await call.say()
        await asyncio.wait_for(asyncio.shield(call.task), 3.0)
        [transfer] = call.output.of_type(Transfer)
        assert transfer.to == "sip:desk@example.com" and call.call.end_reason == "transferred"
        assert not call.output.playing()  # the caller heard "putting you through" to the end first


async def test_without_anywhere_to_transfer_to_the_agent_says_so_and_the_call_goes_on(tmp_path: Path) -> None:
    llm = ScriptedLlm(['<tool_call>{"name": "transfer_to_human", "arguments": {}}</tool_call>'])
    async with running_call(tmp_path, stt=ScriptedStt(["Can I speak to a person?"]), llm=llm,
                            persona=garage()) as call:
        await call.exchange(1)
        assert "no one" in " ".join(call.output.said(turn=1))
        assert not call.task.done() and call.output.of_type(Transfer) == []


async def test_an_action_nobody_asked_for_is_set_aside_and_the_model_answers_in_words(tmp_path: Path) -> None:
    llm = ScriptedLlm(['<tool_call>{"name": "end_call", "arguments": {}}</tool_call>', "It is 45 dollars."])
    async with running_call(tmp_path, stt=ScriptedStt(["How much is an oil change?"]), llm=llm,
                            persona=garage(), fact_answers=False) as call:  # the model's path
        await call.exchange(1)
        assert call.output.said("reply", turn=1) == ["It is 45 dollars."]
        record = await call.end()
    assert llm.tools_offered[0] and llm.tools_offered[1] == ()  # words only, the second time
    assert [e["name"] for e in record if e["kind"] == "action_reconsidered"] == ["end_call"]


async def test_an_action_nobody_asked_for_gives_way_to_the_facts_that_answer_the_words(tmp_path: Path) -> None:
    """"Are you open on Saturday?" misheard as "I'll open on Saturday." reads as no question, so the model
    hears it, and calls a booking nobody asked for: the facts that answer the words are said, without
    asking the model a second time."""
    llm = ScriptedLlm(['<tool_call>{"name": "book_appointment", "arguments": {}}</tool_call>', "Saturday, open."])
    async with running_call(tmp_path, stt=ScriptedStt(["I'll open on Saturday."]), llm=llm, persona=garage()) as call:
        await call.exchange(1)
        assert call.output.said("reply", turn=1) == ["On Saturday we're open 8 am to 12 noon."]
        record = await call.end()
    assert len(llm.tools_offered) == 1  # the model was asked once
    assert [e["name"] for e in record if e["kind"] == "action_reconsidered"] == ["book_appointment"]


async def test_a_booking_claimed_in_words_is_never_spoken(tmp_path: Path) -> None:
    persona = garage()
    llm = ScriptedLlm(["I've booked you in for Tuesday."])
    async with running_call(tmp_path, stt=ScriptedStt(["Can you fit me in on Tuesday?"]), llm=llm,
                            persona=persona) as call:
        await call.exchange(1)
        said = " ".join(call.output.said(turn=1))
        record = await call.end()
    assert "booked" not in said and "your name" in said  # the call starts the booking instead
    assert [e["problem"] for e in record if e["kind"] == "reply_check"] == ["claims_action"]


async def test_a_read_back_copied_by_the_model_is_never_spoken_and_the_question_is_answered(tmp_path: Path) -> None:
    """The desk says "Wednesday the 2nd of December, noted." when it takes a day; a small model copied
    that to a later question ("When do you close on Friday?"), claiming to have noted something."""
    copied = "Friday the 2nd of December, noted."  # (with fact answers on, the facts answer without the model)
    llm = ScriptedLlm([copied, copied])
    async with running_call(tmp_path, stt=ScriptedStt(["When do you close on Friday?"]), llm=llm,
                            persona=garage(), fact_answers=False) as call:  # the model answers (see below)
        await call.exchange(1)
        said = " ".join(call.output.said(turn=1))
        record = await call.end()
    assert "noted" not in said and "5:30" in said  # Friday's hours from the facts instead
    assert {e["problem"] for e in record if e["kind"] == "reply_check"} == {"claims_action"}


async def test_a_question_about_the_callers_appointment_is_answered_from_the_store(tmp_path: Path) -> None:
    store, options = store_and_runner(tmp_path)
    persona = garage()
    now = datetime.datetime.now()
    monday = resolve_day("Monday", now.date())
    assert monday is not None and persona.business is not None
    store.book("garage", persona.business, name="Peter Brown", start=datetime.datetime.combine(
        monday, datetime.time(9, 30)), service="oil change", now=now)
    llm = ScriptedLlm(["Peter Brown's appointment is on Friday at 7:30 am."])  # made up: never said
    async with running_call(tmp_path, stt=ScriptedStt(["When is my appointment? My name is Peter Brown."]),
                            llm=llm, persona=persona, call_options=options) as call:
        await call.exchange(1)
        said = " ".join(call.output.said("reply", turn=1))
    assert "Friday" not in said and "9:30 am" in said and "Monday" in said, said


def with_webhook(persona: Persona, action: str, url: str) -> Persona:
    actions = tuple(dataclasses.replace(a, webhook=url) if a.name == action else a for a in persona.actions)
    return dataclasses.replace(persona, actions=actions)


async def test_a_booking_goes_to_the_owners_webhook_signed_and_its_answer_is_said(
    tmp_path: Path, hook: StartHook,
) -> None:
    server = hook(Answer(200, b'{"ok": true, "say": "You are booked in our system for Tuesday at 10."}'))
    webhooks = WebhookClient(SECRET, 2.0, 0)
    options = {"runner": ActionRunner(ActionStore(tmp_path / "actions.db"), webhooks)}
    stt = ScriptedStt(["I'd like to book an oil change.", "John Smith, Tuesday at 10 am."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=with_webhook(
            garage(), "book_appointment", server.url), call_options=options, engine_timeout_s=3.0) as call:
        await call.exchange(1)
        await call.exchange(2)
        said = " ".join(call.output.said("reply", turn=2))
    await webhooks.aclose()
    [seen] = server.seen
    body = json.loads(seen.body)
    assert seen.verified and body["action"] == "book_appointment" and body["arguments"]["name"] == "John Smith"
    assert said == "You are booked in our system for Tuesday at 10."


async def test_a_webhook_that_times_out_gets_a_spoken_fallback_and_nothing_is_claimed(
    tmp_path: Path, hook: StartHook,
) -> None:
    server = hook(Answer(200, b'{"ok": true, "say": "Booked."}', delay_s=2.0))
    webhooks = WebhookClient(SECRET, 1.0, 0)
    options = {"runner": ActionRunner(ActionStore(tmp_path / "actions.db"), webhooks)}
    stt = ScriptedStt(["I'd like to book an oil change.", "John Smith, Tuesday at 10 am."])
    patient = dataclasses.replace(FAST_BUDGETS, turn_ms=5000)  # no deadline filler: only the action's own
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=with_webhook(
            garage(), "book_appointment", server.url), call_options=options, engine_timeout_s=3.0,
            budgets=patient) as call:
        await call.exchange(1)
        await call.say()
        await call.turn_over(2, timeout=5.0)
        await call.output.until_quiet()
        said = call.output.said("reply", turn=2)
        record = await call.end()
    await webhooks.aclose()
    assert " ".join(said).endswith(FAILED) and not any("booked" in s.lower() for s in said)
    assert call.output.said(kind="filler", turn=2)  # the caller heard a filler, not silence, while it waited
    [action] = [e for e in record if e["kind"] == "action"]
    assert action["outcome"] == "failed" and "timeout" in action["details"]["error"]


async def test_talking_over_the_agent_does_not_undo_an_action_and_the_model_is_told(
    tmp_path: Path, hook: StartHook,
) -> None:
    server = hook(Answer(200, b'{"ok": true, "say": "You are booked for Tuesday at 10."}', delay_s=0.6))
    webhooks = WebhookClient(SECRET, 3.0, 0)
    options = {"runner": ActionRunner(ActionStore(tmp_path / "actions.db"), webhooks)}
    stt = ScriptedStt(["I'd like to book an oil change.", "John Smith, Tuesday at 10 am.", "Sorry, what was that?"])
    llm = ScriptedLlm([BOOK, "I said you are booked."])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=with_webhook(
            garage(), "book_appointment", server.url), call_options=options, engine_timeout_s=3.0) as call:
        await call.exchange(1)
        await call.say()
        await asyncio.sleep(0.2)  # the webhook is still working: the caller talks over the filler
        await call.speak(0.4)
        for _ in range(100):  # the action finishes while the caller is still talking
            if any(e["kind"] == "action" for e in call.record()):
                break
            await asyncio.sleep(0.05)
        await call.pause(0.3)
        await call.turn_over(3, timeout=5.0)
        record = await call.end()
    await webhooks.aclose()
    assert len(server.seen) == 1  # it was carried out once, not cancelled half way
    [action] = [e for e in record if e["kind"] == "action"]
    assert action["outcome"] == "done" and action["details"]["heard"] is False
    assert "(Done while the caller spoke: book_appointment: done: You are booked" in llm.requests[1][-1]["content"]


async def test_an_action_under_way_when_the_caller_hangs_up_is_finished_and_recorded(
    tmp_path: Path, hook: StartHook,
) -> None:
    server = hook(Answer(200, b'{"ok": true, "say": "Booked."}', delay_s=0.5))
    webhooks = WebhookClient(SECRET, 3.0, 0)
    options = {"runner": ActionRunner(ActionStore(tmp_path / "actions.db"), webhooks)}
    stt = ScriptedStt(["I'd like to book an oil change.", "John Smith, Tuesday at 10 am."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([BOOK]), persona=with_webhook(
            garage(), "book_appointment", server.url), call_options=options, engine_timeout_s=3.0) as call:
        await call.exchange(1)
        await call.say()
        for _ in range(100):  # until the webhook has the request
            if server.seen:
                break
            await asyncio.sleep(0.02)
        record = await call.end(timeout=5.0)
    await webhooks.aclose()
    [action] = [e for e in record if e["kind"] == "action"]
    assert action["outcome"] == "done" and action["details"]["heard"] is False


async def test_the_model_is_stopped_once_it_has_named_a_built_in_action(tmp_path: Path) -> None:
    llm = ScriptedLlm([BOOK])
    async with running_call(tmp_path, stt=ScriptedStt(["Can you book me in for an oil change?"]), llm=llm,
                            persona=garage(), call_options=store_and_runner(tmp_path)[1]) as call:
        await call.exchange(1)
        assert "your name" in " ".join(call.output.said("reply", turn=1))
    assert llm.cancelled == 1 and llm.tokens_sent < len(BOOK.split())  # its argument values were never written


async def test_a_day_asked_about_earlier_in_the_call_is_not_taken_for_the_booking(tmp_path: Path) -> None:
    call_text = ('<tool_call>{"name": "book_appointment", "arguments": {"name": "", "service": "oil change", '
                 '"day": "Sunday", "time": ""}}</tool_call>')
    llm = ScriptedLlm(["Sorry, we're closed on Sundays.", call_text])
    stt = ScriptedStt(["Are you open on Sunday?", "I'd like to book an oil change."])
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage(),
                            call_options=store_and_runner(tmp_path)[1]) as call:
        await call.exchange(1)
        await call.exchange(2)
        said = " ".join(call.output.said("reply", turn=2))
    assert "closed" not in said and "the day" in said, said


async def test_a_call_written_where_words_were_asked_for_is_never_read_out(tmp_path: Path) -> None:
    end = '<tool_call>{"name": "end_call", "arguments": {}}</tool_call>'
    llm = ScriptedLlm([end, '{"name": "tow_appointment", "arguments": {}}'])
    async with running_call(tmp_path, stt=ScriptedStt(["Could you tow my car from the motorway?"]), llm=llm,
                            persona=garage(), fact_answers=False) as call:  # the model's path, not the facts' answer
        await call.exchange(1)
        said = " ".join(call.output.said("reply", turn=1))
    assert "{" not in said and "tow_appointment" not in said and "We do not do towing" in said, said


async def test_a_sentence_the_caller_went_on_with_answers_the_waiting_action_whole(tmp_path: Path) -> None:
    """Asked for name and day, the caller says "Yes." and, after a pause, the rest. The fragment's turn
    is taken back, so the waiting booking is as it was before it and the whole sentence completes it."""
    store, options = store_and_runner(tmp_path)
    fragment, whole = "Yes.", "Yes, John Smith, Tuesday at 10 am."
    said = iter(["I'd like to book an oil change."])

    def heard(audio: object) -> str:
        first = next(said, None)
        return first if first is not None else (fragment if seconds_of(audio) < 0.8 else whole)  # type: ignore[arg-type]

    llm = ScriptedLlm([BOOK, Reply("Not heard.", first_token_s=0.3)])
    async with running_call(tmp_path, stt=ScriptedStt(heard), llm=llm, persona=garage(), call_options=options) as call:
        await call.exchange(1)
        await call.say()
        await call.output.wait_for(Transcript, lambda t: t.turn == 2)  # the fragment is being answered
        await call.say()
        assert (await call.turn_over(2)).outcome == "continued"
        await call.turn_over(3)
        await call.output.until_quiet()
        await call.end()
    [booked] = store.appointments("garage")
    assert booked.name == "John Smith"


MESSAGE = '<tool_call>{"name": "take_message", "arguments": {"name": "", "phone": "", "text": ""}}</tool_call>'


async def paused_answer(tmp_path: Path, ask: str, part: str, whole: str, pause: float = 0.35, **settings: object,
                        ) -> tuple[TurnMetrics, list[dict[str, object]], ActionStore]:
    """A garage call: ``ask`` (the model calls take_message), then an answer the caller pauses inside:
    ``part``, a ``pause`` the end-of-turn model calls finished (the longest wait is 700 ms), the rest
    (``whole`` is all of it); ``settings`` change the call's. The second turn's metrics, the call's record
    and the store."""
    said = iter([ask])

    def heard(audio: object) -> str:
        first = next(said, None)
        if first is not None:
            return first
        return part if seconds_of(audio) < 0.45 + pause else whole  # type: ignore[arg-type]

    store, options = store_and_runner(tmp_path)
    async with running_call(tmp_path, stt=ScriptedStt(heard), llm=ScriptedLlm([MESSAGE]), persona=garage(),
                            turn=ScriptedTurnModel([0.95] * 2), turn_min_silence_ms=64, turn_max_silence_ms=700,
                            call_options=options, **settings) as call:
        await call.exchange(1)
        await call.speak(0.3)
        await call.pause(pause)  # the model has answered "finished" long before this
        await call.say(0.3, silence=1.4)  # the dictation wait is 1.2 s
        metrics = await call.turn_over(2)
        await call.output.until_quiet()
        record = await call.end()
    return metrics, record, store


async def test_a_caller_reading_out_a_number_may_pause_between_its_groups(tmp_path: Path) -> None:
    """Asked for a call-back number, the caller says "five five five", pauses, and goes on. The end-of-turn
    model calls the first group finished; while a number is awaited the turn waits the longest silence,
    so the whole number is one turn and nothing is said into the pause."""
    metrics, record, _ = await paused_answer(tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel.",
                                             "five five five", "five five five zero one nine nine")
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "patient"
    [number] = [e for e in record if e["kind"] == "transcript" and e["turn"] == 2]
    assert number["text"] == "five five five zero one nine nine"
    assert "your message" in " ".join(str(e.get("text", "")) for e in record if e["kind"] == "reply" and e.get("turn") == 2)


async def test_a_number_read_out_in_groups_is_one_turn_when_unfinished_turns_end_at_once_too(tmp_path: Path) -> None:
    """``turn_unsure_ends`` (on by default) ends other turns at the model's answer; a number is still waited for."""
    metrics, record, _ = await paused_answer(tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel.",
                                             "five five five", "five five five zero one nine nine",
                                             turn_unsure_ends=True)
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "patient"
    assert [e["text"] for e in record if e["kind"] == "transcript"][1:] == ["five five five zero one nine nine"]


async def test_a_caller_dictating_a_message_may_pause_inside_it(tmp_path: Path) -> None:
    """Asked for their message, the caller says "It's about my", pauses, and goes on. The end-of-turn
    model calls the first part finished; while a message is awaited the turn waits the longest silence,
    so the whole message is taken, not its first words."""
    metrics, _, store = await paused_answer(
        tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel, my number is 555 0199.",
        "It's about my", "It's about my bill from last month.")
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "patient"
    [taken] = store.messages("garage")
    assert taken.text.rstrip(".") == "It's about my bill from last month"


async def test_a_pause_inside_a_message_may_be_longer_than_any_other_turn_waits(tmp_path: Path) -> None:
    """A 950 ms pause inside the message: past the 700 ms longest wait of other turns, within the
    dictation wait (``dictation_silence_ms``, 1200 ms), so the whole message is still taken."""
    metrics, _, store = await paused_answer(
        tmp_path, "Can I leave a message for the mechanic? My name is Raj Patel, my number is 555 0199.",
        "The car you fixed last week", "The car you fixed last week is making a banging noise.", pause=0.95)
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "patient"
    [taken] = store.messages("garage")
    assert taken.text.rstrip(".") == "The car you fixed last week is making a banging noise"


async def asked_instead_of_a_message(tmp_path: Path, question: str) -> tuple[TurnMetrics, ActionStore]:
    """A garage call asked for the caller's message; the caller says ``question`` instead (0.6 s of speech,
    then 1.4 s of silence), which the end-of-turn model calls finished. Its turn's metrics, and the store."""
    store, options = store_and_runner(tmp_path)
    said = ["Can I leave a message for the mechanic? My name is Raj Patel, my number is 555 0199.", question]
    async with running_call(tmp_path, stt=ScriptedStt(said), llm=ScriptedLlm([MESSAGE, "Yes, a year on parts."]),
                            persona=garage(), turn=ScriptedTurnModel([0.95]), turn_min_silence_ms=64,
                            turn_max_silence_ms=700, call_options=options) as call:
        await call.exchange(1)
        await call.say(0.6, silence=1.4)  # the dictation wait is 1.2 s
        metrics = await call.turn_over(2)
        await call.output.until_quiet()
        await call.end()
    return metrics, store


async def test_a_question_asked_instead_of_the_message_ends_when_it_sounds_finished(tmp_path: Path) -> None:
    """Asked for their message, the caller asks a question instead: judged finished, it ends at once (not
    after the 1.2 s dictation wait), and is answered, not taken as the message."""
    metrics, store = await asked_instead_of_a_message(tmp_path, "Is there a warranty on your repairs?")
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "question"
    assert metrics.end_of_turn["silence_ms"] < 700
    assert store.messages("garage") == []


async def test_a_message_that_sounds_finished_still_waits_the_dictation_wait(tmp_path: Path) -> None:
    """The same call with a message, not a question: the longest wait stands (the caller may go on)."""
    metrics, store = await asked_instead_of_a_message(tmp_path, "Tell him the car is still making a noise.")
    assert metrics.outcome == "answered" and metrics.end_of_turn["reason"] == "patient"
    assert metrics.end_of_turn["silence_ms"] >= 1200
    [taken] = store.messages("garage")
    assert taken.text.rstrip(".") == "Tell him the car is still making a noise"


async def test_an_action_asked_for_outright_is_started_without_the_model(tmp_path: Path) -> None:
    _store, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I need to change my booking.", "It's John Smith, I'm booked for Monday.", "Friday at 10 am."])
    llm = ScriptedLlm(["Appointments are needed for all services."])  # what the 0.5B model said to it
    async with running_call(tmp_path, stt=stt, llm=llm, persona=garage(), call_options=options) as call:
        for turn in (1, 2, 3):
            await call.exchange(turn)
        said = [" ".join(call.output.said("reply", turn=t)) for t in (1, 2, 3)]
        record = await call.end()
    assert said[0] == "Sure. Could you give me your name, the day and the time?"
    assert said[1] == "Thanks, John Smith. Could you give me the day and the time?"  # Monday is the booking now
    # John Smith has no booking to move: nothing is claimed, and the caller hears what was asked for
    assert said[2].startswith("Sorry, I couldn't move it to Friday") and "can't find an upcoming appointment" in said[2]
    assert llm.requests == []
    actions = [(a["name"], a["arguments"].get("day", "")) for a in record if a["kind"] == "action"]
    assert actions == [("move_appointment", resolve_day("Friday", datetime.date.today()).isoformat())]


async def test_a_yes_with_a_goodbye_does_the_action_says_its_result_and_ends_the_call(tmp_path: Path) -> None:
    """"Okay, thank you, have a good day." to a read-back: the cancellation is carried out (here it finds
    nothing to cancel, and says so), the caller is said goodbye to, and the call ends."""
    _, options = store_and_runner(tmp_path)
    stt = ScriptedStt(["I need to cancel my appointment on Friday.", "It's under Mark Sullivan.",
                       "Okay, thank you, have a good day."])
    async with running_call(tmp_path, stt=stt, llm=ScriptedLlm([]), persona=garage(), call_options=options) as call:
        await call.exchange(1)
        await call.exchange(2)
        await call.say()
        await asyncio.wait_for(asyncio.shield(call.task), 5.0)
        said = " ".join(call.output.said("reply", turn=3))
        assert call.call.end_reason == "agent_ended"
        record = call.record()
    assert said.startswith("Sorry, I couldn't cancel it: I can't find") and said.endswith("Goodbye!")
    actions = [(e["name"], e["outcome"]) for e in record if e["kind"] == "action"]
    assert actions == [("cancel_appointment", "refused"), ("end_call", "done")]
