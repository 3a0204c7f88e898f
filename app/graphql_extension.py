"""`GatewayExtension`: everything the gateway adds to strawberry's request lifecycle, in one extension.

strawberry runs every extension's hooks at every stage of every operation, and once more per
subscription event; six small extensions (parser cache, validation cache, limits, partial errors,
masking) cost more per event than the event's own execution. One extension does it all:

- parsing and validation cached per app (LRU over the query text; the validated result keyed by
  the cached document), so a repeated query skips graphql-core's ~1 ms validation;
- the limits: `max_tokens` at parse time, depth / aliases / introspection as validation rules
  (built once per app, see `graphql_limits`);
- partial results: errors collected by the `ErrorSink` are appended to the operation's errors;
- masking: unexpected exceptions become `INTERNAL_SERVER_ERROR` with a request id, logged there
  (see `graphql_errors`).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from flowql.app.graphql_errors import ErrorSink, is_unexpected, masked

__all__ = ["GatewayExtension", "ExtensionConfig"]


@dataclass
class ExtensionConfig:
    """Per-app state shared by the per-operation extension instances."""

    sink: ErrorSink
    rules: tuple[type[ASTValidationRule], ...]
    max_tokens: int | None
    parse: Callable[..., Any]
    validate: Callable[..., Any]

    @classmethod
    def build(
        cls, sink: ErrorSink, rules: tuple[type[ASTValidationRule], ...], max_tokens: int | None, cache_size: int = 1024
    ) -> ExtensionConfig:
        from strawberry.schema.schema import validate_document

        return cls(
            sink=sink,
            rules=rules,
            max_tokens=max_tokens,
            parse=functools.lru_cache(maxsize=cache_size)(parse),
            validate=_IdentityCache(validate_document, cache_size),
        )


class _IdentityCache:
    """LRU of validation results keyed by the parsed document's identity (and the rules).

    The parse cache hands out one document object per query text, so identity is enough; a
    value-keyed cache would hash the whole AST (recursively) on every request. Each entry keeps
    its document alive, so an id cannot be reused while its entry exists.
    """

    def __init__(self, validate: Callable[..., Any], size: int) -> None:
        self.validate = validate
        self.size = size
        self.entries: OrderedDict[tuple[int, int, tuple[Any, ...]], tuple[Any, Any]] = OrderedDict()

    def __call__(self, schema: Any, document: Any, rules: tuple[Any, ...]) -> Any:
        key = (id(schema), id(document), rules)
        entry = self.entries.get(key)
        if entry is not None and entry[0] is document:
            self.entries.move_to_end(key)
            return entry[1]
        errors = self.validate(schema, document, rules)
        self.entries[key] = (document, errors)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return errors


def _mask_all(errors: list[GraphQLError] | None) -> list[GraphQLError] | None:
    if not errors:
        return errors
    return [masked(error) if is_unexpected(error) else error for error in errors]


class GatewayExtension(SchemaExtension):
    """Caches, limits, partial errors and masking (a new instance per operation)."""

    def __init__(self, config: ExtensionConfig) -> None:
        self.config = config

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if self.config.max_tokens:
            context.parse_options["max_tokens"] = self.config.max_tokens
        if self.config.rules:
            context.validation_rules = context.validation_rules + self.config.rules
        token = self.config.sink.begin()
        try:
            yield
        finally:
            pending = self.config.sink.end(token)
        result = context.result
        if result is None or not hasattr(result, "errors"):
            result = getattr(result, "initial_result", None)
        if result is not None and hasattr(result, "errors"):
            errors = [*(result.errors or []), *pending] if pending else result.errors
            result.errors = _mask_all(errors)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = self.config.parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = self.config.validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Subscription events, and queries/mutations sent over a WebSocket, arrive here one by one.
        errors = getattr(result, "errors", None)
        pending = self.config.sink.take()
        if errors or pending:
            result.errors = _mask_all([*(errors or []), *pending])
        yield
