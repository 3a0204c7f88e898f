"""`GatewaySettings`: everything the gateway process is configured with, typed and defaulted.

The CLI (`flowql gateway ...`) and the Flow both map onto this one object; `to_argv()` and
`from_argv()` round-trip it through command-line arguments, which is how the Flow and the
Kubernetes export start a gateway.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

__all__ = ["GatewaySettings", "PROTOCOLS", "COMPRESSIONS", "MiB"]

PROTOCOLS = ("grpc", "http", "websocket")
COMPRESSIONS = ("Gzip", "Deflate")
MiB = 1024 * 1024


@dataclass
class GatewaySettings:
    """The gateway's settings. `http` and `websocket` both mean the Starlette app (GraphQL included)."""

    name: str = "gateway"
    host: str = "0.0.0.0"
    protocols: list[str] = field(default_factory=lambda: ["grpc"])
    # One port per protocol, in the same order; 0 picks a free port.
    ports: list[int] = field(default_factory=lambda: [0])
    # Path of the topology document (JSON) describing the executor graph.
    topology: str = ""
    # Requests of one client stream in flight at once; 0 means no bound.
    prefetch: int = 1000
    # Bound on each executor call, in milliseconds; None means no bound.
    timeout_send_ms: int | None = None
    # Attempts on other replicas after an executor replica is UNAVAILABLE.
    retries: int = 3
    # Compression of the gateway -> executor gRPC hops: None, "Gzip" or "Deflate".
    compression: str | None = None
    # HTTP / GraphQL settings.
    cors_origins: list[str] = field(default_factory=list)
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    max_depth: int = 20
    max_tokens: int = 15_000
    max_aliases: int = 30
    introspection: bool = True
    max_body_size: int = 64 * MiB
    title: str = "flowql"
    # A folder of static files served at "/" (the example's web page), or None.
    static_dir: str | None = None

    def __post_init__(self) -> None:
        unknown = [p for p in self.protocols if p not in PROTOCOLS]
        if unknown:
            raise ValueError(f"unknown protocol(s) {unknown}; choose from {list(PROTOCOLS)}")
        if len(self.ports) != len(self.protocols):
            raise ValueError(f"{len(self.protocols)} protocol(s) {self.protocols} need as many ports, got {self.ports}")
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise ValueError(f"compression must be None or one of {list(COMPRESSIONS)}, got {self.compression!r}")

    def to_argv(self) -> list[str]:
        """Command-line arguments (after `flowql gateway`) that `from_argv` turns back into these settings."""
        argv: list[str] = []
        defaults = GatewaySettings()
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value == getattr(defaults, spec.name):
                continue
            flag = "--" + spec.name.replace("_", "-")
            if isinstance(value, bool):
                argv.append(flag if value else "--no-" + spec.name.replace("_", "-"))
            elif isinstance(value, list):
                argv.append(flag)
                argv.extend(str(item) for item in value)
            elif value is None:
                argv.append(flag + "=")
            else:
                argv.append(f"{flag}={value}")
        return argv

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> GatewaySettings:
        return cls.from_namespace(build_parser().parse_args(list(argv)))

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> GatewaySettings:
        values = {spec.name: getattr(namespace, spec.name) for spec in fields(cls)}
        return cls(**values)


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def _optional_str(text: str) -> str | None:
    return text or None


def build_parser() -> argparse.ArgumentParser:
    """The `flowql gateway` argument parser; every option maps onto one GatewaySettings field."""
    defaults = GatewaySettings()
    parser = argparse.ArgumentParser(prog="flowql gateway", description="Serve a Flow's topology to callers.")
    parser.add_argument("--name", default=defaults.name)
    parser.add_argument("--host", default=defaults.host, help="address to bind (default %(default)s)")
    parser.add_argument("--protocols", "--protocol", nargs="+", choices=PROTOCOLS, default=defaults.protocols)
    parser.add_argument("--ports", "--port", nargs="+", type=int, default=defaults.ports)
    parser.add_argument("--topology", default=defaults.topology, help="path of the topology document (JSON)")
    parser.add_argument("--prefetch", type=int, default=defaults.prefetch)
    parser.add_argument("--timeout-send-ms", type=_optional_int, default=defaults.timeout_send_ms)
    parser.add_argument("--retries", type=int, default=defaults.retries)
    parser.add_argument("--compression", type=_optional_str, default=defaults.compression)
    parser.add_argument("--cors-origins", nargs="*", default=defaults.cors_origins)
    parser.add_argument("--ssl-certfile", type=_optional_str, default=defaults.ssl_certfile)
    parser.add_argument("--ssl-keyfile", type=_optional_str, default=defaults.ssl_keyfile)
    parser.add_argument("--max-depth", type=int, default=defaults.max_depth)
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    parser.add_argument("--max-aliases", type=int, default=defaults.max_aliases)
    parser.add_argument("--introspection", action=argparse.BooleanOptionalAction, default=defaults.introspection)
    parser.add_argument("--max-body-size", type=int, default=defaults.max_body_size)
    parser.add_argument("--title", default=defaults.title)
    parser.add_argument("--static-dir", type=_optional_str, default=defaults.static_dir)
    return parser
