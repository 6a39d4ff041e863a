"""One worker thread per engine: blocking model calls leave the event loop and queue up per engine,
so a busy language model never starves speech recognition of threads (and vice versa).

Each job's time is split in two: the wait in the engine's queue (another call's work, or speculative
work, ran first) and the time the engine itself took. Both go to ``/metrics``
(``voiceagent_engine_queue_seconds`` and ``voiceagent_engine_busy_seconds``, by engine), and the waits of
the jobs a task starts can be collected for that task (:func:`collect_waits`: a turn's ``*_queue_ms``).
A job cancelled while it waits never starts (``voiceagent_engine_jobs_skipped_total``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from voiceagent import metrics

P = ParamSpec("P")
T = TypeVar("T")

_WAITS: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("engine_waits", default=None)


def collect_waits(sink: dict[str, float]) -> None:
    """From now on, the queue waits of engine jobs started by the current task (and by tasks it creates
    later) are added up in ``sink``, in seconds by engine name. It is updated on the event loop, before
    the job's first result arrives there."""
    _WAITS.set(sink)


class EngineWorker:
    """Runs blocking calls of one engine, one at a time, on its own thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the engine's thread. Cancelling the await before the job starts means it never
        starts; once it runs, cancelling abandons the result, not the work."""
        future = self.submit(lambda: fn(*args, **kwargs))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self.withdraw(future)
            raise

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn`` without awaiting it (used by streaming producers); :meth:`withdraw` takes it
        back if it has not started."""
        loop = asyncio.get_running_loop()
        sink = _WAITS.get()
        queued = time.monotonic()

        def job() -> T:
            started = time.monotonic()
            metrics.ENGINE_QUEUE_SECONDS.labels(self.name).observe(started - queued)
            if sink is not None:
                loop.call_soon_threadsafe(_add, sink, self.name, started - queued)
            try:
                return fn()
            finally:
                metrics.ENGINE_BUSY_SECONDS.labels(self.name).observe(time.monotonic() - started)

        return self._pool.submit(job)

    def withdraw(self, future: concurrent.futures.Future[T]) -> bool:
        """Take back a job that has not started (it never will); False if it already runs or ran."""
        if future.cancel():
            metrics.ENGINE_JOBS_SKIPPED.labels(self.name).inc()
            return True
        return False

    def close(self) -> None:
        """Stop accepting work; running work finishes in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _add(sink: dict[str, float], name: str, seconds: float) -> None:
    sink[name] = sink.get(name, 0.0) + seconds
