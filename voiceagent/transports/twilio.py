"""Twilio Media Streams at ``/twilio`` as a session state machine (no I/O); Telnyx, SignalWire and Plivo
share the shape.

Point a TwiML ``<Connect><Stream url="wss://HOST/twilio"/></Connect>`` at this server. Caller audio
(8 kHz G.711) goes into a call at 8 kHz; agent audio goes back as ``media`` messages, a ``mark`` after
each clause, and ``clear`` on barge-in. Echoed marks tell the player what the caller has heard, so after
an interruption the history keeps only that. ``<Parameter name="persona" value="..."/>`` in TwiML picks
the persona, ``<Parameter name="token" .../>`` carries the auth token. Media Streams has no channel for
the other events: they are in the call record and the log.

A transfer (the call's ``transfer`` event) asks the loop to give the live call new TwiML through Twilio's
REST API (:class:`~voiceagent.transports.bridge.TransferCall` with the CallSid); Twilio then ends the
stream, and the call's end (``transferred``) closes this side. When the agent hangs up (``agent_ended``)
the phone call is ended through the REST API too, before the stream is closed: closing a bidirectional
stream alone makes Twilio go on with whatever TwiML follows ``<Connect>``. Other ends (limits, failures,
shutdown) only close the stream, so TwiML after ``<Connect>`` can serve as the fallback.
"""

from __future__ import annotations

import logging

from voiceagent.audio import g711
from voiceagent.events import Clear, Error, Event, Transfer
from voiceagent.transports.bridge import (
    AcknowledgeMark,
    Action,
    Bridge,
    CallParams,
    Close,
    HangUpCall,
    Problem,
    PushAudio,
    PushDtmf,
    Send,
    StartCall,
    State,
    TransferCall,
)
from voiceagent.transports.native_protocol import ProtocolError
from voiceagent.transports.twilio_protocol import (
    Dtmf,
    MarkPlayed,
    Media,
    StreamStart,
    StreamStop,
    clear_message,
    mark_message,
    media_message,
    parse_message,
)

log = logging.getLogger(__name__)
INBOUND_TRACKS = ("inbound", "inbound_track")


class TwilioBridge(Bridge):
    """One Media Streams connection."""

    transport = "twilio"
    marks = True

    def __init__(self) -> None:
        super().__init__()
        self.stream_sid: str | None = None
        self.call_sid = ""  # the phone call the stream belongs to (for the REST API)
        self._codec: g711.G711Codec = "ulaw"

    def receive(self, data: str | bytes) -> list[Action]:
        """One Media Streams frame."""
        if self.closed:
            return []
        try:
            message = parse_message(data)
        except ProtocolError as exc:
            return [Problem(exc.code, exc.message)]
        if isinstance(message, StreamStart):
            return self._start(message)
        if isinstance(message, StreamStop):
            return self._end("caller_hangup")
        if not self.in_call:
            return []  # connected, or media, marks and keys before the stream started
        if isinstance(message, Media):
            return [PushAudio(g711.decode(message.payload, self._codec))] if message.track in INBOUND_TRACKS else []
        if isinstance(message, MarkPlayed):
            return [AcknowledgeMark(message.name)]
        if isinstance(message, Dtmf):
            return [PushDtmf(message.digit)]
        return []

    def _start(self, start: StreamStart) -> list[Action]:
        if self.state is not State.WAITING:
            return [Problem("already_started", "this stream already carries a call")]
        self.state = State.STARTING
        self.stream_sid = start.stream_sid
        self.call_sid = start.call_sid
        self._codec = start.codec
        params = CallParams(transport=self.transport, sample_rate=8000, persona=start.parameters.get("persona"),
                            details={"stream_sid": start.stream_sid, "call_sid": start.call_sid},
                            token=start.parameters.get("token"), check_token=True)
        return [StartCall(params)]

    def agent_event(self, event: Event) -> list[Action]:
        """``clear`` on barge-in; a transfer through the REST API; errors go to the log (the record has
        every event)."""
        if isinstance(event, Clear) and self.stream_sid is not None:
            return [Send(clear_message(self.stream_sid))]
        if isinstance(event, Transfer) and not self.closed:  # after a hang-up there is no call to hand over
            if not self.call_sid:
                return [Problem("transfer_failed", f"cannot transfer to {event.to}: the stream gave no callSid")]
            return [TransferCall(self.call_sid, event.to)]
        if isinstance(event, Error):
            log.warning("twilio stream %s: %s: %s", self.stream_sid or "(not started)", event.code, event.message)
        return []

    def agent_audio(self, pcm: bytes) -> list[Action]:
        """One frame of agent audio (16-bit PCM at 8 kHz), encoded for the line."""
        assert self.stream_sid is not None, "agent audio before the stream started"
        return [Send(media_message(self.stream_sid, g711.encode(pcm, self._codec)))]

    def agent_mark(self, name: str) -> list[Action]:
        """A mark after a clause: Twilio echoes it once the clause has been played."""
        assert self.stream_sid is not None, "a mark before the stream started"
        return [Send(mark_message(self.stream_sid, name))]

    def _goodbye(self, reason: str) -> list[Action]:
        hang_up: list[Action] = [HangUpCall(self.call_sid)] if reason == "agent_ended" and self.call_sid else []
        return [*hang_up, Close(reason=reason[:100])]
