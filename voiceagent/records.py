"""The call record: one JSON-lines file per call, written as the call goes; its privacy controls.

Write and flush policy (what a crash keeps):

- Each entry is one line written with a single ``write()`` system call on a file descriptor opened with
  ``O_APPEND``, with no buffer in the process. When :meth:`CallRecord.write` returns, the entry is in the
  kernel's page cache: a ``kill -9``, an OOM kill or a crash of the server loses nothing written.
- At the end of each turn (``turn_metrics``) and of the call (``end``) the file is ``fsync``'ed on one
  background thread, so a power cut or kernel crash also keeps the finished turns (moments later). The
  event loop never waits for the disk: an ``fsync`` took 0.1 ms (median of 40, 0.5 ms at most) on the
  development VM's disk, but can take far longer on a disk busy with other writes or attached over a
  network, and every call shares the loop.
- A kill can still tear the line being written (the kernel may stop a write between pages), and a full
  disk can leave half a line. Readers (:func:`load_record`, ``voiceagent calls``) skip such a line with
  a warning and count it; a line torn by a failed write is ended before the next entry, so only the
  torn entry is lost. A failing disk never ends a call: the record logs one warning and carries on.

Privacy (see SECURITY.md): :class:`Redactor` replaces phone numbers by ``[phone]`` and names by
``[name]`` in record entries (``CallRecord(..., redact=True)``, or ``configure_redaction(True)`` for
the whole process, which also redacts log lines); :func:`prune_records` and :class:`Retention` delete
what is older than ``retention_days``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SYNC_KINDS = frozenset({"turn_metrics", "end"})  # entries after which the file is fsync'ed
FILE_MODE = 0o600  # records hold what callers said: readable by the server's user only

# ----------------------------------------------------------------------------------- writing

_disk: concurrent.futures.ThreadPoolExecutor | None = None
_disk_lock = threading.Lock()


def _disk_thread() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that fsyncs and closes record files, in the order asked (made on first use)."""
    global _disk
    with _disk_lock:
        if _disk is None:
            _disk = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="voiceagent-records")
        return _disk


def _on_disk_thread(job: Callable[..., None], *args: Any) -> None:
    """Run ``job`` on the disk thread, after what was asked before it (inline once the interpreter is
    shutting down and the thread takes no more work)."""
    try:
        _disk_thread().submit(job, *args)
    except RuntimeError:
        job(*args)


def _fsync(fd: int, path: Path) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        log.warning("call record %s: fsync failed: %s", path.name, exc)


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class CallRecord:
    """Appends one JSON object per line to ``<folder>/<call_id>.jsonl``; a no-op when folder is empty.

    ``redact``: replace phone numbers and names in every entry (:class:`Redactor`); None follows
    :func:`configure_redaction` (off unless the server turned it on).
    """

    def __init__(self, folder: str, call_id: str, *, redact: bool | None = None) -> None:
        self.path: Path | None = None
        self._fd: int | None = None
        self._torn = False  # the last write failed part way: the next entry starts on a new line
        self._failed = False  # a write failed (warned once)
        on = _redact_by_default if redact is None else redact
        self.redactor: Redactor | None = Redactor(share_with_logs=True) if on else None
        if folder:
            self.path = Path(folder) / f"{call_id}.jsonl"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)

    def write(self, kind: str, **fields: Any) -> None:
        """Append an entry (``kind`` plus fields, stamped with wall-clock time) in one write; after a
        turn's or the call's end, have the file fsync'ed (see the module's policy)."""
        if self._fd is None or self.path is None:
            return
        entry: dict[str, Any] = {"at": round(time.time(), 3), "kind": kind, **fields}
        if self.redactor is not None:
            entry = self.redactor.entry(entry)
        data = (("\n" if self._torn else "") + json.dumps(entry, default=str) + "\n").encode("utf-8")
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
            self._torn = False
        except OSError as exc:
            self._torn = True
            if not self._failed:
                self._failed = True
                log.warning("call record %s: cannot write (%s): entries are being lost", self.path.name, exc)
            return
        if kind in SYNC_KINDS:
            _on_disk_thread(_fsync, self._fd, self.path)

    def close(self) -> None:
        """Close the file (after any fsync still pending, on the background thread)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            _on_disk_thread(_close, fd)


# ----------------------------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True, slots=True)
class RecordFile:
    """A call record as read: its entries, and the line numbers of lines that are not whole entries
    (normally one torn last line: the server stopped while writing it)."""

    entries: list[dict[str, Any]]
    skipped: list[int]

    def warning(self, name: str) -> str:
        """A sentence about the skipped lines ("" when there are none)."""
        if not self.skipped:
            return ""
        where = ", ".join(str(n) for n in self.skipped)
        what = "line" if len(self.skipped) == 1 else "lines"
        return (f"{name}: skipped {len(self.skipped)} unreadable {what} ({where}): a torn last line means the "
                "server stopped while writing it")


def load_record(path: str | Path) -> RecordFile:
    """Read a call record, skipping (and counting) lines that are not whole JSON objects."""
    entries: list[dict[str, Any]] = []
    skipped: list[int] = []
    for number, raw in enumerate(Path(path).read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            entry = None
        if isinstance(entry, dict):
            entries.append(entry)
        else:
            skipped.append(number)
    return RecordFile(entries, skipped)


def read_record(path: str | Path) -> list[dict[str, Any]]:
    """All entries of a call record; a torn line (from a crash) is skipped with a logged warning."""
    record = load_record(path)
    if record.skipped:
        log.warning("%s", record.warning(str(path)))
    return record.entries


# ----------------------------------------------------------------------------------- redaction

PHONE = "[phone]"
NAME = "[name]"

_DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# 6+ digits, possibly grouped by spaces, dots, dashes or brackets: "555 123 4567", "+44 (20) 7946-0958".
_PHONE_DIGITS = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d(?:[ ().-]{0,2}\d){5,}(?![\w]|[ ().-]{0,2}\d)")
_NOT_PHONES = re.compile(r"\d{4}-\d\d-\d\d|\d{1,3}(?:\.\d{1,3}){3}")  # ISO dates, IPv4 addresses
_SPOKEN_TOKEN = rf"(?:(?:double|triple)\s+)?(?:{'|'.join(_DIGIT_WORDS)}|\d+)"
# Digits said as words, as speech-to-text may write them: "five five five, one two three four".
_PHONE_SPOKEN = re.compile(rf"\b{_SPOKEN_TOKEN}(?:[\s,.-]+{_SPOKEN_TOKEN})+\b", re.IGNORECASE)

_FILLERS = r"(?:[\s,]+(?:uh|um|er|erm|ah|well)\b)*"
_WORD = r"[^\W\d_][\w'’-]*"
# What introduces the caller's name. After a strong one the next word is a name whatever its case (and so
# are the following ones, capitalised as it is); after a weak one only capitalised words are.
_STRONG = (r"my name is", r"my name['’]s", r"the name is", r"the name['’]s", r"name is",
           r"under the name(?: of)?", r"booked under", r"put it under", r"it['’]s under")
_WEAK = (r"this is", r"i am", r"i['’]m", r"call me")
_NAME_PHRASE = re.compile(
    rf"\b(?:(?P<strong>{'|'.join(_STRONG)})|(?P<weak>{'|'.join(_WEAK)})){_FILLERS}[\s,]+"
    rf"(?P<name>{_WORD}(?:\s+{_WORD}){{0,2}})",
    re.IGNORECASE,
)
_SIP_DISPLAY_NAME = re.compile(r'"(?P<name>[^"<>]{1,80})"(?=\s*<(?:sips?|tel):)')  # "Anna Lee" <sip:...>
_NOT_NAME_WORDS = """
    a an the and or but so to at on in of for from with back later now here there just not no yes please
    calling looking going trying ringing phoning wondering hoping booking asking speaking maybe sorry fine
    good great okay ok well afraid interested available free busy sure still also really very about after
    before again i me my you your we our it is was be that this what when where who how why can could would
    will caller customer unknown anonymous someone nobody today tomorrow tonight morning afternoon evening
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december uh um er erm ah"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())  # words after "this is", "I'm" ... that are not a name
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "madam", "prof"})
_NAME_RUN = re.compile(r"\[name\](?:[\s,]+\[name\])+")

# Values under these keys (in action arguments, details ...) are a name or a phone number as a whole.
NAME_KEYS = frozenset({"name", "caller_name", "first_name", "last_name", "full_name", "customer", "contact"})
PHONE_KEYS = frozenset({"phone", "phone_number", "number", "callback", "callback_number", "caller_id"})
# Top-level fields that are the system's own facts, never a caller's words: kept as they are.
_KEEP = frozenset({"at", "kind", "call_id", "persona", "transport", "models", "sample_rate", "code", "outcome",
                   "turn", "revises", "ms", "problem", "status", "event", "by", "ref", "stream_sid",
                   "call_sid", "asterisk_uuid", "sip_call_id", "call_key", "connection_id", "channel_id"})
_ACTION_KINDS = frozenset({"action", "action_reconsidered"})  # their top-level "name" is the action's
_UNREDACTED_KINDS = frozenset({"turn_metrics"})  # numbers and stage names only


class Redactor:
    """Replaces phone numbers by ``[phone]`` and names by ``[name]``.

    Phone numbers: runs of 6 or more digits (grouped by spaces, dots, dashes or brackets, with an
    optional "+"), and 6 or more digits said as words ("five five five one two three"). ISO dates and
    IPv4 addresses are not phone numbers. Names: the words after "my name is", "call me", "under the
    name" and the like (after "this is", "I'm", "I am" only capitalised words), and values of name
    arguments; once learned, a name's words are replaced wherever they appear capitalised later on
    (so "Thanks, Anna" in a reply). Learned names are kept per instance (one call), up to ``max_names``.
    """

    def __init__(self, *, max_names: int = 64, share_with_logs: bool = False) -> None:
        self._names: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._max_names = max_names
        self._share = share_with_logs
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    # -- names

    def learn(self, name: str) -> None:
        """Remember the words of a caller's name, to replace them wherever they come up again."""
        added = []
        for word in re.findall(_WORD, name):
            key = word.casefold()
            if len(key) < 2 or key in _TITLES or key in _NOT_NAMES:
                continue
            added.append(word)
        if not added:
            return
        with self._lock:
            for word in added:
                self._names[word.casefold()] = None
                self._names.move_to_end(word.casefold())
            while len(self._names) > self._max_names:
                self._names.popitem(last=False)
            self._pattern = None
        if self._share and self is not _LOG_REDACTOR:
            _LOG_REDACTOR.learn(" ".join(added))

    def _names_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._names:
                forms = {f for key in self._names for f in (key[:1].upper() + key[1:], key.upper())}
                alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                self._pattern = re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])")
            return self._pattern

    def _phrase_names(self, text: str) -> list[tuple[int, int, str]]:
        """The names introduced in ``text`` ("my name is Anna Lee"): (start, end, name) of each."""
        found = [(m.start("name"), m.end("name"), m.group("name")) for m in _SIP_DISPLAY_NAME.finditer(text)]
        for match in _NAME_PHRASE.finditer(text):
            weak = match.group("weak") is not None
            taken: list[re.Match[str]] = []
            for word in re.finditer(_WORD, match.group("name")):
                folded, capital = word.group().casefold(), word.group()[:1].isupper()
                if folded in _TITLES and not taken:
                    continue  # "my name is Dr Smith": the title stays, the name goes
                first_capital = taken[0].group()[:1].isupper() if taken else capital
                if folded in _NOT_NAMES or (weak and not capital) or capital != first_capital:
                    break
                taken.append(word)
            if taken:
                base = match.start("name")
                start, end = base + taken[0].start(), base + taken[-1].end()
                found.append((start, end, text[start:end]))
        return sorted(found)

    # -- text and entries

    def text(self, text: str) -> str:
        """``text`` with phone numbers and names replaced (names introduced in it are learned first)."""
        if not text:
            return text
        phrases = self._phrase_names(text)
        for _, _, name in phrases:
            self.learn(name)
        for start, end, _ in reversed(phrases):
            text = text[:start] + NAME + text[end:]
        pattern = self._names_pattern()
        if pattern is not None:
            text = pattern.sub(NAME, text)
        text = _PHONE_DIGITS.sub(_phone_digits, text)
        text = _PHONE_SPOKEN.sub(_phone_spoken, text)
        return _NAME_RUN.sub(NAME, text)

    def entry(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """A record entry with its callers' words redacted (the system's own fields are kept)."""
        kind = entry.get("kind")
        if kind in _UNREDACTED_KINDS:
            return dict(entry)
        self._learn_from(entry, top=True)
        return {key: value if key in _KEEP or (key == "name" and kind in _ACTION_KINDS) else self.value(value)
                for key, value in entry.items()}

    def value(self, value: Any, key: str | None = None) -> Any:
        """Any JSON-like value redacted: strings as text, nested dicts and lists throughout, with values
        under :data:`NAME_KEYS` and :data:`PHONE_KEYS` replaced as a whole."""
        if isinstance(value, str):
            if key in NAME_KEYS and value.strip():
                return NAME
            if key in PHONE_KEYS and value.strip():
                return PHONE
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def _learn_from(self, value: Any, key: str | None = None, *, top: bool = False) -> None:
        """Learn the names an entry gives (name arguments), before any of its text is redacted."""
        if isinstance(value, str):
            if key in NAME_KEYS and not top:
                self.learn(value)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if not (top and k in _KEEP):
                    self._learn_from(v, str(k))
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._learn_from(v)


def _phone_digits(match: re.Match[str]) -> str:
    return match.group() if _NOT_PHONES.fullmatch(match.group()) else PHONE


def _phone_spoken(match: re.Match[str]) -> str:
    """A run of digits and digit words is a phone number with 6+ digits, 2+ of them said as words."""
    count = words = 0
    for token in re.findall(r"\d+|[a-z]+", match.group().lower()):
        if token.isdigit():
            count += len(token)
        elif token in _DIGIT_WORDS:
            count, words = count + 1, words + 1
        else:  # double, triple: the next digit counts twice or three times
            count += 1 if token == "double" else 2
    return PHONE if count >= 6 and words >= 2 else match.group()


_LOG_REDACTOR = Redactor(max_names=512)  # names learned in any call, for log lines
_redact_by_default = False


class RedactingFilter(logging.Filter):
    """Redacts a log record's message and traceback (phone numbers, and names as :class:`Redactor`
    finds them, including names learned in calls). Put on handlers: a logger's own filters do not see
    records that propagate to it from child loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call is the handler's to report
            return True
        record.msg, record.args = _LOG_REDACTOR.text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _LOG_REDACTOR.text(record.exc_text)
        if record.stack_info:
            record.stack_info = _LOG_REDACTOR.text(record.stack_info)
        return True


LOG_FILTER = RedactingFilter()


def configure_redaction(on: bool, *, loggers: Iterable[logging.Logger] | None = None) -> None:
    """Turn redaction on or off for the process: call records made without an explicit ``redact``, and
    log lines, through :data:`LOG_FILTER` on the handlers of the root and ``voiceagent`` loggers (and of
    ``loggers``, if given) as they are now."""
    global _redact_by_default
    _redact_by_default = on
    targets = [logging.getLogger(), logging.getLogger("voiceagent"), *(loggers or ())]
    for logger in targets:
        for handler in [*logger.handlers, logger]:
            if on and LOG_FILTER not in handler.filters:
                handler.addFilter(LOG_FILTER)
            elif not on:
                handler.removeFilter(LOG_FILTER)


# ----------------------------------------------------------------------------------- retention

PruneJob = Callable[[datetime], int]  # deletes what is older than a local time; returns how many


def prune_records(folder: str | Path, before: datetime) -> int:
    """Delete the call records in ``folder`` last written before ``before`` (local time); how many."""
    if not folder or not Path(folder).is_dir():
        return 0
    cutoff = before.timestamp()
    deleted = 0
    for path in Path(folder).glob("*.jsonl"):
        with contextlib.suppress(FileNotFoundError):  # another replica pruning the same folder
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
    return deleted


class Retention:
    """Deletes what is older than ``days``: at :meth:`start` and then every ``every_s``, each job on a
    worker thread (the event loop never waits for it). ``days`` <= 0 keeps everything. A failing job is
    logged and tried again next time."""

    def __init__(self, days: int, jobs: Mapping[str, PruneJob], *, every_s: float = 3600.0,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.days = days
        self.jobs = dict(jobs)
        self.every_s = every_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_records(cls, days: int, records_dir: str, also: Mapping[str, PruneJob] | None = None) -> Retention:
        """Retention of the call records in ``records_dir``, and of what the ``also`` jobs prune."""
        jobs: dict[str, PruneJob] = {}
        if records_dir:
            jobs["call records"] = lambda before: prune_records(records_dir, before)
        return cls(days, {**jobs, **(also or {})})

    async def prune_once(self) -> dict[str, int]:
        """Run every job once now: what each deleted (-1 for a job that failed)."""
        before = self._clock() - timedelta(days=self.days)
        counts: dict[str, int] = {}
        for what, job in self.jobs.items():
            try:
                counts[what] = await asyncio.to_thread(job, before)
            except Exception as exc:  # noqa: BLE001 - retention must not stop the server
                log.warning("retention: pruning %s failed: %r", what, exc)
                counts[what] = -1
                continue
            if counts[what]:
                log.info("retention: deleted %d %s older than %d days", counts[what], what, self.days)
        return counts

    async def _run(self) -> None:
        while True:
            await self.prune_once()
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        """Start pruning (now, then every ``every_s``) in a background task; nothing when ``days`` <= 0."""
        if self.days > 0 and self.jobs and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="voiceagent-retention")

    @property
    def running(self) -> bool:
        """True while the background task is alive."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop the background task (a job in progress on its thread finishes on its own)."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
