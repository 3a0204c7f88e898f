"""The gateway: the streamer that walks requests through the executor graph, its transports, and
the servers (gRPC here; GraphQL/HTTP/WebSocket in `asgi`) that expose it.

Names are imported on first use, so `from flowql.app.settings import GatewaySettings` (what the
Flow needs to start a gateway) does not pull in grpc.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .discovery import EndpointSpec, ExecutorDescription
    from .grpc_transport import GrpcTransport
    from .inprocess_transport import InProcessTransport
    from .settings import GatewaySettings
    from .streamer import GatewayStreamer
    from .transport import ExecutorTransport, TransportFactory

__all__ = [
    "EndpointSpec",
    "ExecutorDescription",
    "ExecutorTransport",
    "GatewaySettings",
    "GatewayStreamer",
    "GrpcTransport",
    "InProcessTransport",
    "TransportFactory",
]

_LAZY = {
    "EndpointSpec": ".discovery",
    "ExecutorDescription": ".discovery",
    "ExecutorTransport": ".transport",
    "TransportFactory": ".transport",
    "GatewaySettings": ".settings",
    "GatewayStreamer": ".streamer",
    "GrpcTransport": ".grpc_transport",
    "InProcessTransport": ".inprocess_transport",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowql.app' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
