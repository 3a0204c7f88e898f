"""`RequestPipeline`: streams one `post()`'s requests through a transport with bounded memory.

    inputs ──(producer task)──> queue(1) ──> session: transport.exchange() ──> responses
               ▲ prefetch window: a slot is taken before a batch is built and given back when
               └──────────────── its response is handed to the caller

- At most `prefetch` requests are built and unanswered at once, so a generator of a million
  documents is read as fast as the gateway answers, never materialised.
- The producer owns the inputs; sessions only read the queue. A failed session therefore never
  cancels the user's generator half-way, and the next session carries on where it stopped.
- When a session fails with `ServiceUnavailable`, the requests it left unanswered are re-sent on
  a new session after a jittered backoff, until one of them has been sent `max_attempts` times.
- `timeout` bounds the wait for the oldest unanswered request.
- `results_in_order` holds early answers until the ones before them arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from flowql._exceptions import FlowQLError, RequestTimeout, ServiceUnavailable, TransportError
from flowql.client.batching import OutgoingRequest
from flowql.client.response import Response
from flowql.client.retry import RetryPolicy
from flowql.client.transports.base import ClientTransport, ExchangeOptions

__all__ = ["RequestPipeline", "PipelineOptions", "StreamFailed"]


class StreamFailed(Exception):
    """Internal: the transport failed for good. Carries the flowql error and the unanswered requests."""

    def __init__(self, error: FlowQLError, unanswered: list[OutgoingRequest]) -> None:
        super().__init__(error)
        self.error = error
        self.unanswered = unanswered


@dataclass(frozen=True)
class PipelineOptions:
    """The parts of `PostOptions` the pipeline acts on (their defaults live there, once)."""

    prefetch: int  # 0 means no bound
    timeout: float | None = None
    retry: RetryPolicy = RetryPolicy()
    results_in_order: bool = False


class _End:
    """Queue marker: the inputs are exhausted."""


_END = _End()


class RequestPipeline:
    """One `post()`: iterate `responses()` once to drive it."""

    def __init__(
        self,
        transport: ClientTransport,
        requests: AsyncIterator[OutgoingRequest],
        options: PipelineOptions,
        exchange_options: ExchangeOptions,
    ) -> None:
        self._transport = transport
        self._source = requests
        self._options = options
        self._exchange_options = exchange_options
        self._queue: asyncio.Queue[OutgoingRequest | _End] = asyncio.Queue(maxsize=1)
        self._window = asyncio.Semaphore(options.prefetch) if options.prefetch > 0 else None
        # Sent and unanswered, oldest first (dicts keep insertion order).
        self._pending: dict[str, OutgoingRequest] = {}
        self._source_done = False
        self._input_error: BaseException | None = None
        self._deadline: asyncio.Timeout | None = None
        # results_in_order: answers that arrived before their predecessors.
        self._held: dict[int, tuple[OutgoingRequest, Response]] = {}
        self._next_seq = 0

    async def responses(self) -> AsyncGenerator[tuple[OutgoingRequest | None, Response], None]:
        """Each response with the request it answers (None for an answer to no known request)."""
        producer = asyncio.create_task(self._produce())
        try:
            idle_failures = 0
            while True:
                resend = list(self._pending.values())
                try:
                    async with contextlib.aclosing(self._session(resend)) as session:
                        async for answered, response in session:
                            idle_failures = 0
                            for item in self._release(answered, response):
                                yield item
                except ServiceUnavailable as exc:
                    if self._pending:
                        attempt = max(request.attempts for request in self._pending.values())
                    else:  # failed before anything was sent, e.g. connection refused while idle
                        idle_failures += 1
                        attempt = idle_failures
                    if attempt >= self._options.retry.max_attempts:
                        for item in self._flush_held():
                            yield item
                        raise StreamFailed(exc, list(self._pending.values())) from exc
                    await asyncio.sleep(self._options.retry.delay(attempt))
                    continue
                except FlowQLError as exc:
                    for item in self._flush_held():
                        yield item
                    raise StreamFailed(exc, list(self._pending.values())) from exc
                if self._pending or not self._source_done:
                    error = TransportError(
                        f"gateway at {self._transport.address} ended the stream with "
                        f"{len(self._pending)} request(s) unanswered"
                    )
                    raise StreamFailed(error, list(self._pending.values()))
                break
            if self._input_error is not None:
                raise self._input_error
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def _produce(self) -> None:
        window = self._window
        try:
            while True:
                if window is not None:
                    await window.acquire()
                try:
                    request = await anext(self._source)
                except StopAsyncIteration:
                    break
                await self._queue.put(request)
        except Exception as exc:  # a bad input: stop sending, report it once the sent ones are answered
            self._input_error = exc
        await self._queue.put(_END)

    async def _outgoing(self, resend: list[OutgoingRequest]) -> AsyncIterator[OutgoingRequest]:
        for request in resend:
            self._mark_sent(request)
            yield request
        while not self._source_done:
            item = await self._queue.get()
            if isinstance(item, _End):
                self._source_done = True
                return
            self._mark_sent(item)
            yield item

    def _mark_sent(self, request: OutgoingRequest) -> None:
        loop = asyncio.get_running_loop()
        request.attempts += 1
        request.sent_at = loop.time()
        self._pending[request.request_id] = request
        deadline, timeout = self._deadline, self._options.timeout
        if deadline is not None and timeout is not None and deadline.when() is None:
            deadline.reschedule(request.sent_at + timeout)

    async def _session(
        self, resend: list[OutgoingRequest]
    ) -> AsyncGenerator[tuple[OutgoingRequest | None, Response], None]:
        stream = self._transport.exchange(self._outgoing(resend), self._exchange_options)
        timeout = self._options.timeout
        try:
            while True:
                try:
                    if timeout is None:
                        response = await anext(stream)
                    else:
                        oldest = next(iter(self._pending.values()), None)
                        when = oldest.sent_at + timeout if oldest is not None else None
                        async with asyncio.timeout(when) as self._deadline:
                            response = await anext(stream)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    waited = next(iter(self._pending.values()), None)
                    which = f" for request {waited.request_id}" if waited is not None else ""
                    raise RequestTimeout(
                        f"gateway at {self._transport.address} did not answer within {timeout}s{which}"
                    ) from exc
                finally:
                    self._deadline = None
                yield self._pending.pop(response.request_id, None), response
        finally:
            await stream.aclose()

    def _release(
        self, request: OutgoingRequest | None, response: Response
    ) -> list[tuple[OutgoingRequest | None, Response]]:
        if request is None:
            return [(None, response)]
        if not self._options.results_in_order:
            self._give_back_slot()
            return [(request, response)]
        self._held[request.seq] = (request, response)
        ready: list[tuple[OutgoingRequest | None, Response]] = []
        while self._next_seq in self._held:
            ready.append(self._held.pop(self._next_seq))
            self._next_seq += 1
            # Slots come back only as answers leave in order, so held answers count against prefetch.
            self._give_back_slot()
        return ready

    def _flush_held(self) -> list[tuple[OutgoingRequest | None, Response]]:
        held = [self._held[seq] for seq in sorted(self._held)]
        self._held.clear()
        return list(held)

    def _give_back_slot(self) -> None:
        if self._window is not None:
            self._window.release()
