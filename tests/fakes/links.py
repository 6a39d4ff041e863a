"""An in-memory link and scripted calls for the shared socket loop (no sockets, no models).

``MemoryLink`` is a peer that is a list of messages (what the loop sends and how it closes is kept);
``Switch`` starts a :class:`ScriptedCall` per connection, which keeps what the loop gave it and ends when
hung up: ``switch.calls[0].hang_up("transferred")`` is a call ending on its own, as a real one would.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

from voiceagent.events import Error
from voiceagent.pipeline.call import Call
from voiceagent.transports.bridge import CallParams
from voiceagent.transports.session import CallSession
from voiceagent.transports.socket_loop import BridgeOutput, OwnEnd


class MemoryLink:
    """A link whose peer is a list of messages; what the loop sends and how it closes is kept."""

    def __init__(self, *incoming: str | bytes, authorized: bool = True) -> None:
        self.incoming: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        for message in incoming:
            self.incoming.put_nowait(message)
        self.sent: list[str | bytes] = []
        self.closed: tuple[int, str] | None = None
        self.aborted = False
        self._authorized = authorized

    def hang_up(self) -> None:
        self.incoming.put_nowait(None)

    async def receive(self) -> str | bytes | None:
        if self.closed is not None and self.incoming.empty():
            return None
        return await self.incoming.get()

    async def send(self, data: str | bytes) -> None:
        if self.closed is None:
            self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed is None:
            self.closed = (code, reason)
            self.incoming.put_nowait(None)

    def abort(self) -> None:
        self.aborted = True
        self.incoming.put_nowait(None)

    def authorized(self, token: str | None) -> bool:
        return self._authorized

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(m) for m in self.sent if isinstance(m, str)]


class ScriptedCall:
    """What the loop uses of a Call, keeping what it was given; it ends when hung up."""

    def __init__(self, params: CallParams, output: BridgeOutput) -> None:
        self.params = params
        self.output = output
        self.call_id, self.transport, self.sample_rate = "call1", params.transport, params.sample_rate
        self.persona = SimpleNamespace(name=params.persona or "assistant")
        self.audio: list[bytes] = []
        self.digits: list[str] = []
        self.errors: list[tuple[str, bool]] = []
        self.error_messages: list[str] = []
        self.marks: list[str] = []
        self.notes: list[tuple[str, dict[str, object]]] = []
        self.end_reason = ""
        self._ended = asyncio.Event()

    async def run(self) -> None:
        await self._ended.wait()

    def hang_up(self, reason: str = "hangup") -> None:
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()

    def push_audio(self, pcm: bytes) -> None:
        self.audio.append(pcm)

    def push_dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    def acknowledge_mark(self, name: str) -> bool:
        self.marks.append(name)
        return True

    def note(self, kind: str, **fields: object) -> None:
        self.notes.append((kind, fields))

    async def send_error(self, code: str, message: str, fatal: bool = False) -> None:
        self.errors.append((code, fatal))
        self.error_messages.append(message)
        await self.output.send_event(Error(code=code, message=message, fatal=fatal))


class Switch:
    """Starts scripted calls, or refuses them. ``late_goodbye``: the call's own-end notice is slow to run."""

    def __init__(self, refuse: Exception | None = None, late_goodbye: bool = False) -> None:
        self.refuse = refuse
        self.late_goodbye = late_goodbye
        self.calls: list[ScriptedCall] = []

    def __call__(self, params: CallParams, output: BridgeOutput, on_own_end: OwnEnd) -> CallSession:
        if self.refuse is not None:
            raise self.refuse
        call = ScriptedCall(params, output)
        self.calls.append(call)

        async def late(reason: str) -> None:
            await asyncio.sleep(0.2)
            await on_own_end(reason)

        return CallSession(cast(Call, call), None, late if self.late_goodbye else on_own_end)
