from __future__ import annotations

import pytest

from flowql import ExecutorError
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import error_of, get_parameters, new_request, raise_for_status, set_error


def test_parameters_keep_their_json_types_across_the_wire() -> None:
    params = {"top_k": 3, "ratio": 0.5, "flag": True, "name": "x", "nested": {"ids": [1, 2]}, "none": None}
    request = new_request("/search", parameters=params)
    received = DataRequest.FromString(request.SerializeToString())
    assert get_parameters(received) == params
    assert isinstance(get_parameters(received)["top_k"], int)


def test_new_request_fills_the_header() -> None:
    request = new_request("/index", target_executor="enc.*", timeout=2.5, docs=b"abc")
    assert request.header.exec_endpoint == "/index"
    assert request.header.target_executor == "enc.*"
    assert request.header.timeout == 2.5
    assert len(request.header.request_id) == 32
    assert request.docs == b"abc"


def test_error_status_carries_executor_exception_and_traceback() -> None:
    request = new_request("/x")
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError as exc:
        set_error(request, "encoder", exc)
    received = DataRequest.FromString(request.SerializeToString())
    error = error_of(received)
    assert error is not None
    assert (error.executor, error.exception_type, error.message) == ("encoder", "ZeroDivisionError", "boom")
    assert "ZeroDivisionError" in error.traceback
    with pytest.raises(ExecutorError, match="encoder"):
        raise_for_status(received)


def test_successful_request_has_no_error() -> None:
    request = new_request("/x")
    assert error_of(request) is None
    assert raise_for_status(request) is request
