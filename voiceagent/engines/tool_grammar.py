"""A llama.cpp grammar (GBNF) under which a reply is a call of one of the tools (or, optionally, words):
``{"name": "<one of the tools>", "arguments": {`` and the rest of the line. A very small model cannot
call a tool that does not exist; its arguments are checked against the tool's JSON schema by the call.
Words may not start with ``{`` or ``<``, so a reply is one or the other, decided by its first token.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence

from voiceagent.engines.llm import Tool


@functools.lru_cache(maxsize=16)
def _grammar_text(names: tuple[str, ...], words: bool) -> str:
    choice = " | ".join(json.dumps(name) for name in names)
    return (
        f"root ::= call{' | words' if words else ''}\n"
        'call ::= "{\\"name\\": \\"" name "\\", \\"arguments\\": {" rest\n'
        f"name ::= {choice}\n"
        "rest ::= [^\\n]*\n"  # unbounded: a counted repeat expands into hundreds of rules (slow)
        'words ::= [^{<\\n] [^{<]*\n'
    )


def tool_grammar(tools: Sequence[Tool], *, words: bool = True) -> str:
    """The GBNF text for ``tools``: a call that names one of them, ``{"name": "<tool>", "arguments": {``
    followed by the rest of the line (``words``: or a reply in words).

    Only the name is constrained. llama-cpp-python checks every token of the 151,936-token vocabulary
    against each open alternative of the grammar at each step, so a grammar of the arguments' JSON (one
    branch per tool, bounded strings) costs far more per token than this one, for nothing the call needs:
    the arguments are checked against the schema by the call (jsonschema), and the built-in actions take
    them from the caller's words."""
    return _grammar_text(tuple(t.name for t in tools), words)


async def words_or_call(
    free: Callable[[], AsyncIterator[str]], constrained: Callable[[], AsyncIterator[str]],
) -> AsyncGenerator[str, None]:
    """A reply in words streams from ``free``; one that starts as a call (its first non-blank piece
    starts with ``{`` or ``<``) is generated again by ``constrained`` (the same request under the call
    grammar).

    A grammar applied to every token costs a pass over the whole vocabulary per token (measured here:
    34-40 ms a token without, 62-98 ms with, on the garage persona), so it is only used once the model
    has shown it is calling a tool. The second request starts from the same cached prompt, so it costs
    only the call's tokens."""
    head: str | None = ""
    async with contextlib.aclosing(free()) as words:  # type: ignore[type-var]
        async for piece in words:
            if head is None:
                yield piece
                continue
            head += piece
            if not head.strip():
                continue
            if head.lstrip().startswith(("{", "<")):
                break
            yield head
            head = None
        else:
            if head:
                yield head
            return
    async with contextlib.aclosing(constrained()) as call:  # type: ignore[type-var]
        async for piece in call:
            yield piece
