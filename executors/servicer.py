"""`ExecutorServicer`: the gRPC face of a `RequestProcessor` (flowql.ExecutorService)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from flowql.executors.processing import RequestProcessor
from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest
from flowql.proto.flowql_pb2_grpc import ExecutorServiceServicer

__all__ = ["ExecutorServicer", "STREAM_BATCHED_METADATA"]

# Sent by a ProcessStream caller that splits multi-document responses back into documents (the
# gateway): the executor may then pack what a generator yielded during one write into one message.
STREAM_BATCHED_METADATA = ("flowql-stream-batched", "1")


class ExecutorServicer(ExecutorServiceServicer):
    """Process (unary), ProcessStream (server streaming) and Endpoints over one processor.

    Handler errors travel in the response's status, so every RPC completes with OK.
    """

    def __init__(self, processor: RequestProcessor) -> None:
        self._processor = processor

    async def Process(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> DataRequest:
        return await self._processor.process(request)

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
