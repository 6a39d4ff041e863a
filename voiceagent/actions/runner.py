"""Carrying out an action and saying what really happened: the embedded store for the built-ins, or the
owner's webhook. The spoken result is made here from the real outcome (the stored appointment, the
refusal's reason, the webhook's answer), never from what the model wrote.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import time
from typing import Any

from voiceagent.actions.slots import spaced_digits
from voiceagent.actions.store import ActionStore, Appointment, Refused
from voiceagent.actions.webhook import WebhookClient, WebhookError
from voiceagent.actions.when import resolve_day, resolve_time, say_when
from voiceagent.personas import Persona
from voiceagent.personas.actions import ActionSpec

log = logging.getLogger(__name__)

# What a refused action was, in the caller's words ("Sorry, I couldn't cancel it: ..."): "do that" leaves
# a caller who said yes and goodbye in one breath guessing what failed
_DOING = {"cancel_appointment": "cancel it", "book_appointment": "book it", "take_message": "take the message"}
FAILED = "Sorry, I couldn't do that just now. I can take a message and have someone call you back."
STORE_ACTIONS = frozenset({"book_appointment", "move_appointment", "cancel_appointment", "find_appointment",
                           "take_message"})


@dataclasses.dataclass(frozen=True, slots=True)
class ActionResult:
    """What came of an action: ``outcome`` is done, refused (a business rule or the owner's system said
    no: ``say`` gives the reason) or failed (a backend error: ``say`` offers a message instead)."""

    outcome: str
    say: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    ms: float = 0.0

    @property
    def done(self) -> bool:
        """True when the action was carried out."""
        return self.outcome == "done"


class ActionRunner:
    """Runs a call's actions: built-ins on the SQLite store (off the event loop), others on webhooks."""

    def __init__(self, store: ActionStore, webhooks: WebhookClient | None = None) -> None:
        self.store = store
        self.webhooks = webhooks

    async def close(self) -> None:
        """Close the webhook client's connections."""
        if self.webhooks is not None:
            await self.webhooks.aclose()

    async def run(self, spec: ActionSpec, arguments: dict[str, str], *, persona: Persona, call_id: str,
                  key: str, now: datetime.datetime) -> ActionResult:
        """Carry out ``spec``; never raises for a backend failure (the result says ``failed``)."""
        started = time.monotonic()
        try:
            if spec.webhook:
                result = await self._webhook(spec, arguments, persona=persona, call_id=call_id, key=key)
            elif spec.name in STORE_ACTIONS:
                result = await asyncio.to_thread(self._on_store, spec.name, arguments, persona, call_id, key, now)
            else:
                result = ActionResult("failed", FAILED, {"error": f"{spec.name} has no webhook"})
        except Refused as refused:
            result = ActionResult("refused", f"Sorry, I couldn't {_DOING.get(spec.name, 'do that')}: {refused.reason}.",
                                  {"reason": refused.reason})
        except Exception as exc:  # noqa: BLE001 - a failing backend gets a spoken fallback, and the call goes on
            log.warning("action %s failed: %r", spec.name, exc)
            result = ActionResult("failed", FAILED, {"error": repr(exc)})
        return dataclasses.replace(result, ms=round((time.monotonic() - started) * 1000, 1))

    async def _webhook(self, spec: ActionSpec, arguments: dict[str, str], *, persona: Persona, call_id: str,
                       key: str) -> ActionResult:
        if self.webhooks is None:
            return ActionResult("failed", FAILED, {"error": "no webhook client"})
        try:
            reply = await self.webhooks.call(spec.webhook, call_id=call_id, persona=persona.name, action=spec.name,
                                             arguments=dict(arguments), key=key, idempotent=spec.idempotent)
        except WebhookError as exc:
            return ActionResult("failed", FAILED, {"error": f"{exc.kind}: {exc}"})
        if not reply.ok:
            return ActionResult("refused", f"Sorry, I couldn't do that: {reply.reason or 'it was not accepted'}.",
                                {"reason": reply.reason, **reply.details})
        return ActionResult("done", reply.say or "That's done.", dict(reply.details))

    def _on_store(self, name: str, args: dict[str, str], persona: Persona, call_id: str, key: str,
                  now: datetime.datetime) -> ActionResult:
        business = persona.business
        if name == "take_message":
            message = self.store.take_message(persona.name, name=args["name"], phone=args["phone"], text=args["text"],
                                              call_id=call_id, now=now, key=key)
            return ActionResult("done", f"Thanks {message.name}, I've passed your message on; someone will call you "
                                        f"back on {spaced_digits(message.phone)}.", {"message_id": message.id})
        if name == "find_appointment":
            found = self.store.upcoming(persona.name, name=args["name"], now=now)
            if not found:
                return ActionResult("refused", f"I can't find an appointment under {args['name']}.", {})
            return ActionResult("done", f"Your appointment is {_when(found[0], now)}.", _details(found[0]))
        if name == "cancel_appointment":
            gone = self.store.cancel(persona.name, name=args["name"], now=now, call_id=call_id)
            return ActionResult("done", f"Done: your appointment {_when(gone, now)} is cancelled.", _details(gone))
        if business is None:
            raise Refused("there are no opening hours to book against")
        start = _start(args, now)
        if name == "move_appointment":
            try:
                moved = self.store.move(persona.name, business, name=args["name"], new_start=start, now=now,
                                        call_id=call_id)
            except Refused as refused:  # say what was asked for: "couldn't do that" leaves the caller guessing
                return ActionResult("refused", f"Sorry, I couldn't move it to {say_when(start, now)}: {refused.reason}.",
                                    {"reason": refused.reason})
            return ActionResult("done", f"Done: your appointment is now {_when(moved, now)}.", _details(moved))
        party = int(args["party"]) if args.get("party", "").isdigit() else 0
        booked = self.store.book(persona.name, business, name=args["name"], start=start, service=args["service"],
                                 phone=args.get("phone", ""), call_id=call_id, now=now, key=key, party=party)
        people = f" for {booked.party} {'person' if booked.party == 1 else 'people'}" if booked.party else ""
        return ActionResult("done", f"Done: {booked.name}, you're booked for {booked.service}{people} {_when(booked, now)}.",
                            _details(booked))


def _start(args: dict[str, str], now: datetime.datetime) -> datetime.datetime:
    day = resolve_day(args["day"], now.date())
    at = resolve_time(args["time"])
    if day is None:
        raise Refused(f"I didn't catch which day: {args['day']}")
    if at is None:
        raise Refused(f"I didn't catch the time: {args['time']}")
    return datetime.datetime.combine(day, at)


def _when(appointment: Appointment, now: datetime.datetime) -> str:
    return say_when(appointment.start, now)


def _details(appointment: Appointment) -> dict[str, Any]:
    details: dict[str, Any] = {"appointment_id": appointment.id, "name": appointment.name, "service": appointment.service,
               "start": appointment.start.isoformat(timespec="minutes")}
    return details | ({"party": appointment.party} if appointment.party else {})

