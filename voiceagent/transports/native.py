"""The native protocol at ``/ws`` as a session state machine (no I/O): ``start`` -> ``ready``, PCM both
ways, events as JSON text frames, ``stop`` or a closed socket -> ``ended``. The wire format is in the
README and :mod:`voiceagent.transports.native_protocol`."""

from __future__ import annotations

import json

from voiceagent.events import Ended, Event, Ready
from voiceagent.transports.bridge import (
    Action,
    Bridge,
    CallParams,
    Close,
    CloseCode,
    Problem,
    PushAudio,
    Send,
    StartCall,
    State,
)
from voiceagent.transports.native_protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    Start,
    Stop,
    check_audio,
    parse_text,
)


class NativeBridge(Bridge):
    """One ``/ws`` connection. ``models`` and ``budgets`` go into ``ready``; ``remote`` into the record."""

    transport = "native"

    def __init__(self, *, max_frame_bytes: int, models: dict[str, str], budgets: dict[str, int],
                 remote: str | None = None) -> None:
        super().__init__()
        self._max_frame_bytes = max_frame_bytes
        self._models = models
        self._budgets = budgets
        self._details = {"remote": remote} if remote else {}
        self._sample_rate = 0

    def receive(self, data: str | bytes) -> list[Action]:
        """A binary frame is caller audio; a text frame is ``start`` or ``stop``."""
        if self.closed:
            return []
        try:
            if isinstance(data, bytes):
                return self._audio(data)
            message = parse_text(data)
        except ProtocolError as exc:
            return [Problem(exc.code, exc.message)]
        if isinstance(message, Stop):
            return self._end("caller_stop")
        return self._start(message)

    def _audio(self, data: bytes) -> list[Action]:
        if not self.in_call:
            return [Problem("not_started", "send a 'start' message before any audio")]
        check_audio(data, self._max_frame_bytes)
        return [PushAudio(data)]

    def _start(self, start: Start) -> list[Action]:
        if self.state is not State.WAITING:
            return [Problem("already_started", "this connection already carries a call")]
        self.state = State.STARTING
        self._sample_rate = start.sample_rate
        params = CallParams(transport=self.transport, sample_rate=start.sample_rate, persona=start.persona,
                            prompt=start.prompt, details=dict(self._details), token=start.token, check_token=True)
        return [StartCall(params)]

    def started(self, call_id: str, persona: str) -> list[Action]:
        """``ready``, with the protocol version."""
        super().started(call_id, persona)
        ready = Ready(call_id=call_id, sample_rate=self._sample_rate, persona=persona, models=self._models,
                      budgets=self._budgets, protocol=PROTOCOL_VERSION)
        return [Send(json.dumps(ready.to_dict()))]

    def refused(self, code: str, message: str) -> list[Action]:
        """An unknown persona leaves the connection open for another ``start``; other refusals close it."""
        if code == "unknown_persona":
            self.state = State.WAITING
            return [Problem(code, message)]
        return super().refused(code, message)

    def agent_event(self, event: Event) -> list[Action]:
        """Every event goes to the client as a JSON text frame."""
        return [Send(json.dumps(event.to_dict()))]

    def agent_audio(self, pcm: bytes) -> list[Action]:
        """Agent audio as a binary frame."""
        return [Send(pcm)]

    def _goodbye(self, reason: str) -> list[Action]:
        code = CloseCode.TRY_AGAIN_LATER if reason == "server_shutdown" else CloseCode.NORMAL_CLOSURE
        return [Send(json.dumps(Ended(reason=reason).to_dict())), Close(code, reason[:100])]

    def _last_words(self, reason: str) -> list[Action]:
        return [Send(json.dumps(Ended(reason=reason).to_dict()))]

