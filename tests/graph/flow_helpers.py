"""Helpers for the graph integration tests: loopback Flows and checks that processes are gone."""

from __future__ import annotations

import os
import time
from typing import Any

from flowql import Flow


def local_flow(**options: Any) -> Flow:
    """A Flow whose gateway binds loopback only."""
    return Flow(host="127.0.0.1", **options)


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0) until its parent reaps it; read its state.
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_pids_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still alive after `timeout` seconds (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    alive = [pid for pid in pids if not pid_gone(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if not pid_gone(pid)]
    return alive


def children_of(pid: int) -> list[int]:
    """Direct child processes of `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def all_pids(flow: Flow) -> list[int]:
    return [pid for pids in flow.pids.values() for pid in pids]
