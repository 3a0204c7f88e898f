"""Starting a real `python -m flowql executor ...` process and reading its ready line."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = str(Path(__file__).with_name("sample_executors.py"))
READY_TIMEOUT_S = 30.0


class WorkerProcess:
    """One executor worker process; stderr goes to a file so a chatty worker never blocks on a full pipe."""

    def __init__(self, argv: list[str], stderr_path: Path, env: dict[str, str] | None = None) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowql", "executor", *argv],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
        )
        self.address = ""

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> str:
        """The address from the ready line; raises with the worker's stderr if it exits or times out."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                break
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"worker exited with {self.process.wait()}: {self.stderr()}")
            prefix, _, address = line.strip().rpartition(" serving on ")
            assert prefix.startswith("flowql executor "), line
            self.address = address
            return address
        raise TimeoutError(f"worker not ready after {timeout}s: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()
        return code
