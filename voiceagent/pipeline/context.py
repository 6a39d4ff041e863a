"""What every part of one call shares: its settings, engines, persona, conversation, player and
observer, and the tracked tasks it starts in the background."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from voiceagent.actions.runner import ActionRunner
from voiceagent.config import Settings
from voiceagent.engines.loader import Engines
from voiceagent.personas import Persona
from voiceagent.pipeline.action_desk import ActionDesk
from voiceagent.pipeline.history import History
from voiceagent.pipeline.observer import CallObserver
from voiceagent.pipeline.phrases import PhraseBank
from voiceagent.pipeline.player import AudioPlayer, Segment
from voiceagent.pipeline.tasks import TaskSet

log = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False, slots=True)
class CallContext:
    """The shared state and services of one call (one per call, passed to its parts)."""

    call_id: str
    settings: Settings
    engines: Engines
    phrases: PhraseBank
    persona: Persona
    sample_rate: int
    history: History
    player: AudioPlayer
    observer: CallObserver
    tasks: TaskSet
    desk: ActionDesk  # the persona's actions: offered to the model, completed over turns
    runner: ActionRunner | None  # carries actions out (None: the call can only talk)
    end_call: Callable[[str], None]  # end the call for a reason (the agent hangs up or hands over)

    def queue_phrase(self, turn: int, kind: str, text: str, on_start: Callable[[float], None] | None = None) -> None:
        """Queue a pre-synthesised phrase (greeting, filler, apology) for playback."""
        pcm = self.phrases.pcm(text, self.sample_rate)
        self.player.enqueue(Segment(turn=turn, kind=kind, text=text, pcm=pcm, on_start=on_start))

    def prefill(self) -> None:
        """Warm the model's cache with the conversation while the caller listens (best effort)."""
        messages = self.history.messages()
        llm, timeout_s = self.engines.llm, self.settings.engine_timeout_s

        async def run() -> None:
            try:
                await asyncio.wait_for(llm.prefill(messages), timeout_s)
            except Exception as exc:  # noqa: BLE001 - a failed prefill only costs time on the next turn
                log.debug("prefill failed: %r", exc)

        self.tasks.start(run())
