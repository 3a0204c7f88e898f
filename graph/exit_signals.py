"""`ExitSignals`: while a Flow runs, SIGTERM and SIGHUP leave the program the way Ctrl-C does.

Their default action ends the process on the spot: no `with` block is left, and the Flow's
children, each in its own process group, would be orphaned. Instead they raise SystemExit (so
`__exit__` stops the children), or, while `Flow.block()` waits, just end the wait.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["ExitSignals"]

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class ExitSignals:
    """Handlers for SIGTERM/SIGHUP, installed only where nobody else handles them (and only in the main thread)."""

    def __init__(self) -> None:
        self._previous: dict[signal.Signals, Any] = {}
        # Set by `Flow.block()` while it waits: a signal then ends the wait instead of raising.
        self.stop_event: threading.Event | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in EXIT_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_event is not None:
            self.stop_event.set()
            return
        raise SystemExit(128 + signum)
