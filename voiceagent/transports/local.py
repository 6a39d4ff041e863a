"""Talk mode on this machine: a recording plays the caller, the conversation is printed and written to a
stereo WAV (caller left, agent right, on one timeline). Works on a headless server; the same Call,
barge-in and budgets as over the network."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from voiceagent.audio.line_buffer import LineBuffer
from voiceagent.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceagent.client import load_audio
from voiceagent.config import Settings
from voiceagent.events import AgentText, Clear, Error, Event, Transcript, TurnMetrics
from voiceagent.pipeline.call import Call
from voiceagent.pipeline.player import CallOutput
from voiceagent.transports.session import Switchboard

BoardBuilder = Callable[[Settings], Awaitable[Switchboard]]
RATE = 16000
FRAME = RATE // 50  # 20 ms


class TerminalOutput:
    """Prints what happens and keeps agent audio with its send time."""

    def __init__(self) -> None:
        self.audio: list[tuple[float, bytes]] = []
        self.events: list[Event] = []

    async def send_event(self, event: Event) -> None:
        """Print the event a person would care about."""
        self.events.append(event)
        if isinstance(event, Transcript):
            print(f"caller: {event.text}", flush=True)
        elif isinstance(event, AgentText):
            print(f"agent ({event.kind}): {event.text}", flush=True)
        elif isinstance(event, Clear):
            print(f"  [interrupted; heard: {event.heard!r}]", flush=True)
        elif isinstance(event, TurnMetrics) and event.turn_ms is not None:
            misses = ", ".join(f"{e.stage} +{e.actual_ms - e.budget_ms:.0f} ms" for e in event.budget_events)
            print(f"  [turn {event.turn}: {event.turn_ms:.0f} ms{'; over budget: ' + misses if misses else ''}]")
        elif isinstance(event, Error):
            print(f"  [error {event.code}: {event.message}]", flush=True)

    async def send_audio(self, pcm: bytes) -> None:
        """Keep the frame and when it left."""
        self.audio.append((time.monotonic(), pcm))


def _local_call(board: Switchboard, output: CallOutput, persona: str | None) -> Call:
    """A call on this machine (not in the server's registry of calls)."""
    settings = board.settings
    return Call(call_id=f"talk-{int(time.time())}", engines=board.engines, phrases=board.phrases, settings=settings,
                persona=board.personas[persona or settings.persona], sample_rate=RATE, output=output,
                transport="local")


async def talk_file(settings: Settings, input_path: Path, output_path: Path, persona: str | None = None, *,
                    build: BoardBuilder) -> int:
    """Play ``input_path`` as the caller after the greeting; write the conversation to ``output_path``.
    ``build`` makes the switchboard (the composition root's ``build_switchboard``)."""
    caller = load_audio(input_path, RATE)
    board = await build(settings)
    out = TerminalOutput()
    call = _local_call(board, out, persona)
    task = asyncio.create_task(call.run())
    start = time.monotonic()
    sent: list[np.ndarray] = []
    silence = np.zeros(FRAME, dtype=np.float32)

    async def feed(frames: list[np.ndarray]) -> None:
        for frame in frames:
            target = start + len(sent) * FRAME / RATE
            await asyncio.sleep(max(0.0, target - time.monotonic()))
            call.push_audio(float_to_pcm16(frame))
            sent.append(frame)

    async def until_quiet(limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        quiet_since = None
        while time.monotonic() < deadline:
            await feed([silence] * 5)
            if call.player.busy or call.agent_thinking:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return

    await feed([silence] * 10)
    await until_quiet(20)  # the greeting
    await feed([caller[i : i + FRAME] for i in range(0, len(caller), FRAME)])
    await until_quiet(60)  # the answer
    call.hang_up("caller_stop")
    await task
    await board.engines.close()
    _write_stereo(output_path, np.concatenate(sent), out.audio, start)
    print(f"conversation written to {output_path} (caller left, agent right)")
    return 0


def _write_stereo(path: Path, caller: np.ndarray, agent: list[tuple[float, bytes]], start: float) -> None:
    length = len(caller)
    right = np.zeros(length, dtype=np.float32)
    position = 0
    for sent_at, pcm in agent:
        # frames leave at most the playback lead ahead of real time: place them back to back from then
        samples = pcm16_to_float(pcm)
        position = max(position, int((sent_at - start) * RATE))
        end = min(length, position + len(samples))
        if end > position:
            right[position:end] = samples[: end - position]
        position += len(samples)
    stereo = np.stack([caller, right], axis=1).reshape(-1)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(float_to_pcm16(stereo))


class SpeakerOutput(TerminalOutput):
    """Prints the conversation and plays agent audio on the sound card; barge-in empties the queue."""

    def __init__(self) -> None:
        super().__init__()
        self.line = LineBuffer(FRAME * 2, RATE * 2 * 10)

    async def send_event(self, event: Event) -> None:
        """Print it; ``clear`` stops the speaker at once."""
        if isinstance(event, Clear):
            self.line.clear()
        await super().send_event(event)

    async def send_audio(self, pcm: bytes) -> None:
        """Queue a frame for the speaker."""
        self.line.push(pcm)


async def talk_live(settings: Settings, persona: str | None = None, *, build: BoardBuilder) -> int:
    """Talk through the microphone and speakers until Ctrl-C (use a headset: there is no echo
    cancellation here, so loudspeakers would let the agent interrupt itself)."""
    import sounddevice

    board = await build(settings)
    out = SpeakerOutput()
    call = _local_call(board, out, persona)
    loop = asyncio.get_running_loop()

    def microphone(indata: Any, frames: int, time_info: Any, status: Any) -> None:
        loop.call_soon_threadsafe(call.push_audio, bytes(indata))

    def speaker(outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        outdata[:] = out.line.next_frame()

    task = asyncio.create_task(call.run())
    print("talking: speak after the greeting; Ctrl-C hangs up (a headset avoids the agent hearing itself)")
    with sounddevice.RawInputStream(samplerate=RATE, channels=1, dtype="int16", blocksize=FRAME, callback=microphone), \
            sounddevice.RawOutputStream(samplerate=RATE, channels=1, dtype="int16", blocksize=FRAME, callback=speaker):
        try:
            await task
        except asyncio.CancelledError:
            call.hang_up("caller_stop")
            await asyncio.shield(task)
    await board.engines.close()
    return 0


def microphone_problem() -> str | None:
    """Why live microphone talk cannot run here, or None if a sound device is usable."""
    try:
        import sounddevice
    except ImportError:
        return "the 'sounddevice' package is not installed (pip install sounddevice; it needs PortAudio)"
    except OSError as exc:  # PortAudio library missing
        return f"PortAudio is not available: {exc}"
    try:
        sounddevice.query_devices(kind="input")
        sounddevice.query_devices(kind="output")
    except Exception as exc:  # noqa: BLE001 - any PortAudio failure means no usable device
        return f"no usable sound device: {exc}"
    return None
