"""One worker thread per engine: blocking model calls leave the event loop and queue up per engine,
so a busy language model never starves speech recognition of threads (and vice versa).

Each job's time is split in two: the wait in the engine's queue (another call's work, or speculative
work, ran first) and the time the engine itself took. Both go to ``/metrics``
(``voiceagent_engine_queue_seconds`` and ``voiceagent_engine_busy_seconds``, by engine), and the waits of
the jobs a task starts can be collected for that task (:func:`collect_waits`: a turn's ``*_queue_ms``).
A job cancelled while it waits never runs (``voiceagent_engine_jobs_skipped_total``).

Speculative work (a prefill of the conversation while the caller listens) yields: a job for a caller who
is waiting always runs first, and a speculative job that has waited longer than ``speculative_wait_s``
(the engine is busy with real turns) is skipped with :class:`JobSkipped`.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from voiceagent import metrics

P = ParamSpec("P")
T = TypeVar("T")

_WAITS: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("engine_waits", default=None)


class JobSkipped(RuntimeError):
    """A speculative job was dropped: real turns kept the engine busy for longer than it may wait."""


def collect_waits(sink: dict[str, float]) -> None:
    """From now on, the queue waits of engine jobs started by the current task (and by tasks it creates
    later) are added up in ``sink``, in seconds by engine name. It is updated on the event loop, before
    the job's first result arrives there."""
    _WAITS.set(sink)


def wait_reporter(name: str) -> Callable[[float], None]:
    """A callback, safe to call from any thread, that adds a queue wait (seconds) of engine ``name`` to
    the sink :func:`collect_waits` set for the current task (a no-op when none was set): for engines that
    queue work themselves instead of through an :class:`EngineWorker`."""
    sink = _WAITS.get()
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    def report(seconds: float) -> None:
        if sink is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody will read it
                loop.call_soon_threadsafe(_add, sink, name, seconds)

    return report


@dataclasses.dataclass(eq=False, slots=True)
class _Job:
    fn: Callable[[], Any]
    future: concurrent.futures.Future[Any]
    queued: float
    report_wait: Callable[[float], None]


class EngineWorker:
    """Runs blocking calls of one engine, one at a time, on its own thread: real work first, in order.

    The thread is a one-worker ``ThreadPoolExecutor`` (so a job still running at exit is waited for);
    each submitted job queues one "run the next job" call on it, which takes the first real job waiting,
    or else the first speculative one."""

    def __init__(self, name: str, *, speculative_wait_s: float = 1.0) -> None:
        self.name = name
        self.speculative_wait_s = speculative_wait_s
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()  # guards the two queues (submitters on the loop, the engine thread)
        self._real: collections.deque[_Job] = collections.deque()
        self._speculative: collections.deque[_Job] = collections.deque()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the engine's thread. Cancelling the await before the job starts means it never
        starts; once it runs, cancelling abandons the result, not the work."""
        return await self._await(self.submit(lambda: fn(*args, **kwargs)))

    async def run_speculative(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` when no real job waits; raises :class:`JobSkipped` if it waited too long."""
        return await self._await(self.submit(fn, speculative=True))

    async def _await(self, future: concurrent.futures.Future[T]) -> T:
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self.withdraw(future)
            raise

    def submit(self, fn: Callable[[], T], *, speculative: bool = False) -> concurrent.futures.Future[T]:
        """Queue ``fn`` without awaiting it (used by streaming producers); :meth:`withdraw` takes it
        back if it has not started."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        job = _Job(fn, future, time.monotonic(), wait_reporter(self.name))
        with self._lock:
            (self._speculative if speculative else self._real).append(job)
        try:
            self._pool.submit(self._run_next)
        except RuntimeError:  # closed
            future.cancel()
        return future

    def withdraw(self, future: concurrent.futures.Future[T]) -> bool:
        """Take back a job that has not started (it never will); False if it already runs or ran."""
        if future.cancel():
            metrics.ENGINE_JOBS_SKIPPED.labels(self.name).inc()
            return True
        return False

    def close(self) -> None:
        """Stop accepting work; queued jobs are cancelled, a running one finishes in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for job in (*self._real, *self._speculative):
                job.future.cancel()
            self._real.clear()
            self._speculative.clear()

    def _run_next(self) -> None:
        with self._lock:
            if self._real:
                job, speculative = self._real.popleft(), False
            elif self._speculative:
                job, speculative = self._speculative.popleft(), True
            else:
                return
        self._run(job, stale=speculative and time.monotonic() - job.queued > self.speculative_wait_s)

    def _run(self, job: _Job, *, stale: bool) -> None:
        if not job.future.set_running_or_notify_cancel():
            return  # withdrawn while it waited
        started = time.monotonic()
        waited = started - job.queued
        metrics.ENGINE_QUEUE_SECONDS.labels(self.name).observe(waited)
        job.report_wait(waited)
        if stale:
            metrics.ENGINE_JOBS_SKIPPED.labels(self.name).inc()
            job.future.set_exception(JobSkipped(f"{self.name}: speculative work waited {waited:.2f} s"))
            return
        try:
            result = job.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the job
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
        finally:
            metrics.ENGINE_BUSY_SECONDS.labels(self.name).observe(time.monotonic() - started)


def _add(sink: dict[str, float], name: str, seconds: float) -> None:
    sink[name] = sink.get(name, 0.0) + seconds
