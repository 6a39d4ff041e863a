"""The native WebSocket transport at ``/ws`` (the protocol in DESIGN.md and native_protocol.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from voiceagent import metrics
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.events import Ended, Error, Event, Ready
from voiceagent.pipeline.call import Call
from voiceagent.transports.native_protocol import ProtocolError, Start, Stop, check_audio, parse_text

log = logging.getLogger(__name__)


class WebSocketOutput:
    """Sends a call's events as JSON text frames and its audio as binary frames."""

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection

    async def send_event(self, event: Event) -> None:
        """Send a JSON event; a client that has gone is ignored (the receive loop ends the call)."""
        with contextlib.suppress(ConnectionClosed):
            await self._connection.send(json.dumps(event.to_dict()))

    async def send_audio(self, pcm: bytes) -> None:
        """Send one binary frame of agent audio."""
        with contextlib.suppress(ConnectionClosed):
            await self._connection.send(pcm)


async def _error(output: WebSocketOutput, code: str, message: str) -> None:
    metrics.ERRORS.labels(code).inc()
    await output.send_event(Error(code=code, message=message))


async def handle_native(connection: ServerConnection, engines: Engines, settings: Settings) -> None:
    """Serve one native-protocol connection until the client stops or goes away."""
    output = WebSocketOutput(connection)
    call: Call | None = None
    call_task: asyncio.Task[None] | None = None
    reason = "disconnected"
    try:
        async for message in connection:
            if call_task is not None and call_task.done():
                break  # the call ended on its own (an internal failure): stop reading
            if isinstance(message, bytes):
                if call is None:
                    await _error(output, "not_started", "send a 'start' message before any audio")
                    continue
                try:
                    check_audio(message, settings.max_frame_bytes)
                except ProtocolError as exc:
                    await call.send_error(exc.code, exc.message)
                    continue
                call.push_audio(message)
                continue
            try:
                parsed = parse_text(message)
            except ProtocolError as exc:
                if call is not None:
                    await call.send_error(exc.code, exc.message)
                else:
                    await _error(output, exc.code, exc.message)
                continue
            if isinstance(parsed, Stop):
                reason = "caller_stop"
                break
            assert isinstance(parsed, Start)
            if call is not None:
                await call.send_error("already_started", "this connection already carries a call")
                continue
            persona_name = parsed.persona or settings.persona
            persona = engines.personas.get(persona_name)
            if persona is None:
                await _error(output, "unknown_persona", f"no persona {persona_name!r}; have {sorted(engines.personas)}")
                continue
            call = Call(
                call_id=uuid.uuid4().hex[:12],
                engines=engines,
                settings=settings,
                persona=persona,
                sample_rate=parsed.sample_rate,
                output=output,
                system_prompt=parsed.prompt,
            )
            await output.send_event(
                Ready(
                    call_id=call.call_id,
                    sample_rate=parsed.sample_rate,
                    persona=persona.name,
                    models=engines.models(),
                    budgets=dataclasses.asdict(settings.budgets),
                )
            )
            log.info("call %s started (persona %s, %d Hz)", call.call_id, persona.name, parsed.sample_rate)
            call_task = asyncio.create_task(call.run())
    except ConnectionClosed:
        pass
    finally:
        if call is not None and call_task is not None:
            call.hang_up(reason)
            with contextlib.suppress(asyncio.CancelledError):
                await call_task
            await output.send_event(Ended(reason=reason))
            log.info("call %s ended (%s)", call.call_id, reason)
