"""A Twilio Media Streams peer that behaves like a phone caller: ``connected`` and ``start``, caller audio
as 8 kHz mu-law ``media``, agent audio played on a simulated clock, marks echoed once the audio before them
has been played, and ``clear`` honoured (pending marks come back at once, as Twilio does).
Used by the telephony tests and by the soak test's ``--twilio`` callers."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from voiceagent.audio import g711
from voiceagent.client import Caller


class TwilioCaller(Caller):
    """Speak to ``ws://HOST:PORT/twilio`` as Twilio would. Events are kept with ``type`` = Twilio's
    ``event`` name (``media`` is counted as audio, not kept as an event)."""

    def __init__(self, url: str, frame_ms: int = 20) -> None:
        super().__init__(url, 8000, frame_ms)
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.call_sid = "CA" + uuid.uuid4().hex
        self.media: list[bytes] = []  # every outbound media payload, decoded to 16-bit PCM
        self.marks_echoed: list[str] = []
        self._pending_marks: list[tuple[float, str]] = []  # (play time it is due, name)
        self._sequence = 0

    async def send_event(self, event: str, **fields: Any) -> None:
        """Send one Media Streams message."""
        self._sequence += 1
        await self.send_json({"event": event, "sequenceNumber": str(self._sequence), "streamSid": self.stream_sid,
                              **fields})

    async def start(self, **parameters: Any) -> dict[str, Any]:
        """``connected`` then ``start``; ``parameters`` become TwiML custom parameters."""
        await self.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        start = {"streamSid": self.stream_sid, "callSid": self.call_sid, "accountSid": "AC" + "0" * 32,
                 "tracks": ["inbound"], "customParameters": parameters,
                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
        await self.send_event("start", start=start)
        self.ready = start
        return start

    async def press(self, digit: str) -> None:
        """A keypad press."""
        await self.send_event("dtmf", dtmf={"track": "inbound_track", "digit": digit})

    async def stop(self) -> None:
        """The caller hangs up."""
        await self.send_event("stop", stop={"accountSid": "AC" + "0" * 32, "callSid": self.call_sid})

    async def _send_frame(self, pcm: bytes) -> None:
        await self._echo_due_marks()
        payload = base64.b64encode(g711.encode(pcm, "ulaw")).decode("ascii")
        await self.send_event("media", media={"track": "inbound", "chunk": str(self._sequence), "payload": payload})

    async def _echo_due_marks(self) -> None:
        now = time.monotonic()
        while self._pending_marks and self._pending_marks[0][0] <= now:
            _, name = self._pending_marks.pop(0)
            await self._echo(name)

    async def _echo(self, name: str) -> None:
        self.marks_echoed.append(name)
        await self.send_event("mark", mark={"name": name})

    def _handle(self, message: str | bytes, now: float) -> None:
        data = json.loads(message)
        event = data.get("event")
        if event == "media":
            pcm = g711.decode(base64.b64decode(data["media"]["payload"]), "ulaw")
            self.media.append(pcm)
            self._heard(len(pcm) // 2, now)
            return
        self._event({"type": event, **data}, now)
        if event == "mark":
            self._pending_marks.append((max(self._play_end, now), data["mark"]["name"]))
        elif event == "clear":  # Twilio drops its buffer and sends back every mark still pending
            self._pending_marks = [(now, name) for _, name in self._pending_marks]
