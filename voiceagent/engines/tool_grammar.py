"""A llama.cpp grammar (GBNF) under which a reply is a call of one of the tools (or, optionally, words):
``{"name": "<one of the tools>", "arguments": {`` and the rest of the line. A very small model cannot
call a tool that does not exist; its arguments are checked against the tool's JSON schema by the call.
Words may not start with ``{`` or ``<``, so a reply is one or the other, decided by its first token.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

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
