"""`FlowSettings`: the Flow's own settings, built from `Flow(...)` keywords or a YAML `with:` section.

Gateway keywords land on `flowql.app.settings.GatewaySettings` (the object the gateway process is
started with); the rest (`timeout_ready`, `env`) is about starting processes and stays here.
"""

from __future__ import annotations

import difflib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from flowql._exceptions import ConfigurationError
from flowql.app.settings import COMPRESSIONS, PROTOCOLS, GatewaySettings

__all__ = ["FlowSettings", "pick_free_ports"]

# Flow keyword -> GatewaySettings field, where the names differ (older seed spellings included).
_GATEWAY_ALIASES = {
    "port": "ports",
    "port_expose": "ports",
    "protocol": "protocols",
    "timeout_send": "timeout_send_ms",
    "cors": "cors_origins",
}
# The Flow writes the topology itself.
_FLOW_OWNED = {"topology"}
_DEFAULT_TIMEOUT_READY_MS = 600_000


@dataclass
class FlowSettings:
    """The gateway's settings plus how long to wait for processes and what environment they get."""

    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    # Milliseconds each process may take to become ready; -1 waits forever.
    timeout_ready: int = _DEFAULT_TIMEOUT_READY_MS
    # Environment variables for every process of the Flow (an executor's own env= wins).
    env: dict[str, str] = field(default_factory=dict)
    # Whether the ports came from the user (saved to YAML) or were picked free (not saved).
    ports_given: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FlowSettings:
        """Settings from `Flow(...)` keywords; unknown keys raise a ConfigurationError naming close matches."""
        gateway_fields = {spec.name for spec in fields(GatewaySettings)} - _FLOW_OWNED
        known = sorted(gateway_fields | set(_GATEWAY_ALIASES) | {"timeout_ready", "env"})
        gateway_values: dict[str, Any] = {}
        settings = cls()
        for key, value in options.items():
            if key == "timeout_ready":
                if isinstance(value, bool) or not isinstance(value, int) or (value < 0 and value != -1):
                    raise ConfigurationError(f"timeout_ready= is milliseconds (or -1 for no bound), got {value!r}")
                settings.timeout_ready = value
                continue
            if key == "env":
                if not isinstance(value, Mapping):
                    raise ConfigurationError(f"env= must be a dict of environment variables, got {value!r}")
                settings.env = {str(k): str(v) for k, v in value.items()}
                continue
            target = _GATEWAY_ALIASES.get(key, key)
            if target not in gateway_fields:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigurationError(f"unknown Flow option {key!r}{hint} Known options: {known}")
            if target in gateway_values:
                raise ConfigurationError(f"Flow option {target!r} given twice (once as {key!r}); keep one")
            gateway_values[target] = value
        protocols = _protocols(gateway_values.pop("protocols", ["grpc"]))
        ports_value = gateway_values.pop("ports", None)
        settings.ports_given = ports_value is not None
        ports = _ports(ports_value, len(protocols))
        if "compression" in gateway_values:
            gateway_values["compression"] = _compression(gateway_values["compression"])
        try:
            settings.gateway = GatewaySettings(protocols=protocols, ports=ports, **gateway_values)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"bad Flow gateway settings: {exc}") from exc
        return settings

    def to_options(self) -> dict[str, Any]:
        """The `Flow(...)` keywords that rebuild these settings (defaults and picked ports left out)."""
        options: dict[str, Any] = {}
        defaults = GatewaySettings()
        for spec in fields(GatewaySettings):
            if spec.name in _FLOW_OWNED or spec.name == "ports":
                continue
            value = getattr(self.gateway, spec.name)
            if value != getattr(defaults, spec.name):
                options[spec.name] = value
        if "protocols" in options:
            protocols = options.pop("protocols")
            options["protocol"] = protocols[0] if len(protocols) == 1 else protocols
        if self.ports_given:
            ports = self.gateway.ports
            options["port"] = ports[0] if len(ports) == 1 else list(ports)
        if "timeout_send_ms" in options:
            options["timeout_send"] = options.pop("timeout_send_ms")
        if self.timeout_ready != _DEFAULT_TIMEOUT_READY_MS:
            options["timeout_ready"] = self.timeout_ready
        if self.env:
            options["env"] = dict(self.env)
        return options


def _protocols(value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
    if not names or not all(isinstance(name, str) for name in names):
        raise ConfigurationError(f"protocol= takes one of {list(PROTOCOLS)} or a list of them, got {value!r}")
    lowered = [name.lower() for name in names]
    unknown = [name for name in lowered if name not in PROTOCOLS]
    if unknown:
        raise ConfigurationError(f"unknown protocol(s) {unknown}; choose from {list(PROTOCOLS)}")
    if len(set(lowered)) != len(lowered):
        raise ConfigurationError(f"protocol= lists a protocol twice: {lowered}")
    return lowered


def _ports(value: Any, count: int) -> list[int]:
    if value is None:
        # No port given: 0 here; the Flow picks free ports when it is built (see pick_free_ports).
        return [0] * count
    ports = [value] if isinstance(value, int) else list(value) if isinstance(value, list | tuple) else None
    if ports is None or not all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p < 65536 for p in ports):
        raise ConfigurationError(f"port= takes a port number or a list of them, got {value!r}")
    if len(ports) != count:
        raise ConfigurationError(f"{count} protocol(s) need {count} port(s), one each in the same order; got {ports}")
    return ports


def _compression(value: Any) -> str | None:
    if value is None or value == "":
        return None
    for name in COMPRESSIONS:
        if isinstance(value, str) and value.lower() == name.lower():
            return name
    raise ConfigurationError(f"compression= must be None or one of {list(COMPRESSIONS)}, got {value!r}")


def pick_free_ports(host: str, count: int) -> list[int]:
    """`count` distinct ports nothing listens on right now at `host` (the OS picks them)."""
    bind_host = "127.0.0.1" if host in ("localhost", "") else host
    sockets: list[socket.socket] = []
    try:
        # Hold every socket until all are picked, so the OS cannot hand out the same port twice.
        for _ in range(count):
            sock = socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((bind_host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
