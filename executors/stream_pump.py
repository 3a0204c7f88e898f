"""Runs a generator handler ahead of the gRPC writer of its stream.

Python gRPC costs a fixed ~100-250 µs of CPU per streamed message on each end, whatever its size.
So the generator runs as a producer into an `ItemBuffer` while the servicer writes: whatever it
yielded during one write goes out in the next message. A slow generator still has each document
sent the moment it is yielded (the writer is waiting for it); a fast one fills messages.

- async generators run in their own task, giving the loop back after the first document of each
  batch (so it leaves at once) and at least every `_YIELD_EVERY_S` (so a generator that never
  awaits cannot hold finished writes back until the buffer is full);
- sync generators run on the handler thread for many `next()` calls per job, handing each item to
  the loop with `call_soon_threadsafe`, instead of one thread round trip per document. A slice
  ends as soon as another handler call is queued for the thread, so a long stream does not lock
  out the executor's other sync requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from typing import Any

from flowql.codec import encode_docs
from flowql.executors.sync_runner import SyncCallRunner

__all__ = ["ItemBuffer", "encoded_chunks", "pump_async", "pump_sync"]

_DONE = object()  # what `next(generator, _DONE)` returns when a sync generator is exhausted
_YIELD_EVERY_S = 0.001
_CHUNK_BYTES = 4 << 20  # about the most a batched response holds: one big write must not stall the rest

Check = Callable[[Any], Any]


class ItemBuffer:
    """Documents a generator produced and the writer has not taken yet (at most `capacity`),
    and how the production ended. Used from the event loop only (threads go through the loop)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.error: Exception | None = None
        # Read by the handler thread between `next()` calls, without a lock (a bool read is atomic;
        # a late read costs one more item): the writer is gone, stop producing.
        self.closed = False
        self._items: deque[Any] = deque()
        self._done = False
        self._wake_writer: asyncio.Future[None] | None = None
        self._wake_producer: asyncio.Future[None] | None = None

    @property
    def writer_waiting(self) -> bool:
        """The writer is idle until the next item: hand it over now."""
        return self._wake_writer is not None

    def room(self) -> int:
        return self.capacity - len(self._items)

    def put(self, item: Any) -> None:
        self._items.append(item)
        _wake(self._wake_writer)

    def finish(self, error: Exception | None = None) -> None:
        """No more items; `error` is what ended the generator, if it failed."""
        self._done = True
        self.error = error
        _wake(self._wake_writer)

    def close(self) -> None:
        """The writer stopped reading (the call ended): producers stop at their next item."""
        self.closed = True
        _wake(self._wake_producer)

    async def take(self, limit: int) -> list[Any]:
        """Up to `limit` items, waiting for at least one; [] once production has finished."""
        while not self._items and not self._done:
            self._wake_writer = asyncio.get_running_loop().create_future()
            try:
                await self._wake_writer
            finally:
                self._wake_writer = None
        items = self._items
        taken = [items.popleft() for _ in range(min(limit, len(items)))]
        _wake(self._wake_producer)
        return taken

    async def wait_room(self) -> None:
        """Until the writer took something (or left)."""
        while self.room() <= 0 and not self.closed:
            self._wake_producer = asyncio.get_running_loop().create_future()
            try:
                await self._wake_producer
            finally:
                self._wake_producer = None


async def pump_async(generator: AsyncGenerator[Any, None], buffer: ItemBuffer, check: Check) -> None:
    """Move an async generator's items into `buffer` until it ends or the writer leaves."""
    async with contextlib.aclosing(generator):
        last_yield = time.monotonic()
        async for item in generator:
            buffer.put(check(item))
            if buffer.room() <= 0:
                await buffer.wait_room()
                last_yield = time.monotonic()
            elif buffer.writer_waiting or time.monotonic() - last_yield > _YIELD_EVERY_S:
                await asyncio.sleep(0)  # let the writer start on what is there
                last_yield = time.monotonic()
            if buffer.closed:
                return


async def pump_sync(
    runner: SyncCallRunner, generator: Generator[Any, None, None], buffer: ItemBuffer, check: Check
) -> None:
    """Move a sync generator's items into `buffer`, running it on the handler thread in slices."""
    loop = asyncio.get_running_loop()
    try:
        while not buffer.closed:
            if buffer.room() <= 0:
                await buffer.wait_room()
                continue
            if await runner.run(_run_slice, generator, buffer, loop, check, buffer.room(), runner.idle):
                return
    finally:
        # Queued behind any running slice, so the generator is never closed while it runs.
        runner.submit(generator.close)


def _run_slice(
    generator: Iterator[Any],
    buffer: ItemBuffer,
    loop: asyncio.AbstractEventLoop,
    check: Check,
    budget: int,
    idle: Callable[[], bool],
) -> bool:
    """On the handler thread: up to `budget` items into the buffer; True once the generator ended."""
    put = buffer.put
    for _ in range(budget):
        item = next(generator, _DONE)
        if item is _DONE:
            return True
        loop.call_soon_threadsafe(put, check(item))
        if buffer.closed or not idle():
            break  # the writer left, or another handler call waits for this thread
    return False


def encoded_chunks(items: list[Any], max_bytes: int = _CHUNK_BYTES) -> Iterator[tuple[bytes, int]]:
    """`items` as DocListProto bytes and how many documents each holds, in order: all of them in
    one, unless that passes `max_bytes` (a document bigger than that goes alone). Concatenated
    DocListProto bytes are the DocListProto of all their documents (the one repeated field
    appends), so each document is encoded on its own and the bytes joined."""
    if len(items) == 1:
        yield encode_docs(items), 1
        return
    parts: list[bytes] = []
    size = 0
    for item in items:
        encoded = encode_docs([item])
        if parts and size + len(encoded) > max_bytes:
            yield b"".join(parts), len(parts)
            parts, size = [], 0
        parts.append(encoded)
        size += len(encoded)
    yield b"".join(parts), len(parts)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
