"""`SyncCallRunner`: runs an Executor's blocking (sync) handlers off the event loop, one at a time.

One dedicated thread, so the loop keeps answering health checks and async requests while a sync
handler works, and user code written without locks never runs in two threads at once (Jina
serialised handler calls the same way). The thread is a daemon: a handler stuck past the shutdown
grace period cannot keep the process from exiting, which a ThreadPoolExecutor's joined workers would.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["SyncCallRunner"]

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any] | None", Callable[..., Any], tuple[Any, ...]]


class SyncCallRunner:
    """Runs callables on one daemon thread, in submission order; `await runner.run(fn, *args)`."""

    def __init__(self, name: str = "flowql-sync-handler") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` on the thread and wait for its result (or exception)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._submit((loop, future, function, args))
        return await future

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue `function(*args)` without waiting for it (e.g. closing an abandoned generator)."""
        self._submit((asyncio.get_running_loop(), None, function, args))

    def idle(self) -> bool:
        """No job is waiting for the thread (a long-running job can check this to give way)."""
        return self._jobs.empty()

    def shutdown(self) -> None:
        """Let the thread finish the queued jobs and end; later `run` calls start a new thread."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _submit(self, job: _Job) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            if future is not None and future.cancelled():
                continue
            try:
                result = function(*args)
            except BaseException as exc:  # delivered to the awaiting coroutine, like any handler error
                if isinstance(exc, StopIteration):
                    # A future refuses StopIteration (it would vanish inside the awaiting coroutine).
                    error: BaseException = RuntimeError(f"handler raised StopIteration: {exc}")
                    error.__cause__ = exc
                    exc = error
                if future is not None:
                    _deliver(loop, future.set_exception, future, exc)
            else:
                if future is not None:
                    _deliver(loop, future.set_result, future, result)


def _deliver(
    loop: asyncio.AbstractEventLoop, setter: Callable[[Any], None], future: asyncio.Future[Any], value: Any
) -> None:
    def settle() -> None:
        if not future.done():
            setter(value)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:
        pass  # the loop is closed: nobody is waiting any more
