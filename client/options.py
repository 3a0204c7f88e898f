"""`PostOptions`: the arguments of one `post()`, validated, with the seeds' older spellings resolved."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from docarray import BaseDoc, DocList

from flowql._exceptions import ConfigurationError
from flowql.client.callbacks import Callback
from flowql.client.retry import RetryPolicy
from flowql.client.transports.grpc import grpc_compression
from flowql.documents import Document

__all__ = ["PostOptions", "DEFAULT_PREFETCH"]

DEFAULT_PREFETCH = 1000
"""Requests of one post built and unanswered at once when `prefetch` is None (the gateway's default too)."""

# Older names from the seeds -> current names.
_ALIASES = {"return_results": "return_responses", "target_peapod": "target_executor"}


@dataclass(frozen=True)
class PostOptions:
    on_done: Callback | None = None
    on_error: Callback | None = None
    on_always: Callback | None = None
    parameters: dict[str, Any] | None = None
    target_executor: str | None = None
    request_size: int = 100
    show_progress: bool = False
    continue_on_error: bool = False
    return_responses: bool = False
    results_in_order: bool = False
    compression: str | None = None
    timeout: float | None = None
    retry: RetryPolicy = RetryPolicy()
    prefetch: int = DEFAULT_PREFETCH
    return_type: type[BaseDoc] = Document

    @classmethod
    def build(cls, extra: dict[str, Any], **arguments: Any) -> PostOptions:
        """Options from `post()`'s named arguments plus `extra` (its **kwargs: only the seeds' aliases)."""
        for old, new in _ALIASES.items():
            if old in extra:
                value = extra.pop(old)
                if value is not None:
                    arguments[new] = value
        if extra:
            raise TypeError(f"post() got unexpected keyword argument(s): {', '.join(sorted(extra))}")
        retry = RetryPolicy(
            max_attempts=arguments.pop("max_attempts"),
            initial_backoff=arguments.pop("initial_backoff"),
            max_backoff=arguments.pop("max_backoff"),
            backoff_multiplier=arguments.pop("backoff_multiplier"),
        )
        prefetch = arguments.pop("prefetch")
        if prefetch is None:
            prefetch = DEFAULT_PREFETCH
        elif prefetch < 0:
            raise ConfigurationError(f"prefetch must be >= 0 (0: no bound), got {prefetch}")
        if arguments["request_size"] < 1:
            raise ConfigurationError(f"request_size must be >= 1, got {arguments['request_size']}")
        if arguments["parameters"] is not None and not isinstance(arguments["parameters"], dict):
            raise ConfigurationError(f"parameters must be a dict, got {type(arguments['parameters']).__name__}")
        grpc_compression(arguments["compression"])  # validates the name for every protocol
        arguments["return_type"] = _document_type(arguments.get("return_type"))
        return cls(retry=retry, prefetch=prefetch, **arguments)

    @property
    def has_callbacks(self) -> bool:
        return self.on_done is not None or self.on_error is not None or self.on_always is not None


def _document_type(value: Any) -> type[BaseDoc]:
    """`return_type` may name a document class or a `DocList[...]` of one."""
    if value is None:
        return Document
    # DocList[X] is a class or a typing alias depending on X; either way it carries X as doc_type.
    origin = typing.get_origin(value) or value
    if isinstance(origin, type) and issubclass(origin, DocList):
        doc_type = getattr(value, "doc_type", None)
        if isinstance(doc_type, type) and issubclass(doc_type, BaseDoc):
            return doc_type
    if isinstance(value, type) and issubclass(value, BaseDoc):
        return value
    raise ConfigurationError(f"return_type must be a BaseDoc class or DocList[...] of one, got {value!r}")
