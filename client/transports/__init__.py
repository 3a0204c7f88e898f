"""One module per protocol; `make_transport` picks the one the client's settings name."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from flowql.client.settings import ClientSettings
from flowql.client.transports.base import ClientTransport, ExchangeOptions
from flowql.client.transports.grpc import GrpcTransport
from flowql.client.transports.http import HttpTransport
from flowql.client.transports.websocket import WebSocketTransport

__all__ = [
    "ClientTransport",
    "ExchangeOptions",
    "GrpcTransport",
    "HttpTransport",
    "WebSocketTransport",
    "make_transport",
]


def make_transport(settings: ClientSettings, http: Callable[[], httpx.AsyncClient]) -> ClientTransport:
    """The transport for `settings.protocol`; `http` gives the client's shared HTTP connection pool."""
    if settings.protocol == "grpc":
        return GrpcTransport(settings)
    if settings.protocol == "http":
        return HttpTransport(settings, http)
    return WebSocketTransport(settings, http)
