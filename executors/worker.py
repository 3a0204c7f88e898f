"""`ExecutorWorker`: one grpc.aio server hosting one Executor instance, with grpc.health.v1.

>>> async with ExecutorWorker(Upper(), name='upper') as worker:
...     channel = grpc.aio.insecure_channel(worker.address)

The worker collects the Executor's `@requests` marks when it starts, reports the bound port (port 0
picks a free one), and on `stop()` refuses new calls, lets in-flight ones finish within the grace
period, then calls the Executor's `close()`.
"""

from __future__ import annotations

import enum
import inspect
from types import TracebackType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from flowql.executors.executor import Executor, ExecutorMetas, RuntimeArgs
from flowql.executors.handlers import HandlerTable
from flowql.executors.processing import RequestProcessor
from flowql.executors.servicer import ExecutorServicer
from flowql.proto import flowql_pb2_grpc

__all__ = ["ExecutorWorker", "SERVICE_NAME"]

SERVICE_NAME = "flowql.ExecutorService"

_SERVER_OPTIONS = [
    # Documents can be large; the gateway bounds request sizes, not this hop.
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # Without this, a second process can bind the same explicit port and silently share it.
    ("grpc.so_reuseport", 0),
]


class WorkerState(enum.Enum):
    NEW = "new"
    SERVING = "serving"
    STOPPED = "stopped"


class ExecutorWorker:
    """Serves `executor` over gRPC (Process, ProcessMany, ProcessStream, Endpoints) plus grpc.health.v1."""

    def __init__(
        self,
        executor: Executor,
        *,
        name: str = "executor",
        host: str = "127.0.0.1",
        port: int = 0,
        shard_id: int = 0,
        shards: int = 1,
        replica_id: int = 0,
        replicas: int = 1,
    ) -> None:
        self.executor = executor
        self.name = name
        self.host = host
        self.port = port
        self._shard_id = shard_id
        self._shards = shards
        self._replica_id = replica_id
        self._replicas = replicas
        self._state = WorkerState.NEW
        self._server: grpc.aio.Server | None = None
        self._health: Any = None
        self._processor: RequestProcessor | None = None
        self._servicer: ExecutorServicer | None = None

    @property
    def address(self) -> str:
        """`host:port` as bound (the real port once started)."""
        return f"{self.host}:{self.port}"

    async def start(self) -> int:
        """Collect the handlers, bind, and start serving; returns the bound port."""
        if self._state is not WorkerState.NEW:
            raise RuntimeError(f"an ExecutorWorker cannot be started twice (it is {self._state.value})")
        if "runtime_args" not in vars(self.executor):
            # Built by hand by a subclass that never called `super().__init__()`.
            self.executor.runtime_args = RuntimeArgs()
        if "metas" not in vars(self.executor):
            self.executor.metas = ExecutorMetas(name=type(self.executor).__name__)
        runtime = self.executor.runtime_args
        runtime.name, runtime.shard_id, runtime.shards = self.name, self._shard_id, self._shards
        runtime.replica_id, runtime.replicas, runtime.host = self._replica_id, self._replicas, self.host
        processor = RequestProcessor(
            HandlerTable.collect(self.executor),
            name=self.name,
            shard_id=self._shard_id,
            shards=self._shards,
            replica_id=self._replica_id,
        )
        server = grpc.aio.server(options=_SERVER_OPTIONS)
        servicer = ExecutorServicer(processor)
        flowql_pb2_grpc.add_ExecutorServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
        # grpc-stubs describes only the sync health module; `health.aio` is grpcio-health-checking's asyncio one.
        health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        self.port = server.add_insecure_port(f"{self.host}:{self.port}")
        runtime.port = self.port
        processor.address = self.address
        await server.start()
        for service in ("", SERVICE_NAME):
            await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        self._server, self._health, self._processor = server, health_servicer, processor
        self._servicer = servicer
        self._state = WorkerState.SERVING
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, refuse new calls, give in-flight ones `grace` seconds, then `close()`."""
        if self._state is not WorkerState.SERVING:
            self._state = WorkerState.STOPPED
            return
        self._state = WorkerState.STOPPED
        assert self._server is not None and self._health is not None and self._processor is not None
        await self._health.enter_graceful_shutdown()
        if self._servicer is not None:
            # The gateway's ProcessMany streams stay open while it lives: end them, or the grace
            # period would always run out waiting for them.
            self._servicer.close_streams()
        try:
            await self._server.stop(grace)
        finally:
            self._processor.close()
            outcome = self.executor.close()
            if inspect.isawaitable(outcome):
                await outcome

    async def wait_for_termination(self) -> None:
        """Block until the server stops (by `stop()` from another task)."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def __aenter__(self) -> ExecutorWorker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
