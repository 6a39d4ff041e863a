"""What every bridge's session state machine speaks: the actions it asks for, and its base class.

A bridge is sans-I/O (in the manner of h11 and the websockets library's core): it holds no socket, no
task and no clock. The socket loop (:mod:`voiceagent.transports.socket_loop`) feeds it what the peer sent
(:meth:`Bridge.receive`), what became of the call it asked for (:meth:`Bridge.started`,
:meth:`Bridge.refused`), what the call wants the peer to hear (:meth:`Bridge.agent_event`,
:meth:`Bridge.agent_audio`, :meth:`Bridge.agent_mark`) and how the call ended (:meth:`Bridge.call_ended`,
:meth:`Bridge.finished`). Each answers with a list of actions for the loop to carry out, in order.

States: ``WAITING`` for the message that starts a call, ``STARTING`` once it has asked for one,
``IN_CALL`` once the call is up, ``CLOSED`` once either side has ended (input is then ignored).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import ClassVar

from websockets.frames import CloseCode  # the sans-I/O part of websockets: just the close codes

from voiceagent.events import Event

__all__ = [
    "REFUSAL_CLOSE",
    "AcknowledgeMark",
    "Action",
    "Bridge",
    "CallParams",
    "Close",
    "CloseCode",
    "EndCall",
    "FlowControl",
    "HangUpCall",
    "Problem",
    "PushAudio",
    "PushDtmf",
    "Send",
    "StartCall",
    "State",
    "TransferCall",
]


@dataclasses.dataclass(frozen=True, slots=True)
class CallParams:
    """What a bridge asks of a new call. ``check_token``: the peer may present the auth token here, so the
    loop must check it (unless the handshake already carried it)."""

    transport: str
    sample_rate: int
    persona: str | None = None
    prompt: str | None = None
    details: dict[str, str] = dataclasses.field(default_factory=dict)
    token: str | None = None
    check_token: bool = False
    playback_lead_ms: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StartCall:
    """Start a call; the loop answers with :meth:`Bridge.started` or :meth:`Bridge.refused`."""

    params: CallParams


@dataclasses.dataclass(frozen=True, slots=True)
class PushAudio:
    """Caller audio for the call: 16-bit PCM at the call's rate."""

    pcm: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class PushDtmf:
    """A keypad press for the call."""

    digit: str


@dataclasses.dataclass(frozen=True, slots=True)
class AcknowledgeMark:
    """The peer has played everything up to the mark ``name``."""

    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class FlowControl:
    """The peer asked to pause or resume media (written to the call record)."""

    event: str


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """The peer broke the protocol or a call could not start. With a call, it goes through the call
    (counted, recorded, sent as its ``error`` event); before one, it is counted and handed back to
    :meth:`Bridge.agent_event` as an :class:`~voiceagent.events.Error`."""

    code: str
    message: str
    fatal: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Send:
    """Write one message (a WebSocket frame, or bytes on a stream) to the peer."""

    data: str | bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Close:
    """Close the connection now (the code and reason matter to WebSockets only); reading stops."""

    code: int = CloseCode.NORMAL_CLOSURE
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class EndCall:
    """Stop reading: the call ends for ``reason`` and :meth:`Bridge.finished` says goodbye."""

    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class TransferCall:
    """Hand the phone call to a person at ``to`` (a phone number or SIP URI) by the telephony side's own
    means: ``ref`` names the call there (a Twilio CallSid; the key an Asterisk dialplan looks the target
    up by). The loop's call control carries it out; a failure reaches the call as ``transfer_failed``."""

    ref: str
    to: str


@dataclasses.dataclass(frozen=True, slots=True)
class HangUpCall:
    """End the phone call ``ref`` itself, where closing the media stream alone may leave the caller on
    the line (Twilio runs whatever TwiML follows ``<Connect>``). Done before the stream is closed."""

    ref: str


Action = (StartCall | PushAudio | PushDtmf | AcknowledgeMark | FlowControl | Problem | Send | Close | EndCall
          | TransferCall | HangUpCall)


class State(enum.Enum):
    """Where a bridge's session is."""

    WAITING = "waiting"
    STARTING = "starting"
    IN_CALL = "in_call"
    CLOSED = "closed"


# How a WebSocket bridge closes when a call is refused (a refusal not listed closes normally)
REFUSAL_CLOSE: dict[str, tuple[int, str]] = {
    "unauthorized": (CloseCode.POLICY_VIOLATION, "unauthorized"),
    "server_busy": (CloseCode.TRY_AGAIN_LATER, "server busy"),
}


class Bridge:
    """Base of the bridges. Subclasses implement :meth:`receive` and :meth:`agent_audio`, and override
    the other hooks where their protocol says more than nothing."""

    transport: ClassVar[str] = "bridge"
    marks: ClassVar[bool] = False  # the peer reports when audio has been played (see MarkingOutput)
    gone_reason: ClassVar[str] = "disconnected"  # why the call ends when the peer just goes away

    def __init__(self) -> None:
        self.state = State.WAITING
        self.said_goodbye = False  # the last words to the peer are said once, whoever ends first

    @property
    def in_call(self) -> bool:
        """True while a call is up."""
        return self.state is State.IN_CALL

    @property
    def closed(self) -> bool:
        """True once either side has ended: input is then ignored."""
        return self.state is State.CLOSED

    def receive(self, data: str | bytes) -> list[Action]:
        """One message (or a chunk of a byte stream) from the peer."""
        raise NotImplementedError

    def started(self, call_id: str, persona: str) -> list[Action]:
        """The call asked for by :class:`StartCall` is up."""
        self.state = State.IN_CALL
        return []

    def refused(self, code: str, message: str) -> list[Action]:
        """The call could not start: ``unauthorized``, ``unknown_persona`` or ``server_busy``. By default
        the connection is closed; bridges whose peer may try again override this."""
        self.state = State.CLOSED
        self.said_goodbye = True
        return [Problem(code, message), *self._refusal(code)]

    def agent_event(self, event: Event) -> list[Action]:
        """An event of the call (or a :class:`Problem` before one) for the peer."""
        return []

    def agent_audio(self, pcm: bytes) -> list[Action]:
        """One frame of agent audio (16-bit PCM at the call's rate) for the peer."""
        raise NotImplementedError

    def agent_mark(self, name: str) -> list[Action]:
        """Ask the peer to report back ``name`` once it has played what came before (``marks`` only)."""
        return []

    def call_ended(self, reason: str) -> list[Action]:
        """The call ended on this side (a limit, a failure, shutdown): say goodbye and close, once."""
        self.state = State.CLOSED
        if self.said_goodbye:
            return []
        self.said_goodbye = True
        return self._goodbye(reason)

    def finished(self, reason: str) -> list[Action]:
        """The peer ended the call (or went away) and the call has ended for ``reason``: last words, once."""
        self.state = State.CLOSED
        if self.said_goodbye:
            return []
        self.said_goodbye = True
        return self._last_words(reason)

    def _refusal(self, code: str) -> list[Action]:
        """How the connection ends when a call is refused."""
        return [Close(*REFUSAL_CLOSE.get(code, (CloseCode.NORMAL_CLOSURE, "")))]

    def _goodbye(self, reason: str) -> list[Action]:
        """What to send, and how to close, when the call ends on this side."""
        return [Close()]

    def _last_words(self, reason: str) -> list[Action]:
        """What to send when the peer ended the call (the loop closes the connection afterwards)."""
        return []

    def _end(self, reason: str) -> list[Action]:
        """The peer hung up: stop reading."""
        self.state = State.CLOSED
        return [EndCall(reason)]
