"""The one place where the client's transport failures become flowql errors.

Every message names the gateway's address, so "gateway at 127.0.0.1:5000 is unavailable: ..."
tells the caller where to look. Only `ServiceUnavailable` is retried (the gateway did not get the
request, or lost the connection); anything else came from a gateway that saw the request.
"""

from __future__ import annotations

import grpc
import httpx

from flowql._exceptions import BadRequestError, FlowQLError, RequestTimeout, ServiceUnavailable, TransportError

__all__ = ["error_from_grpc", "error_from_httpx", "error_from_http_status", "error_from_websocket"]

_GRPC_ERRORS: dict[grpc.StatusCode, tuple[type[FlowQLError], str]] = {
    grpc.StatusCode.UNAVAILABLE: (ServiceUnavailable, "is unavailable"),
    grpc.StatusCode.CANCELLED: (ServiceUnavailable, "cancelled the call"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (RequestTimeout, "did not answer in time"),
    grpc.StatusCode.INVALID_ARGUMENT: (BadRequestError, "refused the request as invalid"),
    grpc.StatusCode.FAILED_PRECONDITION: (BadRequestError, "refused the request"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (BadRequestError, "refused the request (resource exhausted)"),
    grpc.StatusCode.UNIMPLEMENTED: (BadRequestError, "does not implement the call"),
    grpc.StatusCode.NOT_FOUND: (BadRequestError, "does not know the call"),
    grpc.StatusCode.UNAUTHENTICATED: (TransportError, "refused the credentials"),
    grpc.StatusCode.PERMISSION_DENIED: (TransportError, "denied permission"),
}


_SEND_FAILED = "Internal error from Core"


def error_from_grpc(error: grpc.RpcError, address: str) -> FlowQLError:
    """The flowql error for a failed gRPC call to the gateway at `address`."""
    code_of = getattr(error, "code", None)
    code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
    details_of = getattr(error, "details", None)
    details = details_of() if callable(details_of) else ""
    if code == grpc.StatusCode.INTERNAL and details == _SEND_FAILED:
        # grpc.aio reports a stream the server ended while we were still writing as this INTERNAL
        # error (a failed send), hiding the server's status; the stream is gone, so retry it.
        return ServiceUnavailable(f"gateway at {address} ended the stream while requests were being sent")
    error_type, phrase = _GRPC_ERRORS.get(code, (TransportError, f"failed with {getattr(code, 'name', code)}"))
    message = f"gateway at {address} {phrase}"
    return error_type(f"{message}: {details}" if details else message)


def error_from_httpx(error: httpx.HTTPError, address: str) -> FlowQLError:
    """The flowql error for an HTTP request to `address` that got no response."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException) and not isinstance(error, httpx.ConnectTimeout):
        return RequestTimeout(f"gateway at {address} did not answer in time: {detail}")
    if isinstance(error, httpx.TransportError):
        return ServiceUnavailable(f"gateway at {address} is unavailable: {detail}")
    return TransportError(f"HTTP request to the gateway at {address} failed: {detail}")


def error_from_http_status(status_code: int, body: str, address: str) -> FlowQLError:
    """The flowql error for an HTTP error response that carries no DataRequest."""
    message = f"gateway at {address} answered HTTP {status_code}"
    if body:
        message = f"{message}: {body[:500]}"
    if status_code in (502, 503):
        return ServiceUnavailable(message)
    if status_code == 504:
        return RequestTimeout(message)
    if 400 <= status_code < 500:
        return BadRequestError(message)
    return TransportError(message)


def error_from_websocket(error: BaseException, address: str) -> FlowQLError:
    """The flowql error for a WebSocket that could not open or closed before all answers came."""
    detail = str(error) or type(error).__name__
    # Close codes that say the gateway refused what we sent (1003 unsupported data, 1007 invalid
    # payload, 1008 policy violation, 1009 message too big) are not worth retrying; any other close
    # (1011 internal error, 1013 try again later, an abnormal drop) means the gateway went away.
    reason = getattr(getattr(error, "rcvd", None), "code", None)
    if reason in (1003, 1007, 1008, 1009):
        return BadRequestError(f"gateway at {address} refused the WebSocket stream: {detail}")
    return ServiceUnavailable(f"gateway at {address} is unavailable: {detail}")
