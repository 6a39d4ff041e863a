"""The engine worker thread: queue wait and engine time split, per task and in /metrics; a job cancelled
while it waits never runs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest
from prometheus_client import REGISTRY

from voiceagent.engines.worker import EngineWorker, JobSkipped, collect_waits


def _sample(name: str, engine: str) -> float:
    return REGISTRY.get_sample_value(name, {"engine": engine}) or 0.0


async def test_a_job_cancelled_while_it_waits_never_runs() -> None:
    worker = EngineWorker("test-cancel")
    release, ran = threading.Event(), []
    holder = worker.submit(lambda: release.wait(5))
    queued = asyncio.create_task(worker.run(ran.append, "queued"))
    await asyncio.sleep(0.05)
    queued.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await queued
    release.set()
    await asyncio.wrap_future(holder)
    await worker.run(ran.append, "after")
    assert ran == ["after"]
    assert _sample("voiceagent_engine_jobs_skipped_total", "test-cancel") == 1
    worker.close()


async def test_queue_wait_and_engine_time_are_split_and_the_wait_goes_to_the_task_that_asked() -> None:
    worker = EngineWorker("test-wait")
    release = threading.Event()
    holder = worker.submit(lambda: release.wait(5))

    async def turn(sink: dict[str, float]) -> None:
        collect_waits(sink)
        await worker.run(time.sleep, 0.05)

    mine: dict[str, float] = {}
    asking = asyncio.create_task(turn(mine))
    await asyncio.sleep(0.2)  # waits behind the holder
    release.set()
    await asking
    await asyncio.wrap_future(holder)
    assert 0.15 < mine["test-wait"] < 5  # the wait, not the 50 ms of work
    others: dict[str, float] = {}
    await asyncio.create_task(turn(others))
    assert others["test-wait"] < mine["test-wait"]  # the second asker found the engine free
    assert _sample("voiceagent_engine_queue_seconds_count", "test-wait") == 3
    assert _sample("voiceagent_engine_busy_seconds_sum", "test-wait") >= 0.1 + 0.05 + 0.05  # the holder, two jobs
    worker.close()


async def test_a_real_job_goes_before_speculative_work_queued_earlier_and_stale_speculation_is_skipped() -> None:
    worker = EngineWorker("test-priority", speculative_wait_s=0.2)
    release, order = threading.Event(), []
    holder = worker.submit(lambda: release.wait(5))
    early = asyncio.create_task(worker.run_speculative(lambda: order.append("prefill")))
    await asyncio.sleep(0.05)
    real = asyncio.create_task(worker.run(order.append, "turn"))
    await asyncio.sleep(0.3)  # the prefill has now waited past its 0.2 s
    release.set()
    await asyncio.wrap_future(holder)
    await real
    with pytest.raises(JobSkipped):
        await early
    assert order == ["turn"]  # the turn went first; the stale prefill never ran
    assert _sample("voiceagent_engine_jobs_skipped_total", "test-priority") == 1
    fresh = await worker.run_speculative(lambda: "ran")  # an idle engine runs speculation at once
    assert fresh == "ran"
    worker.close()


async def test_a_closed_worker_cancels_what_waits_and_takes_no_more() -> None:
    worker = EngineWorker("test-close")
    release = threading.Event()
    holder = worker.submit(lambda: release.wait(5))
    while not holder.running():
        await asyncio.sleep(0.01)
    waiting = worker.submit(lambda: "never")
    worker.close()
    assert waiting.cancelled() and worker.submit(lambda: "late").cancelled()
    release.set()
    assert await asyncio.wrap_future(holder) is True  # what was running finishes
