"""`ExecutorServicer`: the gRPC face of a `RequestProcessor` (flowql.ExecutorService)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from flowql.executors.processing import RequestProcessor
from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest
from flowql.proto.flowql_pb2_grpc import ExecutorServiceServicer

__all__ = ["ExecutorServicer"]


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
        async for response in self._processor.stream(request):
            yield response

    async def Endpoints(
        self, request: EndpointsRequest, context: grpc.aio.ServicerContext[EndpointsRequest, EndpointsInfo]
    ) -> EndpointsInfo:
        return self._processor.endpoints_info()
