"""Prometheus metrics of one gateway app: HTTP requests, latencies, in-flight, per-executor timings.

Each app owns its `CollectorRegistry` (no process-wide globals), so two apps in one process, or
one per test, never share counters. `GET /metrics` renders it in the text exposition format.

- `flowql_http_requests_total{route, method, status}` and `flowql_http_request_seconds{route}`
- `flowql_http_requests_in_flight{route}`
- `flowql_executor_seconds{executor}`: time each executor spent on a request (from its route)
- `flowql_executor_errors_total{executor, exception_type}`
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowql.proto.flowql_pb2 import DataRequest, Status

__all__ = ["GatewayMetrics", "MetricsMiddleware"]

_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """The metrics of one app, registered in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "flowql_http_requests",
            "HTTP and WebSocket requests served.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flowql_http_request_seconds",
            "Time to answer an HTTP request.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "flowql_http_requests_in_flight", "Requests being served now.", ["route"], registry=self.registry
        )
        self.executor_latency = Histogram(
            "flowql_executor_seconds",
            "Time an executor spent on a request.",
            ["executor"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.executor_errors = Counter(
            "flowql_executor_errors",
            "Requests an executor failed.",
            ["executor", "exception_type"],
            registry=self.registry,
        )

        # Labelled children, looked up once: `labels()` costs more than the observation itself.
        self._executor_children: dict[str, Any] = {}
        self._route_children: dict[str, tuple[Any, Any]] = {}

    def route_children(self, route: str) -> tuple[Any, Any]:
        """(in-flight gauge, latency histogram) of a route label."""
        children = self._route_children.get(route)
        if children is None:
            children = (self.in_flight.labels(route), self.latency.labels(route))
            self._route_children[route] = children
        return children

    def observe_response(self, response: DataRequest) -> None:
        """Record the executor timings and the error (if any) a processed DataRequest carries."""
        for route in response.routes:
            if route.end_time_ns > route.start_time_ns:
                child = self._executor_children.get(route.executor)
                if child is None:
                    child = self._executor_children[route.executor] = self.executor_latency.labels(route.executor)
                child.observe((route.end_time_ns - route.start_time_ns) / 1e9)
        if response.status.code == Status.ERROR:
            detail = response.status.exception
            self.executor_errors.labels(detail.executor or "gateway", detail.exception_type or "Error").inc()

    async def endpoint(self, request: Request) -> Response:
        """`GET /metrics`."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every HTTP request and WebSocket session by route path."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        route = _route_label(scope["path"])
        method = scope.get("method", "WS")
        status = 500 if scope["type"] == "http" else 101
        in_flight, latency = self.metrics.route_children(route)

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        in_flight.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            in_flight.dec()
            latency.observe(time.perf_counter() - start)
            self.metrics.requests.labels(route, method, str(status)).inc()


def _route_label(path: str) -> str:
    # Bounded label values: the known routes by name, everything else (static files, 404s) as one.
    if path in ("/graphql", "/post", "/ws", "/status", "/dry_run", "/metrics"):
        return path
    return "other"
