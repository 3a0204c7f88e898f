"""GraphQL errors of the gateway: executor failures, bad input, and masked unexpected exceptions.

This is the one place where flowql errors become GraphQL errors. Every error the caller sees has
`extensions.code`:

- `EXECUTOR_ERROR`: an executor raised; extensions carry `executor`, `exceptionType`, `message`,
  `documentIds` (the input documents of the failed batch) and `requestId`. The documents of the
  batches that succeeded are still in `data` (partial results: nothing is dropped silently).
- `EXECUTOR_UNAVAILABLE` / `EXECUTOR_TIMEOUT` / `TRANSPORT_ERROR`: a streaming call lost its
  executor midway (the message names it and its address); `documentIds` as above.
- `BAD_USER_INPUT`: the input does not fit (wrong tensor size, unknown endpoint, bad JSON...).
- `INTERNAL_SERVER_ERROR`: anything unexpected inside the gateway. Its message and traceback are
  not shown; it is logged with the `requestId` that the error carries, to find it in the logs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext

from flowql._exceptions import ExecutorError, RequestTimeout, ServiceUnavailable, TransportError
from flowql.documents import new_id

__all__ = ["ErrorSink", "executor_error", "transport_error", "bad_input", "is_unexpected", "masked", "log_nothing"]

logger = logging.getLogger("flowql.gateway")


def executor_error(error: ExecutorError, document_ids: Sequence[str]) -> GraphQLError:
    """The GraphQL error for a batch that an executor failed."""
    return GraphQLError(
        str(error),
        extensions={
            "code": "EXECUTOR_ERROR",
            "executor": error.executor,
            "exceptionType": error.exception_type,
            "message": error.message,
            "documentIds": list(document_ids),
            "requestId": error.request_id,
        },
    )


def transport_error(error: TransportError, document_ids: Sequence[str]) -> GraphQLError:
    """The GraphQL error for a call that lost its executor (unreachable, timed out, went away)."""
    code = {ServiceUnavailable: "EXECUTOR_UNAVAILABLE", RequestTimeout: "EXECUTOR_TIMEOUT"}.get(
        type(error), "TRANSPORT_ERROR"
    )
    return GraphQLError(str(error), extensions={"code": code, "documentIds": list(document_ids)})


def bad_input(message: str, **details: Any) -> GraphQLError:
    """The GraphQL error for input that does not fit; `message` says what was wrong."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", **details})


class ErrorSink:
    """Collects the errors of one operation that must not fail its field (partial results).

    A resolver cannot both return data and raise, so executor errors of some batches are put
    here and `GatewayExtension` appends them to the operation's result. The collection lives in a
    context variable, set per operation, so concurrent operations on one WebSocket never mix.
    """

    def __init__(self) -> None:
        self._errors: ContextVar[list[GraphQLError] | None] = ContextVar("flowql_partial_errors", default=None)

    def add(self, error: GraphQLError) -> None:
        errors = self._errors.get()
        if errors is None:  # outside an operation (direct resolver calls in tests): nowhere to report
            raise error
        errors.append(error)

    def begin(self) -> Any:
        return self._errors.set([])

    def take(self) -> list[GraphQLError]:
        """The errors collected so far in this operation (and forget them)."""
        errors = self._errors.get()
        if not errors:
            return []
        taken = list(errors)
        errors.clear()
        return taken

    def end(self, token: Any) -> list[GraphQLError]:
        errors = self._errors.get() or []
        # A subscription closed from another task ends in another context: nothing to undo there.
        with contextlib.suppress(ValueError):
            self._errors.reset(token)
        return errors


# strawberry's own refusals of an operation ("mutations are not allowed" on the legacy
# graphql-ws protocol, no operation named so): answers to the caller, not gateway failures.
_CALLER_MISTAKES = (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError)

INTERNAL_MESSAGE = "Internal error in the gateway."


def is_unexpected(error: GraphQLError) -> bool:
    """True when `error` comes from an exception the gateway did not raise on purpose."""
    original = error.original_error
    return original is not None and not isinstance(original, (GraphQLError, *_CALLER_MISTAKES))


def masked(error: GraphQLError) -> GraphQLError:
    """Log an unexpected error with a fresh request id; return the error the caller sees instead."""
    request_id = new_id()[:16]
    original = error.original_error
    logger.error(
        "request %s: unexpected %s at %s: %s",
        request_id,
        type(original).__name__,
        ".".join(str(part) for part in error.path or ()),
        original,
        exc_info=(type(original), original, original.__traceback__) if original is not None else None,
    )
    return GraphQLError(
        f"{INTERNAL_MESSAGE} Request id: {request_id}.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def log_nothing(errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """`Schema.process_errors` replacement: expected errors are answers, not log lines.

    Unexpected ones are logged by `masked` (run by `GatewayExtension`) with their request id.
    """
    return None
