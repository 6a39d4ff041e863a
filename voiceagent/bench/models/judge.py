"""An optional judge: a stronger model the user names rates each reply 1-5; the rating, scaled to 0..1,
is reported beside the deterministic score."""

from __future__ import annotations

import re

from voiceagent.bench.models.tasks import Task
from voiceagent.engines.llm import ChatEngine

_PROMPT = """You judge replies of a phone receptionist agent. The conversation and the agent's reply follow.
Rate the reply from 1 (useless, wrong or off-topic) to 5 (correct, helpful, short and natural to say aloud).
Answer with the single digit only."""


async def judge(engine: ChatEngine, task: Task, reply: str) -> float | None:
    """The judge's rating scaled to 0..1, or None when it answers no digit."""
    conversation = "\n".join(f"{m['role']}: {m['content']}" for m in task.messages()[1:])
    messages = [{"role": "system", "content": _PROMPT},
                {"role": "user", "content": f"Agent's instructions: {task.system}\n\n{conversation}\n"
                                            f"agent (reply to rate): {reply}"}]
    text = ""
    async for piece in engine.stream(messages, max_tokens=4, temperature=0.0):  # type: ignore[arg-type]
        text += piece
    match = re.search(r"[1-5]", text)
    return None if match is None else (int(match.group()) - 1) / 4
