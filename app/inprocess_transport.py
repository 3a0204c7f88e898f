"""`InProcessTransport`: an executor shard that is a Python callable in this process (for tests).

>>> async def upper(request: DataRequest) -> DataRequest: ...
>>> transport = InProcessTransport("upper", upper)
>>> transport = await InProcessTransport.from_servicer("upper", ExecutorServicer(processor))

The callable gets a copy of the request, as a real hop would deliver one, so a handler that
mutates its input cannot change what other branches see. A handler may raise a flowql
`TransportError` to play an unreachable executor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest

from .transport import ExecutorTransport

__all__ = ["InProcessTransport", "ProcessFunction", "StreamFunction", "ExecutorServicerLike"]

ProcessFunction = Callable[[DataRequest], Awaitable[DataRequest]]
StreamFunction = Callable[[DataRequest], AsyncIterator[DataRequest]]


class ExecutorServicerLike(Protocol):
    """An ExecutorService servicer (e.g. the worker's), whose methods ignore their gRPC context."""

    async def Process(self, request: DataRequest, context: Any) -> DataRequest: ...

    def ProcessStream(self, request: DataRequest, context: Any) -> AsyncIterator[DataRequest]: ...

    async def Endpoints(self, request: EndpointsRequest, context: Any) -> EndpointsInfo: ...


class InProcessTransport(ExecutorTransport):
    """Calls `process` (and `stream_function` for streaming endpoints) directly."""

    def __init__(
        self,
        executor: str,
        process: ProcessFunction,
        *,
        stream_function: StreamFunction | None = None,
        endpoints_info: EndpointsInfo | None = None,
        address: str = "in-process",
        healthy: bool = True,
    ) -> None:
        self.executor = executor
        self._process = process
        self._stream = stream_function
        self._endpoints = endpoints_info if endpoints_info is not None else EndpointsInfo(executor=executor)
        self._address = address
        self.healthy = healthy
        self.calls = 0

    @classmethod
    async def from_servicer(cls, executor: str, servicer: ExecutorServicerLike) -> InProcessTransport:
        """A transport calling an ExecutorService servicer's methods directly (context None)."""

        async def process(request: DataRequest) -> DataRequest:
            return await servicer.Process(request, None)

        def stream(request: DataRequest) -> AsyncIterator[DataRequest]:
            return servicer.ProcessStream(request, None)

        info = await servicer.Endpoints(EndpointsRequest(), None)
        return cls(executor, process, stream_function=stream, endpoints_info=info)

    @property
    def addresses(self) -> Sequence[str]:
        return [self._address]

    async def send(self, request: DataRequest) -> DataRequest:
        self.calls += 1
        return await self._process(_copy(request))

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        self.calls += 1
        if self._stream is None:
            yield await self._process(_copy(request))
            return
        async for response in self._stream(_copy(request)):
            yield response

    async def endpoints(self) -> EndpointsInfo:
        return self._endpoints

    async def health(self) -> dict[str, bool]:
        return {self._address: self.healthy}


def _copy(request: DataRequest) -> DataRequest:
    clone = DataRequest()
    clone.CopyFrom(request)
    return clone
