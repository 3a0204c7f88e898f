"""Client addresses: URI forms, keywords, a mix of both, and conflicts refused with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from flowql import AsyncClient, Client, ConfigurationError
from flowql.client import ClientSettings


@pytest.mark.parametrize(
    ("host", "protocol", "tls", "port"),
    [
        ("grpc://my.flow:1234", "grpc", False, 1234),
        ("grpcs://my.flow:1234", "grpc", True, 1234),
        ("http://my.flow:1234", "http", False, 1234),
        ("https://my.flow:1234", "http", True, 1234),
        ("ws://my.flow:1234", "websocket", False, 1234),
        ("wss://my.flow:1234", "websocket", True, 1234),
    ],
)
def test_uri_in_host_sets_protocol_tls_and_port(host: str, protocol: str, tls: bool, port: int) -> None:
    settings = ClientSettings.from_arguments(host)
    assert (settings.host, settings.port, settings.protocol, settings.tls) == ("my.flow", port, protocol, tls)


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
@pytest.mark.parametrize("tls", [False, True])
def test_keywords_set_the_same_address(protocol: str, tls: bool) -> None:
    settings = ClientSettings.from_arguments("my.flow", 1234, protocol, tls)
    assert (settings.host, settings.port, settings.protocol, settings.tls) == ("my.flow", 1234, protocol, tls)


def test_uri_and_keywords_mix_when_they_do_not_overlap() -> None:
    mixed = ClientSettings.from_arguments("https://my.flow", port=1234)
    assert (mixed.protocol, mixed.tls, mixed.port) == ("http", True, 1234)
    host_port = ClientSettings.from_arguments("my.flow:1234", protocol="http", tls=True)
    assert host_port.uri == "https://my.flow:1234"


@pytest.mark.parametrize(
    "arguments",
    [
        {"host": "https://my.flow:1234", "port": 4321},
        {"host": "https://my.flow:1234", "protocol": "grpc"},
        {"host": "http://my.flow:1234", "tls": True},
        {"host": "my.flow:1234", "port": 1},
    ],
)
def test_conflicting_sources_raise_a_clear_error(arguments: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="conflicts with"):
        Client(**arguments)


def test_default_host_connects_to_loopback_over_grpc() -> None:
    with Client(port=5555) as client:
        assert (client.host, client.port, client.protocol, client.tls) == ("127.0.0.1", 5555, "grpc", False)


def test_unknown_scheme_protocol_or_bad_port_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown scheme"):
        ClientSettings.from_arguments("ftp://my.flow:1")
    with pytest.raises(ConfigurationError, match="unknown protocol"):
        ClientSettings.from_arguments("my.flow", 1, "smtp")
    with pytest.raises(ConfigurationError, match="between 1 and 65535"):
        ClientSettings.from_arguments("my.flow", 70000)
    with pytest.raises(ConfigurationError, match="no port"):
        ClientSettings.from_arguments("my.flow")


def test_https_without_port_uses_443_and_urls_follow_the_address() -> None:
    settings = ClientSettings.from_arguments("https://my.flow/prefix/")
    assert settings.port == 443
    assert settings.http_url("/graphql") == "https://my.flow:443/prefix/graphql"
    assert settings.ws_url("/graphql") == "wss://my.flow:443/prefix/graphql"
    ipv6 = ClientSettings.from_arguments("[::1]:8080", protocol="http")
    assert ipv6.http_url("/post") == "http://[::1]:8080/post"


def test_asyncio_true_gives_an_async_client() -> None:
    client = Client(port=5555, asyncio=True)
    assert isinstance(client, AsyncClient)
    assert client.settings.port == 5555


def test_port_expose_is_accepted_as_the_old_name_of_port() -> None:
    with Client(port_expose=4444) as client:
        assert client.port == 4444
