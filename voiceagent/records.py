"""The call record: one JSON-lines file per call, written and flushed as the call goes, so a crash of
the server loses at most the turn in flight."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any


class CallRecord:
    """Appends one JSON object per line to ``<folder>/<call_id>.jsonl``; a no-op when folder is empty."""

    def __init__(self, folder: str, call_id: str) -> None:
        self.path: Path | None = None
        self._file: IO[str] | None = None
        if folder:
            self.path = Path(folder) / f"{call_id}.jsonl"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        """Append an entry (``kind`` plus fields, stamped with wall-clock time) and flush it."""
        if self._file is None:
            return
        entry = {"at": round(time.time(), 3), "kind": kind, **fields}
        self._file.write(json.dumps(entry, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_record(path: str | Path) -> list[dict[str, Any]]:
    """All entries of a call record (a torn last line, from a crash, is skipped)."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
