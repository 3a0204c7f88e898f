"""Real `python -m flowql executor|gateway` processes for the gateway's process-level tests."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from flowql.app.settings import GatewaySettings
from flowql.executors.settings import WorkerSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 30.0


class FlowqlProcess:
    """One flowql role process; stderr goes to a file so a chatty process never blocks on a full pipe."""

    def __init__(self, role: str, argv: list[str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowql", role, *argv],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )

    def ready_line(self, timeout: float = READY_TIMEOUT_S) -> str:
        """The first stdout line; raises with the process's stderr if it exits or times out first."""
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not readable:
            raise TimeoutError(f"not ready after {timeout}s: {self.stderr()}")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"exited with {self.process.wait(10)}: {self.stderr()}")
        return line.rstrip("\n")

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait; SIGKILL if it outlives `timeout`. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._stderr.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def start_executor(name: str, uses: str, tmp_path: Path, **settings: object) -> tuple[FlowqlProcess, str]:
    """A started `flowql executor` and its address."""
    argv = WorkerSettings(name=name, uses=uses, host="127.0.0.1", port=0, **settings).to_argv()  # type: ignore[arg-type]
    index = len(list(tmp_path.glob(f"{name}-*.stderr")))
    process = FlowqlProcess("executor", argv, tmp_path / f"{name}-{index}.stderr")
    line = process.ready_line()
    prefix = f"flowql executor {name} serving on "
    assert line.startswith(prefix), line
    return process, line.removeprefix(prefix)


def start_gateway(settings: GatewaySettings, tmp_path: Path) -> tuple[FlowqlProcess, list[str]]:
    """A started `flowql gateway` and the URLs of its ready line."""
    process = FlowqlProcess("gateway", settings.to_argv(), tmp_path / "gateway.stderr")
    line = process.ready_line()
    prefix = f"flowql gateway {settings.name} serving on "
    assert line.startswith(prefix), line
    return process, line.removeprefix(prefix).split()


def wait_exit(process: FlowqlProcess, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    code = process.process.wait(max(0.0, deadline - time.monotonic()))
    return code
