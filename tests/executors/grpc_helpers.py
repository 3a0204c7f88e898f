"""Small gRPC helpers shared by the executor tests: one channel per call, everything on the test's loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from docarray import BaseDoc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flowql.codec import encode_docs
from flowql.proto.flowql_pb2 import DataRequest, EndpointsInfo, EndpointsRequest
from flowql.proto.flowql_pb2_grpc import ExecutorServiceStub
from flowql.request import new_request

RPC_TIMEOUT_S = 30.0


def stub(channel: grpc.aio.Channel) -> Any:
    """An ExecutorService stub (the generated grpc module has no type stubs)."""
    return ExecutorServiceStub(channel)  # type: ignore[no-untyped-call]


def request_for(
    endpoint: str,
    docs: Sequence[BaseDoc] = (),
    parameters: dict[str, Any] | None = None,
    branches: Mapping[str, Sequence[BaseDoc]] | None = None,
) -> DataRequest:
    request = new_request(endpoint, docs=encode_docs(list(docs)), parameters=parameters)
    for executor, branch_docs in (branches or {}).items():
        request.branches.add(executor=executor, docs=encode_docs(list(branch_docs)))
    return request


async def process(address: str, request: DataRequest) -> DataRequest:
    async with grpc.aio.insecure_channel(address) as channel:
        response: DataRequest = await stub(channel).Process(request, timeout=RPC_TIMEOUT_S)
        return response


async def endpoints(address: str) -> EndpointsInfo:
    async with grpc.aio.insecure_channel(address) as channel:
        info: EndpointsInfo = await stub(channel).Endpoints(EndpointsRequest(), timeout=RPC_TIMEOUT_S)
        return info


async def health_status(address: str, service: str = "") -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT_S)
        return int(response.status)
