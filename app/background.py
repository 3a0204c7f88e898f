"""`BackgroundTasks`: work the caller does not wait for (floating executors, ALL_ASYNC stragglers).

Keeps a hard reference to each task (the event loop keeps only weak ones, so an unreferenced task
can vanish mid-flight), logs what fails, and lets `close()` wait for what is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["BackgroundTasks"]

T = TypeVar("T")


class BackgroundTasks:
    """A set of tasks nobody awaits, whose failures are logged rather than lost."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._tasks: set[asyncio.Future[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def track(self, task: asyncio.Future[T], on_result: Callable[[T], None] | None = None) -> None:
        """Keep `task` alive until it ends; hand its result to `on_result`, log its exception."""
        self._tasks.add(task)

        def finished(done: asyncio.Future[T]) -> None:
            self._tasks.discard(done)
            if done.cancelled():
                return
            exc = done.exception()
            if exc is not None:
                self._logger.error("background task failed", exc_info=exc)
            elif on_result is not None:
                on_result(done.result())

        task.add_done_callback(finished)

    async def aclose(self, grace: float) -> None:
        """Wait up to `grace` seconds for running tasks, then cancel what is left."""
        pending = set(self._tasks)
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=grace)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running)
