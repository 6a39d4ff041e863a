"""A call's conversation history, bounded, in the shape chat models take."""

from __future__ import annotations

from voiceagent.engines.llm import Message


class History:
    """System prompt plus the last ``max_turns`` exchanges. Consecutive caller turns are merged,
    so the messages always alternate as chat templates expect.

    The window only moves when a reply is recorded, never when the caller speaks: the messages the
    model was pre-filled with after a reply stay a prefix of the next turn's messages, so the model's
    prompt cache holds and each turn evaluates only the caller's new words.

    And it moves by half a window at a time: once more than ``max_turns`` exchanges are held, only the
    latest half is kept. Every message after the system prompt changes place when the window moves, so
    the model evaluates them all again (about 8 ms a token on two cores: 200-300 tokens for eight
    exchanges). Moving by one exchange did that on every turn past the eighth; moving by half does it
    once every ``max_turns / 2`` turns.
    """

    def __init__(self, system: str, max_turns: int) -> None:
        self.system = system
        self.max_turns = max_turns
        self._messages: list[Message] = []
        self._reply_turn: int | None = None  # the turn the last assistant message answers
        self._start = 0  # first message inside the model's window
        self._facts = ""  # facts put beside the open caller message (this turn only)
        self._notes: list[str] = []  # what actions did unheard (a barge-in): told with the next turn

    def add_user(self, text: str) -> None:
        """Record what the caller said."""
        if self._messages and self._messages[-1]["role"] == "user":
            self._messages[-1] = {"role": "user", "content": f"{self._messages[-1]['content']} {text}"}
        else:
            self._messages.append({"role": "user", "content": text})
        self._reply_turn = None

    def open_question(self) -> str:
        """What the caller has said since the agent last replied ("" if the agent spoke last)."""
        if self._messages and self._messages[-1]["role"] == "user":
            return self._messages[-1]["content"]
        return ""

    def ground(self, facts: str) -> None:
        """Put ``facts`` beside the open caller message, for this turn only: the model sees them with the
        question; later turns see the question alone (so the cached prefix stays valid)."""
        self._facts = facts

    def note(self, text: str) -> None:
        """Something the agent did that the caller did not hear about (an action finished during a
        barge-in): it goes beside the caller's next words, once."""
        self._notes.append(text)

    def exchanges(self) -> list[tuple[str, str]]:
        """(what the caller said, what the agent replied) for every answered turn so far."""
        pairs = zip(self._messages, self._messages[1:], strict=False)
        return [(u["content"], a["content"]) for u, a in pairs if u["role"] == "user" and a["role"] == "assistant"]

    def caller_said(self) -> list[str]:
        """Everything the caller said in this call, in order."""
        return [m["content"] for m in self._messages if m["role"] == "user"]

    def retract_user(self, text: str) -> None:
        """Take back caller text that is about to be replaced by a longer transcript of the same speech."""
        self._facts = ""
        if self._messages and self._messages[-1]["role"] == "user":
            content = self._messages[-1]["content"]
            if content == text:
                self._messages.pop()
            elif content.endswith(" " + text):
                self._messages[-1] = {"role": "user", "content": content[: -len(text) - 1]}

    def set_reply(self, turn: int, text: str) -> None:
        """Record (or correct, after a barge-in) what the agent said in ``turn``; empty text removes it."""
        text = text.strip()
        self._facts = ""
        if text and self._messages and self._messages[-1]["role"] == "user":
            self._notes = []  # they were given with the question this reply answers
        if self._messages and self._messages[-1]["role"] == "assistant" and self._reply_turn == turn:
            self._messages.pop()
        if text:
            self._messages.append({"role": "assistant", "content": text})
            self._reply_turn = turn
        self._slide()

    def _slide(self) -> None:
        users = [i for i, m in enumerate(self._messages) if m["role"] == "user" and i >= self._start]
        if len(users) > self.max_turns:
            keep = (self.max_turns + 1) // 2
            self._start = users[len(users) - keep] if keep > 0 else len(self._messages)

    def messages(self) -> list[Message]:
        """The messages to send to the model: system prompt first, oldest exchanges dropped."""
        kept = self._messages[self._start :]
        while kept and kept[0]["role"] != "user":
            kept = kept[1:]
        if kept and kept[-1]["role"] == "user" and (self._facts or self._notes):
            extra = "".join([f"\n(Done while the caller spoke: {n})" for n in self._notes] +
                            ([f"\n(Facts: {self._facts})"] if self._facts else []))
            kept = [*kept[:-1], {"role": "user", "content": f"{kept[-1]['content']}{extra}"}]
        return [{"role": "system", "content": self.system}, *kept]

    def transcript(self) -> list[Message]:
        """Everything said so far (unbounded view, for records and tests)."""
        return list(self._messages)
