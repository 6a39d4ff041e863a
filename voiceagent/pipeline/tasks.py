"""A set of fire-and-forget tasks that are still tracked: every one is kept until it ends and can be
cancelled together (when a call ends, nothing it started outlives it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class TaskSet:
    """Starts tasks, keeps a reference until each is done, and cancels the rest on :meth:`cancel_all`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a tracked task."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    async def settle(self, name: str, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for the running tasks started with ``name`` to finish by themselves
        (an action under way when the call ends: it is done, not abandoned half way)."""
        named = [task for task in self._tasks if task.get_name() == name]
        if named:
            await asyncio.wait(named, timeout=timeout_s)

    def cancel_all(self) -> None:
        """Cancel every task still running (does not wait)."""
        for task in list(self._tasks):
            task.cancel()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Cancel every task still running and wait (up to ``timeout_s``) until they have stopped.
        Safe to cancel: the tasks are already cancelled."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(tasks, timeout=timeout_s)
