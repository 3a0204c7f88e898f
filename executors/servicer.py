"""`ExecutorServicer`: the gRPC face of a `RequestProcessor` (flowql.ExecutorService)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from flowql.executors.processing import RequestProcessor
from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest
from flowql.proto.flowql_pb2_grpc import ExecutorServiceServicer
from flowql.request import set_error

__all__ = ["ExecutorServicer", "STREAM_BATCHED_METADATA"]

# Sent by a ProcessStream caller that splits multi-document responses back into documents (the
# gateway): the executor may then pack what a generator yielded during one write into one message.
STREAM_BATCHED_METADATA = ("flowql-stream-batched", "1")


class ExecutorServicer(ExecutorServiceServicer):
    """Process (unary), ProcessMany (bidi, answers matched by request_id), ProcessStream (server
    streaming) and Endpoints over one processor.

    Handler errors travel in the response's status, so every RPC completes with OK.
    """

    def __init__(self, processor: RequestProcessor) -> None:
        self._processor = processor
        self._closing = asyncio.Event()

    def close_streams(self) -> None:
        """Stop reading new requests from ProcessMany streams; each ends once its in-flight requests
        are answered (the gateway re-sends what it wrote after that to another replica)."""
        self._closing.set()

    async def Process(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> DataRequest:
        return await self._processor.process(request)

    async def ProcessMany(
        self,
        request_iterator: AsyncIterator[DataRequest],
        context: grpc.aio.ServicerContext[DataRequest, DataRequest],
    ) -> AsyncIterator[DataRequest]:
        """Each request of the stream processed as `Process` would, concurrently; answers go back
        as they complete (the caller matches them by request_id)."""
        answers: asyncio.Queue[DataRequest | None] = asyncio.Queue()
        handlers: set[asyncio.Task[None]] = set()

        async def handle(request: DataRequest) -> None:
            try:
                response = await self._processor.process(request)
            except Exception as exc:  # process() reports handler errors itself; this is the last guard
                set_error(request, self._processor.name, exc)
                response = request
            answers.put_nowait(response)

        async def read() -> None:
            try:
                async for request in request_iterator:
                    task = asyncio.create_task(handle(request))
                    handlers.add(task)
                    task.add_done_callback(handlers.discard)
            except asyncio.CancelledError:
                if not self._closing.is_set():
                    raise  # the call itself ended
            if handlers:
                await asyncio.wait(set(handlers))
            answers.put_nowait(None)

        reader = asyncio.create_task(read())
        closing = asyncio.create_task(self._closing.wait())
        closing.add_done_callback(lambda done: None if done.cancelled() else reader.cancel())
        try:
            while (answer := await answers.get()) is not None:
                yield answer
            await reader
        finally:
            closing.cancel()
            reader.cancel()
            for task in list(handlers):
                task.cancel()

    async def ProcessStream(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> AsyncIterator[DataRequest]:
        async for response in self._processor.stream(request, batched=_asks_batched(context)):
            yield response

    async def Endpoints(
        self, request: EndpointsRequest, context: grpc.aio.ServicerContext[EndpointsRequest, EndpointsInfo]
    ) -> EndpointsInfo:
        return self._processor.endpoints_info()


def _asks_batched(context: grpc.aio.ServicerContext[DataRequest, DataRequest] | None) -> bool:
    if context is None:  # called in-process (tests, in-process transport): the plain contract
        return False
    key, value = STREAM_BATCHED_METADATA
    return any(item[0] == key and item[1] == value for item in context.invocation_metadata() or ())
