"""`flowql gateway ...`: serve a topology document over gRPC and/or HTTP/WebSocket until stopped.

Once every listener is bound, prints exactly one line to stdout:
`flowql gateway <name> serving on grpc://HOST:PORT http://HOST:PORT` (one URL per protocol, in the
order given). Logs go to stderr. If it cannot start, the last stderr line is
`flowql gateway <name> failed: <ExcType>: <message>` and the exit code is 1 (2 for bad arguments).
SIGTERM/SIGINT stop the listeners gracefully, close the executor channels, and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from flowql.serving import announce_serving, configure_logging, report_start_failure, stop_on_signals
from flowql.topology import Topology

from .server import GatewayServer
from .settings import GatewaySettings

__all__ = ["main", "serve"]

logger = logging.getLogger("flowql.gateway")

_STOP_GRACE_S = 5.0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `flowql gateway`; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = GatewaySettings.from_argv(args)
    except ValueError as exc:
        print(f"flowql gateway: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.name)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(serve(settings))


def _loop_factory() -> type[asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    loop_class: type[asyncio.AbstractEventLoop] = uvloop.Loop
    return loop_class


async def serve(settings: GatewaySettings) -> int:
    """Start, announce, and serve until a stop signal; the process exit code."""
    server: GatewayServer | None = None
    try:
        if not settings.topology:
            raise ValueError("--topology PATH is required (the topology document the Flow writes)")
        topology = Topology.load(settings.topology)
        server = GatewayServer(settings, topology)
        urls = await server.start()
    except Exception as exc:
        report_start_failure("gateway", settings.name, exc)
        return 1

    stop = stop_on_signals()
    announce_serving("gateway", settings.name, " ".join(urls))
    await stop.wait()
    logger.info("stopping (grace %.1fs)", _STOP_GRACE_S)
    await server.stop(_STOP_GRACE_S)
    return 0
