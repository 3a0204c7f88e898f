"""`WorkerSettings`: everything one executor worker process is configured with, typed and defaulted.

`flowql executor ...` parses its arguments into this object; the Flow and the Kubernetes export go
the other way with `to_argv()`. The two round-trip exactly.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from flowql.executors.executor import RuntimeArgs

__all__ = ["WorkerSettings", "build_parser"]


@dataclass
class WorkerSettings:
    """One worker's settings; see `flowql executor --help` for what each means."""

    name: str = "executor"
    # What to serve: a class name, module:Class, a YAML path, inline YAML, or pickle:<path>.
    uses: str = "Executor"
    uses_with: dict[str, Any] = field(default_factory=dict)
    uses_metas: dict[str, Any] = field(default_factory=dict)
    uses_requests: dict[str, str] = field(default_factory=dict)
    # Python files imported before `uses` is resolved.
    py_modules: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    # 0 binds a free port; the ready line names the real one.
    port: int = 0
    shard_id: int = 0
    shards: int = 1
    replica_id: int = 0
    replicas: int = 1
    workspace: str | None = None
    # Seconds in-flight requests get to finish on SIGTERM/SIGINT.
    grace: float = 5.0

    def __post_init__(self) -> None:
        if self.workspace == "":
            self.workspace = None
        if not self.uses.strip():
            raise ValueError("uses must not be empty")
        if self.shards < 1 or not 0 <= self.shard_id < self.shards:
            raise ValueError(f"shard_id {self.shard_id} must lie in [0, shards={self.shards})")
        if self.replicas < 1 or not 0 <= self.replica_id < self.replicas:
            raise ValueError(f"replica_id {self.replica_id} must lie in [0, replicas={self.replicas})")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")
        if self.grace < 0:
            raise ValueError(f"grace must be >= 0, got {self.grace}")

    def runtime_args(self) -> RuntimeArgs:
        """What the hosted Executor sees as `self.runtime_args`."""
        return RuntimeArgs(
            name=self.name,
            shard_id=self.shard_id,
            shards=self.shards,
            replica_id=self.replica_id,
            replicas=self.replicas,
            workspace=self.workspace,
            host=self.host,
            port=self.port,
        )

    def to_argv(self) -> list[str]:
        """Arguments after `flowql executor` that `from_argv` turns back into these settings.

        Every value is written `--flag=value`, so values that start with '-' (or are YAML text) survive.
        """
        argv: list[str] = []
        defaults = WorkerSettings()
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value == getattr(defaults, spec.name):
                continue
            flag = "--" + spec.name.replace("_", "-")
            if isinstance(value, dict):
                argv.append(f"{flag}={json.dumps(value)}")
            elif isinstance(value, list):
                argv.extend(f"{flag}={item}" for item in value)
            else:
                argv.append(f"{flag}={value}")
        return argv

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> WorkerSettings:
        parser = build_parser()
        namespace = parser.parse_args(list(argv))
        values = {spec.name: getattr(namespace, spec.name) for spec in fields(cls)}
        try:
            return cls(**values)
        except ValueError as exc:
            parser.error(str(exc))


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text) if text.strip() else {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The `flowql executor` argument parser; every option maps onto one WorkerSettings field."""
    defaults = WorkerSettings()
    parser = argparse.ArgumentParser(prog="flowql executor", description="Serve one Executor over gRPC.")
    parser.add_argument("--name", default=defaults.name, help="executor name in routes, errors and __results__")
    parser.add_argument(
        "--uses",
        default=defaults.uses,
        help="registered class name, module:Class, YAML file, inline YAML, or pickle:<path> (default %(default)s)",
    )
    json_help = "a JSON object overriding the YAML's `%s:`"
    parser.add_argument("--uses-with", type=_json_object, default={}, help=json_help % "with")
    parser.add_argument("--uses-metas", type=_json_object, default={}, help=json_help % "metas")
    parser.add_argument("--uses-requests", type=_json_object, default={}, help=json_help % "requests")
    parser.add_argument(
        "--py-modules", nargs="+", action="extend", default=[], help="Python files to import before resolving --uses"
    )
    parser.add_argument("--host", default=defaults.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=defaults.port, help="port to bind; 0 picks a free one")
    parser.add_argument("--shard-id", type=int, default=defaults.shard_id)
    parser.add_argument("--shards", type=int, default=defaults.shards)
    parser.add_argument("--replica-id", type=int, default=defaults.replica_id)
    parser.add_argument("--replicas", type=int, default=defaults.replicas)
    parser.add_argument("--workspace", default=defaults.workspace)
    parser.add_argument(
        "--grace", type=float, default=defaults.grace, help="seconds in-flight requests get on shutdown"
    )
    return parser
