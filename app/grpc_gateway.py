"""The gateway's gRPC face: `GatewayServicer` (flowql.GatewayService) and the server that hosts it.

`Call` is the clients' main road: a bidirectional stream where each response goes back as soon as
its request is done (not in request order; each carries its request_id), with at most `prefetch`
requests of the stream in flight. The same server carries grpc.health.v1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from flowql.proto import flowql_pb2_grpc
from flowql.proto.flowql_pb2 import (
    DataRequest,
    DryRunRequest,
    DryRunResponse,
    EndpointsInfo,
    EndpointsRequest,
    Status,
)
from flowql.topology import GATEWAY

from .discovery import to_endpoints_info
from .rpc_errors import error_response
from .settings import GatewaySettings
from .streamer import GatewayStreamer

__all__ = ["GatewayServicer", "GatewayGrpcServer", "start_grpc_server", "SERVER_OPTIONS"]

SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # Without this a second process could bind the same explicit port and silently share it.
    ("grpc.so_reuseport", 0),
]

_DONE = object()


class GatewayServicer(flowql_pb2_grpc.GatewayServiceServicer):
    """flowql.GatewayService over a `GatewayStreamer`."""

    def __init__(self, streamer: GatewayStreamer, *, prefetch: int, name: str = GATEWAY) -> None:
        self._streamer = streamer
        self._prefetch = prefetch
        self._name = name

    async def Call(
        self, request_iterator: AsyncIterator[DataRequest], context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> AsyncIterator[DataRequest]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        slots = asyncio.Semaphore(self._prefetch) if self._prefetch > 0 else None
        handlers: set[asyncio.Task[None]] = set()

        async def handle(request: DataRequest) -> None:
            queue.put_nowait(await self._process(request))

        async def read_requests() -> None:
            try:
                async for request in request_iterator:
                    if slots is not None:
                        # Hold reading until a response has gone out: the bound covers the
                        # requests being routed and the responses not yet written.
                        await slots.acquire()
                    task = asyncio.create_task(handle(request))
                    handlers.add(task)
                    task.add_done_callback(handlers.discard)
                if handlers:
                    await asyncio.wait(set(handlers))
            finally:
                queue.put_nowait(_DONE)

        reader = asyncio.create_task(read_requests())
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                yield item
                if slots is not None:
                    slots.release()
            await reader
        finally:
            # The client went away (or the server stops): drop what is still in flight.
            reader.cancel()
            for task in list(handlers):
                task.cancel()

    async def Process(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> DataRequest:
        return await self._process(request)

    async def ProcessStream(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> AsyncIterator[DataRequest]:
        async for response in self._streamer.stream(request):
            yield response

    async def Endpoints(
        self, request: EndpointsRequest, context: grpc.aio.ServicerContext[EndpointsRequest, EndpointsInfo]
    ) -> EndpointsInfo:
        specs = await self._streamer.endpoints()
        return to_endpoints_info(self._name, specs, has_default=self._streamer.has_default_endpoint())

    async def DryRun(
        self, request: DryRunRequest, context: grpc.aio.ServicerContext[DryRunRequest, DryRunResponse]
    ) -> DryRunResponse:
        reachable = await self._streamer.dry_run()
        down = [name for name, ok in reachable.items() if not ok]
        if not down:
            return DryRunResponse(status=Status(code=Status.SUCCESS))
        return DryRunResponse(status=Status(code=Status.ERROR, description=f"unreachable executor(s): {down}"))

    async def _process(self, request: DataRequest) -> DataRequest:
        try:
            return await self._streamer.process(request)
        except Exception as exc:  # process() answers errors in the status; this is the last guard
            return error_response(request, GATEWAY, exc)


@dataclass
class GatewayGrpcServer:
    """A started grpc.aio server with the gateway and health services, and the port it bound."""

    server: grpc.aio.Server
    # grpc-stubs describes only the sync health module; `health.aio` is grpcio-health-checking's asyncio one.
    health: Any
    port: int

    async def stop(self, grace: float | None) -> None:
        """Report NOT_SERVING, refuse new calls, let running ones finish within `grace` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_grpc_server(streamer: GatewayStreamer, settings: GatewaySettings, port: int) -> GatewayGrpcServer:
    """Bind `settings.host:port` (0 picks a free port), serve, and return the running server."""
    server = grpc.aio.server(options=SERVER_OPTIONS)
    flowql_pb2_grpc.add_GatewayServiceServicer_to_server(  # type: ignore[no-untyped-call]
        GatewayServicer(streamer, prefetch=settings.prefetch, name=settings.name), server
    )
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{settings.host}:{port}"
    if settings.ssl_certfile and settings.ssl_keyfile:
        key, cert = await asyncio.to_thread(_read_key_pair, settings.ssl_keyfile, settings.ssl_certfile)
        credentials = grpc.ssl_server_credentials([(key, cert)])
        bound = server.add_secure_port(address, credentials)
    else:
        bound = server.add_insecure_port(address)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return GatewayGrpcServer(server=server, health=health_servicer, port=bound)


def _read_key_pair(keyfile: str, certfile: str) -> tuple[bytes, bytes]:
    return Path(keyfile).read_bytes(), Path(certfile).read_bytes()
