"""Every error flowql raises on purpose.

FlowQLError
 ├── ConfigurationError        a Flow, Executor or YAML description that cannot work
 ├── ExecutorLoadError         a `uses` that cannot be imported or constructed
 ├── RuntimeFailedToStart      a process of a Flow died or timed out while starting
 ├── BadRequestError           a request the service refuses (unknown endpoint, bad documents)
 ├── ExecutorError             an executor raised while handling a request
 ├── TransportError            the caller could not talk to the service
 │    ├── ServiceUnavailable   nothing answers at the address, or it went away mid-request
 │    └── RequestTimeout       no answer within the timeout
 └── GraphQLResponseError      a GraphQL response carried errors (partial data kept)

gRPC status codes and GraphQL errors are mapped onto this tree in one place per side:
`flowql.app.rpc_errors` in the gateway, `flowql.client.errors` in the client, and
`flowql.app.graphql_errors` for the GraphQL errors the gateway returns.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FlowQLError",
    "ConfigurationError",
    "ExecutorLoadError",
    "RuntimeFailedToStart",
    "BadRequestError",
    "ExecutorError",
    "TransportError",
    "ServiceUnavailable",
    "RequestTimeout",
    "GraphQLResponseError",
]


class FlowQLError(Exception):
    """Root of every flowql error."""


class ConfigurationError(FlowQLError, ValueError):
    """A Flow, Executor or YAML description that cannot work; the message names the fix."""


class ExecutorLoadError(FlowQLError):
    """A `uses` that cannot be imported or constructed."""


class RuntimeFailedToStart(FlowQLError):
    """A process of a Flow (an executor replica or the gateway) failed to start."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.name} failed to start: {self.reason}"


class BadRequestError(FlowQLError):
    """A request the service refuses: unknown endpoint, malformed documents, wrong types."""


class ExecutorError(FlowQLError):
    """An executor raised while handling a request."""

    def __init__(
        self,
        executor: str,
        exception_type: str,
        message: str,
        traceback: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(executor, exception_type, message)
        self.executor = executor
        self.exception_type = exception_type
        self.message = message
        self.traceback = traceback
        self.request_id = request_id

    def __str__(self) -> str:
        return f"executor {self.executor!r} raised {self.exception_type}: {self.message}"


class TransportError(FlowQLError):
    """The caller could not talk to the service."""


class ServiceUnavailable(TransportError):
    """Nothing answers at the address, or the peer went away mid-request."""


class RequestTimeout(TransportError):
    """No answer within the timeout."""


class GraphQLResponseError(FlowQLError):
    """A GraphQL response carried errors; `data` keeps whatever partial result came with them."""

    def __init__(self, errors: list[dict[str, Any]], data: dict[str, Any] | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.data = data

    def __str__(self) -> str:
        messages = "; ".join(str(error.get("message", error)) for error in self.errors)
        return f"GraphQL errors: {messages}"
