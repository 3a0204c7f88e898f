"""gRPC status codes -> flowql errors and error statuses, in one place (`flowql.app.rpc_errors`)."""

from __future__ import annotations

import grpc
import pytest

from flowql._exceptions import BadRequestError, RequestTimeout, ServiceUnavailable, TransportError
from flowql.app.rpc_errors import error_response, exception_from_rpc_error
from flowql.proto.flowql_pb2 import Status
from flowql.request import error_of, new_request


def rpc_error(code: grpc.StatusCode, details: str = "details here") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details, debug_error_string="")


@pytest.mark.parametrize(
    ("code", "error_type", "phrase"),
    [
        (grpc.StatusCode.UNAVAILABLE, ServiceUnavailable, "is unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, RequestTimeout, "did not answer in time"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, BadRequestError, "resource exhausted"),
        (grpc.StatusCode.UNIMPLEMENTED, BadRequestError, "does not implement"),
        (grpc.StatusCode.INTERNAL, TransportError, "failed internally"),
        (grpc.StatusCode.DATA_LOSS, TransportError, "failed with DATA_LOSS"),
    ],
)
def test_each_code_maps_to_an_error_naming_executor_and_address(
    code: grpc.StatusCode, error_type: type[Exception], phrase: str
) -> None:
    error = exception_from_rpc_error(rpc_error(code), executor="enc", address="127.0.0.1:1234")
    assert type(error) is error_type
    message = str(error)
    assert message.startswith("executor 'enc' ") and phrase in message
    assert message.endswith(" at 127.0.0.1:1234: details here")


def test_error_response_carries_the_error_and_leaves_the_request_alone() -> None:
    request = new_request("/x", docs=b"\x01")
    request.branches.add(executor="a", docs=b"")
    exc = ServiceUnavailable("executor 'enc' is unavailable at h:1: refused")
    response = error_response(request, "enc", exc)
    assert request.status.code == Status.SUCCESS and len(request.branches) == 1
    assert response.status.code == Status.ERROR and not response.branches
    assert response.docs == b"\x01"
    error = error_of(response)
    assert error is not None
    assert (error.executor, error.exception_type) == ("enc", "ServiceUnavailable")
    assert response.status.description == str(exc)
