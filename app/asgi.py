"""`create_app(streamer, settings)`: the gateway's Starlette application.

Routes:

- `/graphql`: GraphQL. POST (JSON), GET (queries; GraphiQL for browsers), WebSocket
  subscriptions (graphql-transport-ws and graphql-ws), multipart HTTP subscriptions.
- `/graphiql-assets/`: the GraphiQL page's scripts and styles, vendored (see `graphiql_page`).
- `POST /post`: one request batch as JSON (the client's `protocol='http'`; see `http_routes`).
- `/ws`: DataRequest protobuf frames both ways (the client's `protocol='websocket'`; see `ws_route`).
- `GET /status`: name, version, executors and their health.
- `GET /dry_run`: whether every executor answers (200, or 503 naming those that do not).
- `GET /metrics`: Prometheus text format (see `metrics`).
- `/`: the files of `settings.static_dir`, when set.

The GraphQL schema is built in the lifespan, from `await streamer.endpoints()`: the streamer must
be started before the app (the gateway server does that). Two endpoints whose GraphQL field
names collide fail the start with a `ConfigurationError` naming both.

    app = create_app(streamer, settings)
    uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0))
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from flowql._exceptions import ConfigurationError
from flowql.app.graphiql_page import graphiql_assets_mount
from flowql.app.graphql_schema import build_schema
from flowql.app.graphql_view import LateGraphQL, make_view
from flowql.app.http_guards import BodySizeLimit, JsonOnlyPosts
from flowql.app.http_routes import HttpRoutes
from flowql.app.metrics import GatewayMetrics, MetricsMiddleware
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import EndpointView, ExecutorView, StreamerAPI, read_endpoints, read_executors
from flowql.app.ws_route import DataRequestSocket

__all__ = ["create_app"]

logger = logging.getLogger("flowql.gateway")


async def _discover(streamer: StreamerAPI) -> tuple[list[EndpointView], list[ExecutorView]]:
    # Without discovery the gateway still serves the generic `docs` field; a Flow whose
    # executors do not answer yet should not keep the gateway from starting.
    try:
        endpoints = await read_endpoints(streamer)
    except Exception:
        logger.warning("endpoint discovery failed; serving the generic docs field only", exc_info=True)
        endpoints = []
    try:
        executors = await read_executors(streamer)
    except Exception:
        logger.warning("executor description failed", exc_info=True)
        executors = []
    return endpoints, executors


def create_app(streamer: StreamerAPI, settings: GatewaySettings) -> Starlette:
    """The gateway's ASGI app for `streamer` (already started) configured by `settings`."""
    metrics = GatewayMetrics()
    graphql = LateGraphQL()
    http = HttpRoutes(streamer, settings, metrics)
    socket = DataRequestSocket(streamer, settings.prefetch, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        endpoints, executors = await _discover(streamer)
        try:
            schema = build_schema(streamer, settings, endpoints, executors, metrics=metrics)
        except ConfigurationError:
            logger.error("the GraphQL schema cannot be built", exc_info=True)
            raise
        http.use_endpoints(endpoints)
        graphql.view = make_view(schema, settings)
        # The schema is long-lived: `flowql gateway` (app/cli.py) freezes it out of the garbage
        # collector's generations once every listener is up, this app's lifespan included.
        yield

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/post", http.post, methods=["POST"]),
        WebSocketRoute("/ws", socket.serve),
        Route("/status", http.status, methods=["GET"]),
        Route("/dry_run", http.dry_run, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        graphiql_assets_mount(),
    ]
    if settings.static_dir:
        routes.append(Mount("/", StaticFiles(directory=settings.static_dir, html=True), name="static"))

    middleware = [Middleware(MetricsMiddleware, metrics=metrics)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
            )
        )
    middleware.append(Middleware(BodySizeLimit, max_body_size=settings.max_body_size))
    middleware.append(Middleware(JsonOnlyPosts, paths=("/graphql", "/post")))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
