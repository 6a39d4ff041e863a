"""The audio side of a SIP call: agent audio waiting for PJSIP's 8 kHz media clock, and the conference
bridge port that moves 20 ms frames between the line and the call. :class:`LinePort`'s callbacks run on
PJSIP's media thread; agent audio crosses to it through a :class:`LineBuffer` (its own lock). A
:class:`~voiceagent.events.Transfer` event is handed to the gateway (:mod:`sip_transfer`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pjsua2 as pj

from voiceagent.audio.line_buffer import LineBuffer
from voiceagent.events import Clear, Error, Event, Transfer

log = logging.getLogger(__name__)

RATE = 8000
FRAME_BYTES = RATE // 50 * 2  # 20 ms of 16-bit PCM
MAX_BUFFERED_BYTES = RATE * 2 * 5  # agent audio waiting for the media clock: 5 s at most


class SipOutput:
    """Agent audio waits for PJSIP's media clock; ``clear`` takes back whatever was not yet sent.
    ``transfer(to)`` carries a transfer out (it returns once the REFER's outcome is known)."""

    def __init__(self, transfer: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.line = LineBuffer(FRAME_BYTES, MAX_BUFFERED_BYTES)
        self._transfer = transfer

    async def send_event(self, event: Event) -> None:
        """Barge-in flushes the buffer; a transfer is sent as a REFER; errors go to the log (the record has
        every event)."""
        if isinstance(event, Clear):
            self.line.clear()
        elif isinstance(event, Transfer):
            if self._transfer is None:
                log.warning("sip: cannot transfer to %s: this line has no transfer", event.to)
            else:
                await self._transfer(event.to)
        elif isinstance(event, Error):
            log.warning("sip: %s: %s", event.code, event.message)

    async def send_audio(self, pcm: bytes) -> None:
        """Queue one frame of agent audio (16-bit PCM at 8 kHz)."""
        self.line.push(pcm)

    def next_frame(self) -> bytes:
        """The next 20 ms for the line (silence when the agent is quiet). Called from the media thread."""
        return self.line.next_frame()


class LinePort(pj.AudioMediaPort):  # type: ignore[misc]
    """A conference-bridge port: the caller's frames in, the agent's frames out."""

    def __init__(self, output: SipOutput, receive: Callable[[bytes], None]) -> None:
        super().__init__()
        self._output = output  # no reference back to the call: no cycle for the garbage collector
        self._receive = receive

    def onFrameReceived(self, frame: Any) -> None:
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            self._receive(bytes(frame.buf))

    def onFrameRequested(self, frame: Any) -> None:
        frame.buf = pj.ByteVector(self._output.next_frame())
        frame.size = FRAME_BYTES
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
