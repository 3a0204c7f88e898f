"""Shared fixtures: free loopback ports and a place for test artifacts."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Returns a function that yields a currently free loopback TCP port (for processes that need one up front)."""

    def pick() -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    return pick


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests save screenshots and other artifacts for people to look at."""
    path = REPO_ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path
