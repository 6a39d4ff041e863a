"""Asterisk AudioSocket as a session state machine (no I/O): Asterisk's ``AudioSocket()`` dialplan app
connects over TCP.

    exten => 100,1,Answer()
     same => n,AudioSocket(${UUID()},voiceagent.example:9092)

Caller audio is signed linear 8 kHz; the agent's goes back in 20 ms frames, paced by the call's player
(AudioSocket leaves timing to the application). Audio handed to Asterisk cannot be taken back, so the
player runs only :data:`LEAD_MS` ahead here: that is the barge-in floor. DTMF reaches the agent; a
hang-up from either side ends the call and writes its record. A stream that goes out of step ends the
call with the error's code: nothing after it can be trusted.

AudioSocket has no way to name a transfer target (its kinds are hang-up, UUID, DTMF, audio and error),
so a transfer leaves the target in the server's book under the dialplan's UUID
(:class:`~voiceagent.transports.bridge.TransferCall`); the hang-up that ends the stream returns the
channel to the dialplan, which fetches ``GET /calls/<uuid>/transfer`` and dials it (Asterisk 20.14,
21.9, 22.4 or later: older ``AudioSocket()`` hangs the channel up instead). See docs/protocol-actions.md.
"""

from __future__ import annotations

import collections
import logging

from voiceagent.events import Error, Event, Transfer
from voiceagent.transports.audiosocket_protocol import FRAME_BYTES, SAMPLE_RATE, Kind, Message, Parser, encode
from voiceagent.transports.bridge import (
    Action,
    Bridge,
    CallParams,
    Close,
    EndCall,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    State,
    TransferCall,
)
from voiceagent.transports.native_protocol import ProtocolError

log = logging.getLogger(__name__)

LEAD_MS = 40  # how far ahead of real time agent audio goes to Asterisk
HANGUP = encode(Kind.HANGUP)


class AudioSocketBridge(Bridge):
    """One AudioSocket connection: the UUID first, then audio, DTMF and finally a hang-up."""

    transport = "audiosocket"

    def __init__(self, *, max_payload: int, remote: str) -> None:
        super().__init__()
        self._parser = Parser(max_payload=max_payload)
        self._remote = remote
        self._peer_hung_up = False
        self.call_uuid = ""  # the dialplan's UUID: the key its transfer target is left under
        self._pending: collections.deque[Message] = collections.deque()

    def receive(self, data: str | bytes) -> list[Action]:
        """A chunk of the byte stream, cut anywhere."""
        if self.closed:
            return []
        if isinstance(data, str):
            return [Problem("unexpected_text", "AudioSocket is a byte stream")]
        try:
            messages = self._parser.feed(data)
        except ProtocolError as exc:
            self.state = State.CLOSED
            return [Problem(exc.code, exc.message, fatal=True), EndCall(exc.code)]
        self._pending.extend(messages)
        return self._drain()

    def _drain(self) -> list[Action]:
        """Act on the messages received so far; those after the UUID wait until the call has started."""
        actions: list[Action] = []
        while self._pending and not self.closed and self.state is not State.STARTING:
            actions += self._message(self._pending.popleft())
        return actions

    def _message(self, message: Message) -> list[Action]:
        if message.kind is Kind.UUID and self.state is State.WAITING:
            return self._start(message)
        if not self.in_call:
            return [Problem("not_started", f"{message.kind.name} before the UUID message")]
        if message.kind is Kind.AUDIO:
            return [PushAudio(message.payload)]
        if message.kind is Kind.DTMF:
            return [PushDtmf(message.digit())] if len(message.payload) == 1 else []
        if message.kind is Kind.HANGUP:
            self._peer_hung_up = True
            return self._end("caller_hangup")
        if message.kind is Kind.ERROR:
            code = message.payload.hex() or "unknown"
            return [Problem("asterisk_error", f"Asterisk reported error 0x{code}")]
        return []  # a second UUID

    def _start(self, message: Message) -> list[Action]:
        try:
            call_uuid = message.call_uuid()
        except ProtocolError as exc:
            self.state = State.CLOSED
            return [Problem(exc.code, exc.message), Close()]
        self.state = State.STARTING
        self.call_uuid = call_uuid
        params = CallParams(transport=self.transport, sample_rate=SAMPLE_RATE, playback_lead_ms=LEAD_MS,
                            details={"asterisk_uuid": call_uuid, "remote": self._remote})
        return [StartCall(params)]

    def started(self, call_id: str, persona: str) -> list[Action]:
        """The call is up: what arrived behind the UUID goes to it now."""
        super().started(call_id, persona)
        return self._drain()

    def agent_event(self, event: Event) -> list[Action]:
        """AudioSocket has no event channel: a transfer target is left for the dialplan under the call's
        UUID; errors go to the log (the record has every event)."""
        if isinstance(event, Transfer) and self.call_uuid and not self.closed:
            return [TransferCall(self.call_uuid, event.to)]
        if isinstance(event, Error):
            log.warning("audiosocket %s: %s: %s", self._remote, event.code, event.message)
        return []

    def agent_audio(self, pcm: bytes) -> list[Action]:
        """Agent audio (16-bit PCM at 8 kHz) as audio messages of at most 20 ms, in one write."""
        return [Send(b"".join(encode(Kind.AUDIO, pcm[i : i + FRAME_BYTES]) for i in range(0, len(pcm), FRAME_BYTES)))]

    def _refusal(self, code: str) -> list[Action]:
        return self._goodbye(code)

    def _goodbye(self, reason: str) -> list[Action]:
        return [Send(HANGUP), Close()]

    def _last_words(self, reason: str) -> list[Action]:
        return [] if self._peer_hung_up else [Send(HANGUP)]
