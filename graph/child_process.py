"""`ChildProcess`: one process of a Flow: started, its ready line awaited, its output drained, stopped.

Each child runs in its own process group, so a Ctrl-C in the terminal reaches only the Flow, which
then stops the children in order (gateway first) instead of all of them at once; stopping signals
the whole group, so nothing a child started outlives it.
"""

from __future__ import annotations

import collections
import enum
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

__all__ = ["ChildProcess", "ChildEvent", "ChildEventKind"]

_STDERR_TAIL_LINES = 40


class ChildEventKind(enum.Enum):
    READY = "ready"
    FAILED = "failed"
    EXITED = "exited"


@dataclass(frozen=True)
class ChildEvent:
    """Something a child reported while starting: its ready line, its failure line, or the end of its output."""

    kind: ChildEventKind
    child: ChildProcess


class ChildProcess:
    """A child process whose stdout announces readiness with one line starting with `ready_prefix`.

    Lines before and after the ready line are forwarded to this process's stdout, stderr to stderr,
    by daemon threads, so a chatty child never blocks on a full pipe.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        ready_prefix: str,
        failure_prefix: str,
        events: queue.Queue[ChildEvent],
        timeout: float | None = None,
    ) -> None:
        self.name = name
        # Seconds the child may take to print its ready line; None waits as long as it lives.
        self.timeout = timeout
        self.argv = argv
        self._env = env
        self._ready_prefix = ready_prefix
        self._failure_prefix = failure_prefix
        self._events = events
        self._popen: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self.ready_line: str | None = None
        self.failure_line: str | None = None

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._popen.pid

    def start(self) -> None:
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
            process_group=0,
            close_fds=True,
        )
        assert self._popen.stdout is not None and self._popen.stderr is not None
        for target, stream in ((self._read_stdout, self._popen.stdout), (self._read_stderr, self._popen.stderr)):
            thread = threading.Thread(target=target, args=(stream,), name=f"flowql-{self.name}-output", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if self.ready_line is None and line.startswith(self._ready_prefix):
                self.ready_line = line.strip()
                self._events.put(ChildEvent(ChildEventKind.READY, self))
            else:
                _forward(line, sys.stdout)
        stream.close()
        self._events.put(ChildEvent(ChildEventKind.EXITED, self))

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            self._stderr_tail.append(line.rstrip("\n"))
            if self.failure_line is None and line.startswith(self._failure_prefix):
                self.failure_line = line.strip()
                self._events.put(ChildEvent(ChildEventKind.FAILED, self))
            _forward(line, sys.stderr)
        stream.close()

    def send_line(self, text: str) -> None:
        """Write one line to the child's stdin (how a gateway started early gets its arguments)."""
        if self._popen is None or self._popen.stdin is None:
            raise RuntimeError(f"{self.name} has no stdin to write to")
        try:
            self._popen.stdin.write(text.encode() + b"\n")
            self._popen.stdin.flush()
        except (BrokenPipeError, ValueError):
            # It already exited; the caller learns why from its ready wait.
            pass

    def returncode(self) -> int | None:
        """The exit status once the process has ended, else None."""
        return None if self._popen is None else self._popen.poll()

    def failure_reason(self, wait: float = 2.0) -> str:
        """Why the child failed to start: its failure line, else the end of its stderr and its exit status."""
        deadline = time.monotonic() + wait
        if self._popen is not None:
            try:
                self._popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        # The stderr reader may still hold the last lines; let it finish (it ends at the pipe's EOF).
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self.failure_line:
            return self.failure_line.split(" failed: ", 1)[-1]
        status = self.returncode()
        tail = "\n".join(line for line in list(self._stderr_tail)[-10:] if line.strip())
        exit_text = "still running" if status is None else f"exited with status {status}"
        return f"{exit_text} before it was ready" + (f"; its last output:\n{tail}" if tail else "")

    def terminate(self) -> None:
        """Ask the child (its whole process group) to stop gracefully."""
        if self._popen is None or self._popen.poll() is not None:
            return
        if self._popen.stdin is not None:
            try:
                self._popen.stdin.close()
            except OSError:
                pass
        _signal_group(self._popen.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait for the child to exit until `deadline` (monotonic), then kill its process group."""
        if self._popen is None:
            return
        try:
            self._popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(self._popen.pid, signal.SIGKILL)
            self._popen.wait()
        for thread in self._threads:
            thread.join(timeout=1.0)
        if self._popen.stdin is not None and not self._popen.stdin.closed:
            try:
                self._popen.stdin.close()
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the child's process group at once and reap it."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            _signal_group(self._popen.pid, signal.SIGKILL)
        self.wait_or_kill(time.monotonic() + 5.0)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _forward(line: str, stream: IO[str]) -> None:
    # The stream may be gone (interpreter shutdown, a test's captured stream closed): drop the line.
    try:
        stream.write(line)
        stream.flush()
    except (ValueError, OSError, AttributeError):
        pass
