"""Asterisk chan_websocket at ``/asterisk`` as a session state machine (no I/O): Asterisk dials
``WebSocket/<client>/c(ulaw)``, connects here, sends ``MEDIA_START``, then media as binary frames.

Asterisk owns the playout clock and reframes what it is sent, and ``FLUSH_MEDIA`` takes back audio it
has queued, so barge-in is exact. ``DTMF_END`` reaches the agent; ``HANGUP`` is sent when the call ends
here, and a closed socket is the caller's hang-up. The token, if any, was checked at the handshake.

chan_websocket has no command that sets a dialplan variable or redirects the channel, so a transfer
leaves the target in the server's book under the call's key (:class:`~voiceagent.transports.bridge.
TransferCall`): the ``call`` parameter of the connection's URI (``v(call=${UNIQUEID})`` in the dial
string), else the WebSocket channel's ``channel_id``. ``HANGUP`` then ends the WebSocket channel, ``Dial``
(with its ``g`` option) returns, and the dialplan fetches ``GET /calls/<key>/transfer`` and dials the
target. See docs/protocol-actions.md.
"""

from __future__ import annotations

import logging
from typing import cast

from voiceagent.audio import g711
from voiceagent.events import Clear, Error, Event, Transfer
from voiceagent.transports.asterisk_ws_protocol import FORMATS, Control, command, parse_control
from voiceagent.transports.bridge import (
    Action,
    Bridge,
    CallParams,
    Close,
    FlowControl,
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
DETAILS = ("connection_id", "channel", "channel_id")  # MEDIA_START parameters kept in the call record


class AsteriskBridge(Bridge):
    """One chan_websocket connection. Media frames over ``max_frame_bytes`` are refused. ``call_key``: the
    dialplan's key for the call (the ``call`` parameter of the connection's URI), if it gave one."""

    transport = "asterisk_ws"
    gone_reason = "caller_hangup"

    def __init__(self, *, max_frame_bytes: int, call_key: str | None = None) -> None:
        super().__init__()
        self._max_frame_bytes = max_frame_bytes
        self.call_key = call_key or ""  # where a transfer target is left for the dialplan
        self._codec: g711.G711Codec | None = "ulaw"  # None: signed linear
        self._json = False  # commands go back in the form Asterisk used

    def receive(self, data: str | bytes) -> list[Action]:
        """A binary frame is media in the channel's format; a text frame is a control message."""
        if self.closed:
            return []
        try:
            if isinstance(data, bytes):
                return self._media(data) if self.in_call else []
            return self._control(parse_control(data))
        except ProtocolError as exc:
            return [Problem(exc.code, exc.message)]

    def _media(self, frame: bytes) -> list[Action]:
        if len(frame) > self._max_frame_bytes:
            raise ProtocolError("frame_too_large", f"media frame over {self._max_frame_bytes} bytes")
        if self._codec is not None:
            return [PushAudio(g711.decode(frame, self._codec))]
        if len(frame) % 2:
            raise ProtocolError("odd_length", "16-bit audio needs an even number of bytes")
        return [PushAudio(frame)]

    def _control(self, control: Control) -> list[Action]:
        if control.event == "HANGUP":
            return self._end("caller_hangup")
        if control.event == "MEDIA_START":
            return self._start(control) if self.state is State.WAITING else []
        if not self.in_call:
            return []
        if control.event == "DTMF_END":
            digit = control.params.get("digit", "")
            return [PushDtmf(digit)] if digit else []
        if control.event in ("MEDIA_XOFF", "MEDIA_XON"):
            return [FlowControl(control.event)]
        return []

    def _start(self, control: Control) -> list[Action]:
        fmt = control.format  # raises for a format this server cannot carry
        rate, _, codec = FORMATS[fmt]
        self.state = State.STARTING
        self._codec = cast(g711.G711Codec | None, codec)
        self._json = control.json_form
        details = {k: control.params[k] for k in DETAILS if k in control.params}
        if self.call_key:
            details["call_key"] = self.call_key
        else:
            self.call_key = control.params.get("channel_id", "")
        params = CallParams(transport=self.transport, sample_rate=rate, persona=control.params.get("persona"),
                            details=details)
        return [StartCall(params)]

    def agent_event(self, event: Event) -> list[Action]:
        """``FLUSH_MEDIA`` on barge-in; a transfer target is left for the dialplan under the call's key;
        errors go to the log (the record has every event)."""
        if isinstance(event, Clear):
            return [Send(command("FLUSH_MEDIA", self._json))]
        if isinstance(event, Transfer) and not self.closed:  # after a hang-up there is no call to hand over
            if not self.call_key:
                return [Problem("transfer_failed", f"cannot transfer to {event.to}: the call has no key (give "
                                "the dial string v(call=...), or use a chan_websocket that sends channel_id)")]
            return [TransferCall(self.call_key, event.to)]
        if isinstance(event, Error):
            log.warning("asterisk websocket: %s: %s", event.code, event.message)
        return []

    def agent_audio(self, pcm: bytes) -> list[Action]:
        """One frame of agent audio at the channel's rate and in its format."""
        return [Send(pcm if self._codec is None else g711.encode(pcm, self._codec))]

    def _refusal(self, code: str) -> list[Action]:
        return self._goodbye(code)

    def _goodbye(self, reason: str) -> list[Action]:
        return [Send(command("HANGUP", self._json)), Close()]
