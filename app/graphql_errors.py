"""GraphQL errors of the gateway: executor failures, bad input, and masked unexpected exceptions.

This is the one place where flowql errors become GraphQL errors. Every error the caller sees has
`extensions.code`:

- `EXECUTOR_ERROR`: an executor raised; extensions carry `executor`, `exceptionType`, `message`,
  `documentIds` (the input documents of the failed batch) and `requestId`. The documents of the
  batches that succeeded are still in `data` (partial results: nothing is dropped silently).
- `BAD_USER_INPUT`: the input does not fit (wrong tensor size, unknown endpoint, bad JSON...).
- `INTERNAL_SERVER_ERROR`: anything unexpected inside the gateway. Its message and traceback are
  not shown; it is logged with the `requestId` that the error carries, to find it in the logs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext

from flowql._exceptions import ExecutorError
from flowql.documents import new_id

__all__ = [
    "ErrorSink",
    "PartialErrors",
    "MaskUnexpectedErrors",
    "executor_error",
    "bad_input",
    "log_nothing",
]

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


def bad_input(message: str, **details: Any) -> GraphQLError:
    """The GraphQL error for input that does not fit; `message` says what was wrong."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", **details})


class ErrorSink:
    """Collects the errors of one operation that must not fail its field (partial results).

    A resolver cannot both return data and raise, so executor errors of some batches are put
    here and `PartialErrors` appends them to the operation's result. The collection lives in a
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

    def end(self, token: Any) -> list[GraphQLError]:
        errors = self._errors.get() or []
        # A subscription closed from another task ends in another context: nothing to undo there.
        with contextlib.suppress(ValueError):
            self._errors.reset(token)
        return errors


class PartialErrors(SchemaExtension):
    """Adds the errors collected by an `ErrorSink` to the result of each operation."""

    def __init__(self, sink: ErrorSink) -> None:
        self.sink = sink
        self._pending: list[GraphQLError] = []

    def on_operation(self) -> Iterator[None]:
        token = self.sink.begin()
        try:
            yield
        finally:
            self._pending = self.sink.end(token)
        result = self.execution_context.result
        if self._pending and result is not None and hasattr(result, "errors"):
            result.errors = [*(result.errors or []), *self._pending]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Queries and mutations sent over a WebSocket are delivered as stream results.
        errors = self.sink._errors.get()
        if errors and hasattr(result, "errors"):
            result.errors = [*(result.errors or []), *errors]
            errors.clear()
        yield


# strawberry's own refusals of an operation ("mutations are not allowed" on the legacy
# graphql-ws protocol, no operation named so): answers to the caller, not gateway failures.
_CALLER_MISTAKES = (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError)


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (GraphQLError, *_CALLER_MISTAKES))


class MaskUnexpectedErrors(MaskErrors):
    """Replaces errors raised by unexpected exceptions with a generic one carrying a request id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal error in the gateway.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
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
            f"{self.error_message} Request id: {request_id}.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


def log_nothing(errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """`Schema.process_errors` replacement: expected errors are answers, not log lines.

    Unexpected ones are logged by `MaskUnexpectedErrors` with their request id instead.
    """
    return None
