"""`ClientSettings`: where the gateway is and how to talk to it, parsed once from `Client(...)` arguments.

The address can come as keywords (`host`, `port`, `protocol`, `tls`) or as a URI in `host`
(`grpc://`, `grpcs://`, `http://`, `https://`, `ws://`, `wss://`), or a mix where they do not
overlap. Two sources that disagree (`host='https://h:1234', port=4321`) are refused: there must be
one source of truth.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from flowql._exceptions import ConfigurationError

__all__ = ["ClientSettings", "Protocol", "PROTOCOLS"]

Protocol = Literal["grpc", "http", "websocket"]
PROTOCOLS: tuple[Protocol, ...] = ("grpc", "http", "websocket")

# URI scheme -> (protocol, tls)
_SCHEMES: dict[str, tuple[Protocol, bool]] = {
    "grpc": ("grpc", False),
    "grpcs": ("grpc", True),
    "http": ("http", False),
    "https": ("http", True),
    "ws": ("websocket", False),
    "wss": ("websocket", True),
}
_PROTOCOL_ALIASES: dict[str, Protocol] = {"grpc": "grpc", "http": "http", "websocket": "websocket", "ws": "websocket"}
# A server bound to every interface is reached on loopback from the same machine.
_WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True)
class ClientSettings:
    """The gateway's address and the connection options of one client."""

    host: str = "127.0.0.1"
    port: int = 0
    protocol: Protocol = "grpc"
    tls: bool = False
    # URL path prefix for HTTP and WebSocket routes (a gateway behind a reverse proxy), no trailing '/'.
    base_path: str = ""
    # PEM file of the certificate authorities to trust for TLS; None means the system's.
    root_certificates: str | None = None
    # Sent with every call: gRPC metadata, HTTP and WebSocket handshake headers.
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_arguments(
        cls,
        host: str = "0.0.0.0",
        port: int | str | None = None,
        protocol: str | None = None,
        tls: bool | None = None,
        *,
        root_certificates: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientSettings:
        """Resolve `Client(...)` arguments, raising ConfigurationError where two sources disagree."""
        url_protocol: Protocol | None = None
        url_tls: bool | None = None
        base_path = ""
        if "://" in host:
            parts = urlsplit(host)
            scheme = parts.scheme.lower()
            if scheme not in _SCHEMES:
                raise ConfigurationError(f"unknown scheme {scheme!r} in host {host!r}; use one of {sorted(_SCHEMES)}")
            url_protocol, url_tls = _SCHEMES[scheme]
            host_part, url_port = parts.hostname or "", parts.port
            base_path = parts.path.rstrip("/")
        else:
            host_part, url_port = _split_host_port(host)
        resolved_port = _merge("port", url_port, _port_number(port), host)
        chosen_protocol = _protocol_name(protocol) if protocol is not None else None
        resolved_protocol: Protocol = _merge("protocol", url_protocol, chosen_protocol, host) or "grpc"
        resolved_tls = bool(_merge("tls", url_tls, tls, host))
        if resolved_port is None:
            if resolved_protocol == "grpc" and not resolved_tls:
                raise ConfigurationError(
                    f"no port for the gRPC gateway at {host!r}: pass port=... or host='grpc://host:port'"
                )
            resolved_port = 443 if resolved_tls else 80
        return cls(
            host=_WILDCARD_HOSTS.get(host_part, host_part),
            port=resolved_port,
            protocol=resolved_protocol,
            tls=resolved_tls,
            base_path=base_path,
            root_certificates=root_certificates,
            headers=dict(headers or {}),
        )

    @property
    def address(self) -> str:
        """`host:port`, IPv6 hosts bracketed: the gRPC target and the netloc of URLs."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def uri(self) -> str:
        """The address as a URI whose scheme says the protocol and TLS, e.g. `grpcs://h:443`."""
        scheme = {"grpc": "grpc", "http": "http", "websocket": "ws"}[self.protocol] + ("s" if self.tls else "")
        return f"{scheme}://{self.address}{self.base_path}"

    def http_url(self, path: str) -> str:
        """URL of an HTTP route of the gateway (GraphQL, /post, /dry_run), whatever the client's protocol."""
        return f"{'https' if self.tls else 'http'}://{self.address}{self.base_path}{path}"

    def ws_url(self, path: str) -> str:
        """URL of a WebSocket route of the gateway."""
        return f"{'wss' if self.tls else 'ws'}://{self.address}{self.base_path}{path}"

    def ssl_context(self) -> ssl.SSLContext:
        """What HTTP and WebSocket connections verify TLS with: `root_certificates` or the system's CAs."""
        return ssl.create_default_context(cafile=self.root_certificates)


def _split_host_port(host: str) -> tuple[str, int | None]:
    if host.startswith("["):  # [::1]:8080
        closing = host.find("]")
        rest = host[closing + 1 :]
        return host[1:closing], _port_number(rest[1:]) if rest.startswith(":") else None
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, _port_number(port)
    return host, None  # a bare name, or an IPv6 literal without a port


def _port_number(port: int | str | None) -> int | None:
    if port is None:
        return None
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise ConfigurationError(f"port must be a number, got {port!r}") from None
    if not 0 < number < 65536:
        raise ConfigurationError(f"port must be between 1 and 65535, got {number}")
    return number


def _protocol_name(protocol: str) -> Protocol:
    name = _PROTOCOL_ALIASES.get(str(protocol).lower())
    if name is None:
        raise ConfigurationError(f"unknown protocol {protocol!r}; use one of {list(PROTOCOLS)}")
    return name


def _merge(what: str, from_url: Any, from_keyword: Any, host: str) -> Any:
    """One value from the URI in `host` or from the keyword; both set and different is an error."""
    if from_url is not None and from_keyword is not None and from_url != from_keyword:
        raise ConfigurationError(
            f"host {host!r} already sets {what}={from_url!r}, which conflicts with {what}={from_keyword!r}: "
            f"give {what} in one place only"
        )
    return from_url if from_url is not None else from_keyword
