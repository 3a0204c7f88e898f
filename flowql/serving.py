"""What every long-running flowql process (an executor worker, a gateway) shares between start and stop.

The Flow and the Kubernetes probes read these processes' output: one ready line on stdout once
serving, and on a failed start the traceback followed by one last stderr line
`flowql <role> <name> failed: <ExcType>: <message>`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import traceback

__all__ = ["configure_logging", "report_start_failure", "announce_serving", "stop_on_signals"]


def configure_logging(name: str) -> None:
    """Logs to stderr, each line naming the process (stdout carries only the ready line)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=f"%(asctime)s {name} %(levelname)s %(message)s")


def report_start_failure(role: str, name: str, exc: BaseException) -> None:
    """The traceback, then the one-line failure the Flow reports to the user."""
    traceback.print_exc(file=sys.stderr)
    message = " ".join(str(exc).split())
    print(f"flowql {role} {name} failed: {type(exc).__name__}: {message}", file=sys.stderr, flush=True)


def announce_serving(role: str, name: str, where: str) -> None:
    """Freeze the start-up heap, then print the ready line."""
    # What start-up allocated (imports, the model) lives as long as the process: freezing it keeps
    # the collector from rescanning it, which otherwise shows up as tens-of-milliseconds pauses in
    # request latency.
    gc.collect()
    gc.freeze()
    print(f"flowql {role} {name} serving on {where}", flush=True)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT. Install it before the ready line: whoever reads that line
    may signal at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop
