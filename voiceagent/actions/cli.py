"""``voiceagent appointments`` and ``voiceagent messages``: what the embedded action store holds.

A table by default, a JSON list with ``--json``. The file is the ``actions_db`` setting unless ``--db``
names another; a missing file is read as empty (listing never creates one).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from voiceagent.actions.store import ActionStore, Appointment, Message
from voiceagent.config import Settings


def add_arguments(parser: argparse.ArgumentParser, *, appointments: bool) -> None:
    """The options of ``voiceagent appointments`` (``appointments=True``) or ``voiceagent messages``."""
    parser.add_argument("--db", dest="actions_db", help="the SQLite file (default: the actions_db setting)")
    parser.add_argument("--persona", dest="persona_filter", metavar="NAME", help="only this persona's")
    if appointments:
        parser.add_argument("--all", dest="include_cancelled", action="store_true", help="include cancelled ones")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print a JSON list")
    parser.add_argument("--config", help="TOML configuration file (also $VOICEAGENT_CONFIG)")
    parser.add_argument("--log-level", default="WARNING")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """List the appointments (``args.command == "appointments"``) or the messages; 0 when done."""
    path = Path(settings.actions_db)
    rows: Sequence[Appointment | Message] = []
    if path.is_file():
        store = ActionStore(path)
        if args.command == "appointments":
            rows = store.appointments(args.persona_filter, include_cancelled=args.include_cancelled)
        else:
            rows = store.messages(args.persona_filter)
    else:
        print(f"voiceagent {args.command}: no database at {path} (actions_db)", file=sys.stderr)
    if args.as_json:
        print(json.dumps([_json(row) for row in rows], indent=2))
    elif not rows:
        print(f"no {args.command}")
    elif args.command == "appointments":
        print(format_appointments([r for r in rows if isinstance(r, Appointment)]))
    else:
        print(format_messages([r for r in rows if isinstance(r, Message)]))
    return 0


def _json(row: Appointment | Message) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in dataclasses.asdict(row).items()}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last one is not padded."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
                     for r in (header, *rows))


def format_appointments(appointments: Sequence[Appointment]) -> str:
    """A table of appointments, one a line."""
    header = ("id", "persona", "day", "time", "mins", "status", "name", "phone", "service", "call")
    return _table(header, [(str(a.id), a.persona, a.start.strftime("%a %Y-%m-%d"), a.start.strftime("%H:%M"),
                            str(a.minutes), a.status, a.name, a.phone or "-", a.service or "-", a.call_id or "-")
                           for a in appointments])


def format_messages(messages: Sequence[Message]) -> str:
    """A table of messages, one a line (the text last, in full)."""
    header = ("id", "persona", "taken", "name", "phone", "call", "message")
    return _table(header, [(str(m.id), m.persona, m.created.strftime("%Y-%m-%d %H:%M"), m.name, m.phone or "-",
                            m.call_id or "-", m.text) for m in messages])
