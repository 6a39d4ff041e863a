"""A llama.cpp grammar (GBNF) under which a reply is one well-formed tool call (or, optionally, words).

The call alternative is built from the tools' JSON schemas (llama-cpp-python's schema converter): the
name is one of the tools and the arguments object has exactly that tool's fields, so even a very small
model cannot call a tool that does not exist or leave out an argument's key. Words may not start with
``{`` or ``<``, so a reply is one or the other, decided by its first token.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from llama_cpp.llama_grammar import json_schema_to_gbnf

from voiceagent.engines.llm import Tool

MAX_ARGUMENT_CHARS = 120  # a spoken argument (a name, a day, a message) fits in this


def call_schema(tools: Sequence[Tool]) -> dict[str, object]:
    """The JSON schema of one call of any of ``tools``: ``{"name": ..., "arguments": {...}}``."""
    return {"anyOf": [{
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": _bounded(tool.parameters)},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    } for tool in tools]}


def _bounded(schema: dict[str, object]) -> dict[str, object]:
    """``schema`` with every string property given a maximum length (so a call always ends)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {"type": "object", "properties": {}, "additionalProperties": False}
    bounded = {name: {**prop, "maxLength": MAX_ARGUMENT_CHARS} if isinstance(prop, dict) and prop.get("type") == "string"
               else prop for name, prop in properties.items()}
    return {**schema, "properties": bounded}


@functools.lru_cache(maxsize=16)
def _grammar_text(tools_json: str, words: bool) -> str:
    tools = [Tool(t["name"], t["description"], t["parameters"]) for t in json.loads(tools_json)]
    call = str(json_schema_to_gbnf(json.dumps(call_schema(tools)))).replace("root ::=", "call ::=", 1)
    rules = (
        f"root ::= tagged | call{' | words' if words else ''}\n"
        'tagged ::= "<tool_call>" "\\n"? call "\\n"? "</tool_call>"\n'  # bounded: a small model can loop on blanks
        'words ::= [^{<\\n] [^{<]*\n'
    )
    return rules + call


def tool_grammar(tools: Sequence[Tool], *, words: bool = True) -> str:
    """The GBNF text for ``tools`` (cached: the same tools give the same grammar). ``words``: a reply
    may also be words; without it, the reply is one call."""
    return _grammar_text(json.dumps([dataclass_dict(t) for t in tools], sort_keys=True), words)


def dataclass_dict(tool: Tool) -> dict[str, object]:
    """``tool`` as plain data."""
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
