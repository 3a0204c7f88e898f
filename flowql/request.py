"""Building and reading `DataRequest` messages: header, JSON parameters, routes and error status."""

from __future__ import annotations

import json
import time
import traceback as traceback_module
from typing import Any

from flowql._exceptions import ExecutorError
from flowql.documents import new_id
from flowql.proto.flowql_pb2 import DataRequest, ErrorDetail, Route, Status

__all__ = [
    "DataRequest",
    "new_request",
    "get_parameters",
    "set_parameters",
    "add_route",
    "set_error",
    "error_of",
    "raise_for_status",
    "RESULTS_KEY",
]

RESULTS_KEY = "__results__"
"""Parameters key under which executors' dict return values are collected, per executor name."""


def new_request(
    endpoint: str,
    *,
    docs: bytes = b"",
    parameters: dict[str, Any] | None = None,
    target_executor: str = "",
    timeout: float = 0.0,
    request_id: str | None = None,
    compression: str = "",
) -> DataRequest:
    """A DataRequest for `endpoint` carrying already-encoded documents."""
    request = DataRequest(docs=docs)
    header = request.header
    header.request_id = request_id or new_id()
    header.exec_endpoint = endpoint
    header.target_executor = target_executor
    header.timeout = timeout
    header.compression = compression
    if parameters:
        request.parameters = json.dumps(parameters).encode()
    return request


def get_parameters(request: DataRequest) -> dict[str, Any]:
    """The request's parameters as a dict (ints stay ints)."""
    if not request.parameters:
        return {}
    value = json.loads(request.parameters)
    if not isinstance(value, dict):
        raise ValueError("DataRequest.parameters must hold a JSON object")
    return value


def set_parameters(request: DataRequest, parameters: dict[str, Any]) -> None:
    request.parameters = json.dumps(parameters).encode() if parameters else b""


def add_route(
    request: DataRequest,
    executor: str,
    start_time_ns: int,
    end_time_ns: int | None = None,
    *,
    shard: int = 0,
    replica: int = 0,
    address: str = "",
) -> Route:
    route: Route = request.routes.add()
    route.executor = executor
    route.start_time_ns = start_time_ns
    route.end_time_ns = end_time_ns if end_time_ns is not None else time.time_ns()
    route.shard = shard
    route.replica = replica
    route.address = address
    return route


def set_error(request: DataRequest, executor: str, exc: BaseException, description: str = "") -> None:
    """Mark the request failed at `executor` with the details of `exc`."""
    request.status.code = Status.ERROR
    request.status.description = description or f"{type(exc).__name__}: {exc}"
    detail: ErrorDetail = request.status.exception
    detail.executor = executor
    detail.exception_type = type(exc).__name__
    detail.message = str(exc)
    detail.traceback = "".join(traceback_module.format_exception(exc))


def error_of(request: DataRequest) -> ExecutorError | None:
    """The error the request carries, as an ExecutorError; None when it succeeded."""
    if request.status.code != Status.ERROR:
        return None
    detail = request.status.exception
    return ExecutorError(
        executor=detail.executor or "gateway",
        exception_type=detail.exception_type or "Error",
        message=detail.message or request.status.description,
        traceback=detail.traceback,
        request_id=request.header.request_id,
    )


def raise_for_status(request: DataRequest) -> DataRequest:
    error = error_of(request)
    if error is not None:
        raise error
    return request
