"""Starting and ending a :class:`Call` on behalf of a transport (shared by every bridge): the
:class:`Switchboard` holds what calls are made of (engines, pre-synthesised phrases, personas) and the
registry of calls in progress."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable

from voiceagent import memory
from voiceagent.actions.runner import ActionRunner
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.personas import Persona
from voiceagent.pipeline.call import Call
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.pipeline.player import CallOutput
from voiceagent.transports.call_control import TransferBook
from voiceagent.transports.registry import CallRegistry, TooManyCalls

__all__ = ["CallRegistry", "CallSession", "Switchboard", "TooManyCalls", "UnknownPersona", "start_call"]

log = logging.getLogger(__name__)


class UnknownPersona(LookupError):
    """The caller asked for a persona this server does not have."""


class CallSession:
    """One running call: the :class:`Call` and the task that runs it."""

    def __init__(self, call: Call, registry: CallRegistry | None = None,
                 on_own_end: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.call = call
        self.task = asyncio.create_task(call.run())
        self._ending = False
        self._on_own_end = on_own_end
        self._closer: asyncio.Task[None] | None = None
        self.task.add_done_callback(self._ended)
        if registry is not None:
            registry.sessions.add(self)
            self.task.add_done_callback(lambda _: registry.sessions.discard(self))
        log.info("call %s started (%s, persona %s, %d Hz)", call.call_id, call.transport, call.persona.name,
                 call.sample_rate)

    @property
    def done(self) -> bool:
        """True once the call has ended on its own (an internal failure) or been ended."""
        return self.task.done()

    def _ended(self, _: object) -> None:
        """The call ended by itself (a limit, idle, shutdown, a failure): let the transport hang up."""
        if not self._ending and self._on_own_end is not None:
            self._closer = asyncio.ensure_future(self._on_own_end(self.call.end_reason))

    async def end(self, reason: str) -> None:
        """Hang up (idempotent), wait for the call to write its record and stop its tasks."""
        self._ending = True
        self.call.hang_up(reason)
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        log.info("call %s ended (%s)", self.call.call_id, self.call.end_reason)


@dataclasses.dataclass(eq=False, slots=True)
class Switchboard:
    """Everything a transport needs to put a call through, built once by the composition root."""

    settings: Settings
    engines: Engines
    phrases: PhraseBank
    personas: dict[str, Persona]
    calls: CallRegistry  # calls in progress
    actions: ActionRunner | None = None  # carries out the personas' actions (None: calls can only talk)
    transfers: TransferBook = dataclasses.field(default_factory=TransferBook)  # targets for Asterisk dialplans

    def models(self) -> dict[str, str]:
        """Which model each stage runs (for logs and the ready event)."""
        return self.engines.models()


def start_call(
    board: Switchboard,
    settings: Settings,
    output: CallOutput,
    *,
    sample_rate: int,
    transport: str,
    persona: str | None = None,
    prompt: str | None = None,
    details: dict[str, str] | None = None,
    playback_lead_ms: int | None = None,
    on_own_end: Callable[[str], Awaitable[None]] | None = None,
) -> CallSession:
    """Create and start a call. Raises :class:`UnknownPersona` for a persona the server lacks and
    :class:`TooManyCalls` when the server is full."""
    board.calls.admit()
    name = persona or settings.persona
    chosen = board.personas.get(name)
    if chosen is None:
        raise UnknownPersona(f"no persona {name!r}; have {sorted(board.personas)}")
    call = Call(
        call_id=uuid.uuid4().hex[:12],
        engines=board.engines,
        phrases=board.phrases,
        settings=settings,
        persona=chosen,
        sample_rate=sample_rate,
        output=output,
        system_prompt=prompt,
        transport=transport,
        details=details,
        playback_lead_ms=playback_lead_ms,
        runner=board.actions,
        on_reply=board.calls.load.add,
    )
    session = CallSession(call, board.calls, on_own_end)
    if settings.trim_memory:  # what the call freed goes back to the system (see voiceagent.memory)
        session.task.add_done_callback(lambda _: asyncio.get_running_loop().run_in_executor(None, memory.trim_now))
    return session
