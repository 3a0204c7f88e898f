"""`GrpcTransport`: one executor shard reached over grpc.aio channels, one channel per replica.

Requests go to the replicas round-robin. A replica that answers UNAVAILABLE (refused or dropped
connection) is skipped: the call is retried on the next replica up to `retries` times, with an
exponential backoff between attempts. Replicas whose channel is known to be failing are passed
over while a healthy one exists, so a dead replica costs one failed call, not one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest
from flowql.proto.flowql_pb2_grpc import ExecutorServiceStub

from .grpc_pipe import PipeRefused, ReplicaPipe
from .rpc_errors import RETRYABLE_CODES, exception_from_rpc_error
from .stream_split import STREAM_BATCHED_METADATA, split_response
from .transport import ExecutorTransport

__all__ = ["GrpcTransport", "CHANNEL_OPTIONS", "grpc_compression"]

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    # Documents can be large: no 4 MiB cap on either direction.
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # Executors are reached directly; an http_proxy in the environment must not reroute them.
    ("grpc.enable_http_proxy", 0),
]

_STREAM_METADATA = (STREAM_BATCHED_METADATA,)

# Targets that resolve to several addresses (a headless Kubernetes Service: dns:///name:port, or an
# ipv4:/ipv6: list) are one channel over all of them; grpc's default pick_first would send every
# call to the first address, so those channels balance round-robin instead.
_MULTI_ADDRESS_SCHEMES = ("dns:", "ipv4:", "ipv6:")


def channel_options(address: str) -> list[tuple[str, Any]]:
    if address.startswith(_MULTI_ADDRESS_SCHEMES):
        return [*CHANNEL_OPTIONS, ("grpc.lb_policy_name", "round_robin")]
    return CHANNEL_OPTIONS


_COMPRESSIONS = {
    "gzip": grpc.Compression.Gzip,
    "deflate": grpc.Compression.Deflate,
    "none": grpc.Compression.NoCompression,
}

# States in which a call is expected to get through without waiting for a (re)connection.
_USABLE_STATES = frozenset({grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.IDLE})


def grpc_compression(name: str | None) -> grpc.Compression | None:
    """grpc's compression for "Gzip" / "Deflate" / None (case-insensitive)."""
    if not name:
        return None
    try:
        return _COMPRESSIONS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown compression {name!r}; use Gzip, Deflate or none") from None


class GrpcTransport(ExecutorTransport):
    """Round-robin over the replicas of one shard, retrying UNAVAILABLE on another replica."""

    def __init__(
        self,
        executor: str,
        addresses: Sequence[str],
        *,
        retries: int = 3,
        timeout_send_ms: int | None = None,
        compression: str | None = None,
        backoff_s: float = 0.02,
        max_backoff_s: float = 1.0,
    ) -> None:
        if not addresses:
            raise ValueError(f"executor {executor!r} has a shard without any replica address")
        self.executor = executor
        self._addresses = list(addresses)
        self._retries = max(0, retries)
        self._timeout = timeout_send_ms / 1000 if timeout_send_ms else None
        self._compression = grpc_compression(compression)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._channels: list[grpc.aio.Channel] = []
        self._stubs: list[ExecutorServiceStub] = []
        self._pipes: list[ReplicaPipe] = []
        self._next = 0

    @property
    def addresses(self) -> Sequence[str]:
        return self._addresses

    def _open(self) -> None:
        # Channels bind to the running event loop, so they are made on first use, not in __init__.
        self._channels = [
            grpc.aio.insecure_channel(address, options=channel_options(address)) for address in self._addresses
        ]
        self._stubs = [ExecutorServiceStub(channel) for channel in self._channels]  # type: ignore[no-untyped-call]
        self._pipes = [ReplicaPipe(stub) for stub in self._stubs]
        for pipe, address in zip(self._pipes, self._addresses, strict=True):
            # One stream rides one connection: a target that balances over several addresses
            # per call (a headless Service) keeps unary calls.
            pipe.supported = not address.startswith(_MULTI_ADDRESS_SCHEMES)

    def _pick(self) -> int:
        if not self._channels:
            self._open()
        count = len(self._channels)
        index = self._next % count
        self._next += 1
        if count == 1 or self._channels[index].get_state() in _USABLE_STATES:
            return index
        for offset in range(1, count):
            candidate = (index + offset) % count
            if self._channels[candidate].get_state() in _USABLE_STATES:
                return candidate
        return index

    def _call_options(self, request: DataRequest) -> dict[str, Any]:
        timeout = self._timeout
        if request.header.timeout > 0:
            timeout = request.header.timeout if timeout is None else min(timeout, request.header.timeout)
        compression = grpc_compression(request.header.compression) if request.header.compression else None
        return {"timeout": timeout, "compression": compression or self._compression}

    def _delay(self, attempt: int) -> float:
        return float(min(self._backoff_s * 2**attempt, self._max_backoff_s))

    async def send(self, request: DataRequest) -> DataRequest:
        options = self._call_options(request)
        # Calls with their own deadline or compression are unary; the rest share the replica's
        # ProcessMany stream (see grpc_pipe), which costs grpc a fraction of a call per request.
        pipelined = options["timeout"] is None and options["compression"] is None
        attempt = 0
        while True:
            index = self._pick()
            try:
                if pipelined and self._pipes[index].supported:
                    try:
                        return await self._pipes[index].send(request)
                    except PipeRefused:
                        pass
                response: DataRequest = await self._stubs[index].Process(request, **options)
                return response
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE_CODES or attempt >= self._retries:
                    raise exception_from_rpc_error(
                        error, executor=self.executor, address=self._addresses[index]
                    ) from error
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        options = self._call_options(request)
        attempt = 0
        while True:
            index = self._pick()
            received = False
            try:
                # Batched: the executor packs documents its generator yields faster than they can be
                # written one per message; they are split back here, one response per document.
                call = self._stubs[index].ProcessStream(request, metadata=_STREAM_METADATA, **options)
                async for response in call:
                    received = True
                    for item in split_response(response):
                        yield item
                return
            except grpc.aio.AioRpcError as error:
                # Once a response went out, a retry would repeat documents: only a call that never
                # produced anything is tried again.
                if received or error.code() not in RETRYABLE_CODES or attempt >= self._retries:
                    raise exception_from_rpc_error(
                        error, executor=self.executor, address=self._addresses[index]
                    ) from error
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    async def endpoints(self) -> EndpointsInfo:
        if not self._channels:
            self._open()
        error: grpc.aio.AioRpcError | None = None
        for index, stub in enumerate(self._stubs):
            try:
                info: EndpointsInfo = await stub.Endpoints(EndpointsRequest(), timeout=self._timeout or 5.0)
                return info
            except grpc.aio.AioRpcError as exc:
                error, failed = exc, index
        assert error is not None
        raise exception_from_rpc_error(error, executor=self.executor, address=self._addresses[failed]) from error

    async def health(self) -> dict[str, bool]:
        if not self._channels:
            self._open()
        checks = [self._check(channel) for channel in self._channels]
        return dict(zip(self._addresses, await asyncio.gather(*checks), strict=True))

    async def _check(self, channel: grpc.aio.Channel) -> bool:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def aclose(self) -> None:
        pipes, self._pipes = self._pipes, []
        await asyncio.gather(*(pipe.aclose() for pipe in pipes), return_exceptions=True)
        channels, self._channels, self._stubs = self._channels, [], []
        await asyncio.gather(*(channel.close(None) for channel in channels), return_exceptions=True)
