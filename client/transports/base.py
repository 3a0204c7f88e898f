"""`ClientTransport`: the one thing a protocol implements, modelled on httpx's transports.

A transport turns a stream of `OutgoingRequest`s into the stream of their `Response`s, in the
order the gateway answers them, and maps its own failures onto flowql errors. Batching, the
prefetch window, retries, timeouts, ordering and callbacks live above it (`pipeline.py`,
`core.py`), once for every protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from docarray import BaseDoc

from flowql.client.batching import OutgoingRequest
from flowql.client.response import Response
from flowql.documents import Document

__all__ = ["ClientTransport", "ExchangeOptions"]


@dataclass(frozen=True)
class ExchangeOptions:
    """Per-`post()` options a transport needs."""

    # "Gzip", "Deflate" or None.
    compression: str | None = None
    # The document type results are decoded into.
    doc_type: type[BaseDoc] = Document
    # Seconds one request may take; None means no bound.
    timeout: float | None = None
    # The post makes exactly one request (known before sending): a transport may answer it with
    # a one-shot call instead of opening a stream.
    single: bool = False


class ClientTransport(ABC):
    """Talks to one gateway over one protocol. Created on, and used from, one event loop."""

    address: str

    @abstractmethod
    def exchange(
        self, requests: AsyncIterator[OutgoingRequest], options: ExchangeOptions
    ) -> AsyncGenerator[Response, None]:
        """Send `requests` as they come and yield the responses as they arrive.

        Ends when `requests` is exhausted and every sent request has its response; raises a
        `flowql.TransportError` subclass when the connection fails (`ServiceUnavailable` is retried
        by the caller, re-sending the requests that had no response yet).
        """

    @abstractmethod
    async def dry_run(self, time_limit: float | None = None) -> bool:
        """True when the gateway reports every executor reachable."""

    @abstractmethod
    async def endpoints(self, time_limit: float | None = None) -> list[str]:
        """The endpoints the Flow's executors serve."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close connections; the transport is not used afterwards."""
