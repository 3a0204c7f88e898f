"""`ExecutorTransport`: how the gateway talks to one shard of one executor.

Modelled on httpx's transports: a small base with `send` (one request, one response) and `stream`
(one request, many responses), implemented over gRPC (`GrpcTransport`) and in-process
(`InProcessTransport`, for unit tests). A transport raises flowql errors (`ServiceUnavailable`,
`RequestTimeout`, ...) whose message names the executor and the address; it never returns None.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence

from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo

__all__ = ["ExecutorTransport", "TransportFactory"]


class ExecutorTransport(abc.ABC):
    """Sends DataRequests to the replicas of one executor shard."""

    executor: str
    """Name of the executor this transport reaches."""

    @property
    @abc.abstractmethod
    def addresses(self) -> Sequence[str]:
        """The replicas' addresses ("host:port"), in replica order."""

    @abc.abstractmethod
    async def send(self, request: DataRequest) -> DataRequest:
        """Process `request` on one replica and return its response."""

    @abc.abstractmethod
    def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        """Process `request` with a streaming endpoint; yield each response as it arrives."""

    @abc.abstractmethod
    async def endpoints(self) -> EndpointsInfo:
        """The executor's declared endpoints (asked of one replica)."""

    @abc.abstractmethod
    async def health(self) -> dict[str, bool]:
        """Replica address -> whether its grpc.health.v1 check says SERVING."""

    async def aclose(self) -> None:  # noqa: B027 - a transport without resources need not override it
        """Release connections; the transport is not used afterwards."""


TransportFactory = Callable[[str, int, Sequence[str]], ExecutorTransport]
"""Builds the transport for (executor name, shard index, replica addresses of that shard)."""
