"""Collecting an Executor's handlers: which method serves which endpoint, and with which schemas.

Runs once when a worker starts. Each handler is described by a `Handler`: the bound method, how to
call it (async, sync, async or sync generator), the document types it reads and writes (from its
annotations or `@requests(request_schema=..., response_schema=...)`), and which of the keyword
arguments the worker offers its signature accepts.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from docarray import BaseDoc, DocList

from flowql._exceptions import ConfigurationError
from flowql.documents import Document
from flowql.executors.decorators import DEFAULT_ENDPOINT, MARK_ATTRIBUTE, RequestsMark
from flowql.executors.executor import Executor

__all__ = ["Handler", "HandlerMode", "HandlerTable", "OFFERED_ARGUMENTS"]

HandlerMode = Literal["async", "sync", "async_gen", "sync_gen"]

OFFERED_ARGUMENTS = frozenset({"docs", "doc", "parameters", "docs_matrix", "docs_map"})
"""The keyword arguments the worker can pass to a handler."""


@dataclass(frozen=True)
class Handler:
    """One handler method and everything needed to call it without further inspection."""

    method_name: str
    function: Callable[..., Any]
    mode: HandlerMode
    input_type: type[BaseDoc]
    output_type: type[BaseDoc]
    # Generators that take `doc` run once per input document; everything else gets the whole list.
    per_doc: bool
    # Names of the offered arguments the signature takes; None when it takes **kwargs (all of them).
    accepted: frozenset[str] | None
    description: str

    @property
    def streaming(self) -> bool:
        return self.mode in ("async_gen", "sync_gen")

    def wants(self, argument: str) -> bool:
        return self.accepted is None or argument in self.accepted


class HandlerTable:
    """Endpoint -> Handler for one Executor instance, with the default handler as fallback."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._by_endpoint = {endpoint: h for endpoint, h in handlers.items() if endpoint != DEFAULT_ENDPOINT}
        self.default: Handler | None = handlers.get(DEFAULT_ENDPOINT)

    def lookup(self, endpoint: str) -> Handler | None:
        """The handler for `endpoint`: its own, else the default, else None (pass the request through)."""
        return self._by_endpoint.get(endpoint, self.default)

    def endpoints(self) -> dict[str, Handler]:
        """The declared endpoints (the default handler excluded), in declaration order."""
        return dict(self._by_endpoint)

    @classmethod
    def collect(cls, executor: Executor) -> HandlerTable:
        """Read the `@requests` marks of the executor's class (base classes first, so subclasses win),
        then apply its `requests_overrides` (endpoint -> method name, from YAML or `uses_requests`)."""
        chosen: dict[str, str] = {}
        for klass in reversed(type(executor).__mro__):
            for attribute, value in vars(klass).items():
                mark = getattr(value, MARK_ATTRIBUTE, None)
                if isinstance(mark, RequestsMark):
                    for endpoint in mark.endpoints:
                        chosen[endpoint] = attribute
        for endpoint, method_name in getattr(executor, "requests_overrides", {}).items():
            key = DEFAULT_ENDPOINT if endpoint in (DEFAULT_ENDPOINT, "default") else endpoint
            chosen[key] = method_name
        built: dict[str, Handler] = {}
        handlers: dict[str, Handler] = {}
        for endpoint, method_name in chosen.items():
            if method_name not in built:
                built[method_name] = _build_handler(executor, method_name)
            handlers[endpoint] = built[method_name]
        return cls(handlers)


def _build_handler(executor: Executor, method_name: str) -> Handler:
    method = getattr(executor, method_name, None)
    if method is None or not callable(method):
        raise ConfigurationError(f"{type(executor).__name__} has no method {method_name!r} to serve requests")
    function = inspect.unwrap(getattr(method, "__func__", method))
    mark = getattr(function, MARK_ATTRIBUTE, None)
    if inspect.isasyncgenfunction(function):
        mode: HandlerMode = "async_gen"
    elif inspect.isgeneratorfunction(function):
        mode = "sync_gen"
    elif inspect.iscoroutinefunction(function):
        mode = "async"
    else:
        mode = "sync"
    accepted = _accepted_arguments(method, f"{type(executor).__name__}.{method_name}")
    streaming = mode in ("async_gen", "sync_gen")
    # A generator taking `docs` (and not `doc`) runs once for the whole list.
    per_doc = streaming and (accepted is None or "doc" in accepted or "docs" not in accepted)
    hints = _type_hints(function)
    input_annotation = hints.get("doc" if per_doc else "docs")
    request_schema = mark.request_schema if isinstance(mark, RequestsMark) else None
    response_schema = mark.response_schema if isinstance(mark, RequestsMark) else None
    input_type = _doc_type(request_schema) or _doc_type(input_annotation) or Document
    output_type = _doc_type(response_schema) or _doc_type(hints.get("return")) or input_type
    return Handler(
        method_name=method_name,
        function=method,
        mode=mode,
        input_type=input_type,
        output_type=output_type,
        per_doc=per_doc,
        accepted=accepted,
        description=inspect.cleandoc(function.__doc__ or ""),
    )


def _accepted_arguments(method: Callable[..., Any], label: str) -> frozenset[str] | None:
    accepted: set[str] = set()
    takes_everything = False
    for parameter in inspect.signature(method).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_everything = True
        elif parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            if parameter.name in OFFERED_ARGUMENTS:
                accepted.add(parameter.name)
            elif parameter.default is inspect.Parameter.empty:
                # Caught at start-up rather than as a TypeError on every request.
                raise ConfigurationError(
                    f"{label} requires argument {parameter.name!r}; handlers are called with "
                    f"{sorted(OFFERED_ARGUMENTS)} (and **kwargs)"
                )
    return None if takes_everything else frozenset(accepted)


def _type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    """The function's annotations, evaluated in its module; names that cannot be resolved are skipped."""
    try:
        return typing.get_type_hints(function)
    except Exception:
        # e.g. a postponed annotation naming a class local to a test function: resolve what we can.
        hints: dict[str, Any] = {}
        namespace = getattr(function, "__globals__", {})
        for name, annotation in inspect.get_annotations(function).items():
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, namespace)  # noqa: S307 - the code's own annotation
                except Exception:
                    continue
            hints[name] = annotation
        return hints


def _doc_type(annotation: Any) -> type[BaseDoc] | None:
    """The document class an annotation declares: `DocList[X]`, `X`, `list[X]`, `Iterator[X]`, `Optional[...]`."""
    if annotation is None:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        for argument in typing.get_args(annotation):
            found = _doc_type(argument)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type):
        if issubclass(annotation, DocList):
            doc_type = getattr(annotation, "doc_type", None)
            if isinstance(doc_type, type) and issubclass(doc_type, BaseDoc) and doc_type.__name__ != "AnyDoc":
                return doc_type
            return Document
        if issubclass(annotation, BaseDoc):
            return annotation
        return None
    if origin is not None:
        arguments = typing.get_args(annotation)
        if arguments:
            return _doc_type(arguments[0])
    return None
