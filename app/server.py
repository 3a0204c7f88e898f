"""`GatewayServer`: one gateway process's listeners on one event loop.

The streamer, a grpc.aio server per 'grpc' port, and a uvicorn server per 'http'/'websocket' port
serving `flowql.app.asgi.create_app(streamer, settings)`. `start()` returns once every listener is
bound (port 0 is resolved to the real port), `stop()` closes them and then the executor channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn

from flowql._exceptions import ConfigurationError, RuntimeFailedToStart
from flowql.topology import Topology

from .grpc_gateway import GatewayGrpcServer, start_grpc_server
from .settings import GatewaySettings
from .streamer import GatewayStreamer
from .transport import TransportFactory

__all__ = ["GatewayServer", "listener_url"]

logger = logging.getLogger("flowql.gateway")

_STARTUP_TIMEOUT_S = 30.0


def listener_url(protocol: str, host: str, port: int, *, tls: bool) -> str:
    """How the ready line names a listener: grpc://, http:// or ws:// (grpcs/https/wss with TLS)."""
    scheme = {"grpc": "grpc", "http": "http", "websocket": "ws"}[protocol]
    if tls:
        scheme = {"grpc": "grpcs", "http": "https", "ws": "wss"}[scheme]
    return f"{scheme}://{host}:{port}"


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn.Server that leaves signals to the gateway process, which stops all its listeners."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class _HttpListener:
    server: _EmbeddedUvicorn
    task: asyncio.Task[None]
    port: int


def _create_app_factory() -> Callable[[GatewayStreamer, GatewaySettings], Any]:
    try:
        module = importlib.import_module("flowql.app.asgi")
    except ModuleNotFoundError as exc:
        if exc.name in ("flowql.app.asgi", "strawberry", "starlette"):
            raise ConfigurationError(
                f"the 'http' and 'websocket' protocols need the GraphQL gateway (flowql.app.asgi): {exc}"
            ) from exc
        raise
    factory: Callable[[GatewayStreamer, GatewaySettings], Any] = module.create_app
    return factory


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class GatewayServer:
    """Every listener of one gateway process, sharing one `GatewayStreamer`."""

    def __init__(
        self,
        settings: GatewaySettings,
        topology: Topology,
        *,
        transport_factory: TransportFactory | None = None,
    ) -> None:
        self.settings = settings
        self.streamer = GatewayStreamer(topology, settings, transport_factory)
        self._grpc: list[GatewayGrpcServer] = []
        self._http: list[_HttpListener] = []
        self.urls: list[str] = []

    async def start(self) -> list[str]:
        """Start the streamer and every listener; the listeners' URLs in the order of `protocols`."""
        settings = self.settings
        tls = bool(settings.ssl_certfile and settings.ssl_keyfile)
        needs_app = any(protocol != "grpc" for protocol in settings.protocols)
        create_app = _create_app_factory() if needs_app else None
        await self.streamer.start()
        try:
            for protocol, port in zip(settings.protocols, settings.ports, strict=True):
                if protocol == "grpc":
                    grpc_server = await start_grpc_server(self.streamer, settings, port)
                    self._grpc.append(grpc_server)
                    bound = grpc_server.port
                    if bound == 0:
                        raise RuntimeFailedToStart(settings.name, f"cannot bind gRPC on {settings.host}:{port}")
                else:
                    assert create_app is not None
                    bound = await self._start_http(create_app, port)
                self.urls.append(listener_url(protocol, settings.host, bound, tls=tls))
        except BaseException:
            await self.stop(grace=0)
            raise
        return list(self.urls)

    async def _start_http(self, create_app: Callable[[GatewayStreamer, GatewaySettings], Any], port: int) -> int:
        settings = self.settings
        sock = _bind(settings.host, port)
        config = uvicorn.Config(
            create_app(self.streamer, settings),
            # The gateway configures logging itself; uvicorn's default config would log to stdout.
            log_config=None,
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
            ssl_certfile=settings.ssl_certfile,
            ssl_keyfile=settings.ssl_keyfile,
            timeout_graceful_shutdown=5,
        )
        server = _EmbeddedUvicorn(config)
        task = asyncio.create_task(self._run_uvicorn(server, sock))
        listener = _HttpListener(server=server, task=task, port=int(sock.getsockname()[1]))
        self._http.append(listener)
        # uvicorn has no "started" event to await; `started` flips once its lifespan ran and it listens.
        async with asyncio.timeout(_STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeFailedToStart(settings.name, "the HTTP server stopped during start-up")
                await asyncio.sleep(0.005)
        return listener.port

    async def _run_uvicorn(self, server: _EmbeddedUvicorn, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits the process when the app's lifespan fails; here that is a start failure.
            raise RuntimeFailedToStart(self.settings.name, f"the HTTP app failed to start (exit {exc.code})") from None
        finally:
            sock.close()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let running calls finish within `grace` seconds, close the channels."""
        for listener in self._http:
            listener.server.should_exit = True
        await asyncio.gather(*(server.stop(grace) for server in self._grpc), return_exceptions=True)
        if self._http:
            _, pending = await asyncio.wait([listener.task for listener in self._http], timeout=grace + 1)
            for task in pending:
                task.cancel()
            results = await asyncio.gather(*(listener.task for listener in self._http), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    logger.warning("HTTP listener ended with %r", result)
        self._grpc, self._http = [], []
        await self.streamer.close(grace)
