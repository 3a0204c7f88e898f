"""`@requests`: marks an Executor method as the handler of one or more endpoints.

The decorator only records the mark on the function; the worker collects the marks when it starts
(see `flowql.executors.handlers`). Bare `@requests` marks the default handler, used for every
endpoint that has no handler of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

__all__ = ["requests", "RequestsMark", "DEFAULT_ENDPOINT", "MARK_ATTRIBUTE"]

DEFAULT_ENDPOINT = "__default__"
"""The endpoint key of the default handler (also accepted in YAML `requests:` mappings)."""

MARK_ATTRIBUTE = "__flowql_requests__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RequestsMark:
    """What `@requests` recorded on a method: its endpoints and optional explicit document schemas."""

    endpoints: tuple[str, ...]
    request_schema: Any = None
    response_schema: Any = None


@overload
def requests(func: F, /) -> F: ...


@overload
def requests(
    *, on: str | Sequence[str] | None = None, request_schema: Any = None, response_schema: Any = None
) -> Callable[[F], F]: ...


def requests(
    func: F | None = None,
    /,
    *,
    on: str | Sequence[str] | None = None,
    request_schema: Any = None,
    response_schema: Any = None,
) -> F | Callable[[F], F]:
    """Mark a method as the handler of endpoint(s) `on`; without `on`, as the default handler.

    >>> class Upper(Executor):
    ...     @requests(on=['/upper', '/shout'])
    ...     async def upper(self, docs, **kwargs):
    ...         for doc in docs:
    ...             doc.text = doc.text.upper()

    `request_schema` / `response_schema` (a BaseDoc class or `DocList[...]`) override what the
    method's annotations declare.
    """
    if on is None:
        endpoints: tuple[str, ...] = (DEFAULT_ENDPOINT,)
    elif isinstance(on, str):
        endpoints = (on,)
    else:
        endpoints = tuple(on)
        if not endpoints or not all(isinstance(endpoint, str) for endpoint in endpoints):
            raise TypeError(f"@requests(on=...) takes an endpoint string or a list of them, got {on!r}")
    mark = RequestsMark(endpoints, request_schema, response_schema)

    def mark_function(function: F) -> F:
        if not callable(function):
            raise TypeError(f"@requests decorates methods, got {function!r}")
        setattr(function, MARK_ATTRIBUTE, mark)
        return function

    if func is not None:
        return mark_function(func)
    return mark_function
