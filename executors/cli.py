"""`flowql executor ...`: load the Executor named by --uses and serve it until SIGTERM/SIGINT.

Once serving, prints exactly one line to stdout: `flowql executor <name> serving on <host>:<port>`.
If the Executor cannot be loaded or the port bound, the traceback goes to stderr, followed by a last
line `flowql executor <name> failed: <ExcType>: <message>`, and the exit code is 1.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from flowql.executors.loader import load_executor
from flowql.executors.settings import WorkerSettings
from flowql.executors.worker import ExecutorWorker
from flowql.serving import announce_serving, configure_logging, report_start_failure, stop_on_signals

__all__ = ["main", "serve"]

_logger = logging.getLogger("flowql.executor")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `flowql executor`; returns the process exit code."""
    settings = WorkerSettings.from_argv(sys.argv[1:] if argv is None else argv)
    configure_logging(settings.name)
    return asyncio.run(serve(settings))


async def serve(settings: WorkerSettings) -> int:
    """Load, bind, announce, and serve until a stop signal; the process exit code."""
    worker: ExecutorWorker | None = None
    try:
        executor = load_executor(
            settings.uses,
            uses_with=settings.uses_with,
            uses_metas=settings.uses_metas,
            uses_requests=settings.uses_requests,
            py_modules=settings.py_modules,
            runtime_args=settings.runtime_args(),
        )
        worker = ExecutorWorker(
            executor,
            name=settings.name,
            host=settings.host,
            port=settings.port,
            shard_id=settings.shard_id,
            shards=settings.shards,
            replica_id=settings.replica_id,
            replicas=settings.replicas,
        )
        await worker.start()
    except Exception as exc:
        report_start_failure("executor", settings.name, exc)
        if worker is not None:
            await worker.stop(0)
        return 1

    stop = stop_on_signals()
    announce_serving("executor", settings.name, worker.address)
    await stop.wait()
    _logger.info("stopping (grace %.1fs)", settings.grace)
    try:
        await worker.stop(settings.grace)
    except Exception:
        _logger.exception("close() failed")
        return 1
    _logger.info("stopped")
    return 0
