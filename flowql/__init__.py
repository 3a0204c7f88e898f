"""flowql: a GraphQL-first query service for document-processing pipelines.

>>> from flowql import Flow, Executor, requests, Client, Document, DocumentArray

The heavy parts (the Flow, the gateway, the client) are imported on first use, so a process that
needs only documents or an executor does not pay for the rest, and the packages that sit on top of
the core can import it without cycles.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flowql._exceptions import (
    BadRequestError,
    ConfigurationError,
    ExecutorError,
    ExecutorLoadError,
    FlowQLError,
    GraphQLResponseError,
    RequestTimeout,
    RuntimeFailedToStart,
    ServiceUnavailable,
    TransportError,
)
from flowql.documents import Document, DocumentArray

if TYPE_CHECKING:
    from flowql.client import AsyncClient, Client
    from flowql.executors import Executor, requests
    from flowql.graph import AsyncFlow, Flow

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncFlow",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "Document",
    "DocumentArray",
    "Executor",
    "ExecutorError",
    "ExecutorLoadError",
    "Flow",
    "FlowQLError",
    "GraphQLResponseError",
    "RequestTimeout",
    "RuntimeFailedToStart",
    "ServiceUnavailable",
    "TransportError",
    "__version__",
    "requests",
]

_LAZY = {
    "Executor": "flowql.executors",
    "requests": "flowql.executors",
    "Flow": "flowql.graph",
    "AsyncFlow": "flowql.graph",
    "Client": "flowql.client",
    "AsyncClient": "flowql.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowql' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
