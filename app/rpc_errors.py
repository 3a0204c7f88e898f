"""The one place where gRPC status codes become flowql errors, and flowql errors become error statuses.

A transport raises the flowql error (`ServiceUnavailable`, `RequestTimeout`, ...) built here from
the `grpc.aio.AioRpcError`; the streamer turns it into the request's error status with
`error_response`, so the caller reads e.g. "executor 'enc' is unavailable at 127.0.0.1:1234: ...".
The gateway's own servicer never aborts a call: every failure goes back in the response's status.
"""

from __future__ import annotations

import grpc

from flowql._exceptions import (
    BadRequestError,
    FlowQLError,
    RequestTimeout,
    ServiceUnavailable,
    TransportError,
)
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import set_error

__all__ = ["RETRYABLE_CODES", "exception_from_rpc_error", "error_response"]

# Only UNAVAILABLE means "this replica did not get to handle the call": the connection was refused
# or dropped. Anything else came from a replica that saw the request, so another try may repeat work.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})

# What each code means for the caller, worded to follow "executor 'x' ...".
_PHRASES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAVAILABLE: "is unavailable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "did not answer in time",
    grpc.StatusCode.CANCELLED: "cancelled the call",
    grpc.StatusCode.UNIMPLEMENTED: "does not implement the call",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "refused the call (resource exhausted, e.g. a message too large)",
    grpc.StatusCode.INVALID_ARGUMENT: "refused the request as invalid",
    grpc.StatusCode.FAILED_PRECONDITION: "refused the request",
    grpc.StatusCode.UNAUTHENTICATED: "refused the credentials",
    grpc.StatusCode.PERMISSION_DENIED: "denied permission",
    grpc.StatusCode.NOT_FOUND: "does not know the call",
    grpc.StatusCode.INTERNAL: "failed internally",
    grpc.StatusCode.UNKNOWN: "failed with an unknown error",
}

_EXCEPTION_TYPES: dict[grpc.StatusCode, type[FlowQLError]] = {
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailable,
    grpc.StatusCode.CANCELLED: ServiceUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: RequestTimeout,
    grpc.StatusCode.INVALID_ARGUMENT: BadRequestError,
    grpc.StatusCode.FAILED_PRECONDITION: BadRequestError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: BadRequestError,
    grpc.StatusCode.UNIMPLEMENTED: BadRequestError,
}


def exception_from_rpc_error(error: grpc.RpcError, *, executor: str, address: str) -> FlowQLError:
    """The flowql error for a failed call to `executor` at `address`, its message naming both."""
    code = _code_of(error)
    details = _details_of(error)
    phrase = _PHRASES.get(code, f"failed with {code.name}")
    message = f"executor {executor!r} {phrase} at {address}"
    if details:
        message = f"{message}: {details}"
    return _EXCEPTION_TYPES.get(code, TransportError)(message)


def error_response(request: DataRequest, executor: str, exc: BaseException) -> DataRequest:
    """A copy of `request` whose status says that `executor` failed with `exc` (the input is left alone)."""
    response = DataRequest()
    response.CopyFrom(request)
    # A branch that never reached its executor must not look like it carries that executor's input.
    del response.branches[:]
    set_error(response, executor, exc, description=str(exc))
    return response


def _code_of(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    value = code() if callable(code) else None
    return value if isinstance(value, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _details_of(error: grpc.RpcError) -> str:
    details = getattr(error, "details", None)
    value = details() if callable(details) else None
    return str(value) if value else ""
