"""FlowSettings: `Flow(...)` keywords mapped onto GatewaySettings plus process settings."""

from __future__ import annotations

import socket

import pytest

from flowql import ConfigurationError
from flowql.graph import FlowSettings
from flowql.graph.settings import pick_free_ports


def test_port_expose_is_an_alias_of_port():
    settings = FlowSettings.from_options({"port_expose": 12345})
    assert settings.gateway.ports == [12345]
    assert settings.ports_given


def test_protocol_list_needs_one_port_each():
    settings = FlowSettings.from_options({"protocol": ["HTTP", "grpc"], "port": [1, 2]})
    assert settings.gateway.protocols == ["http", "grpc"]
    assert settings.gateway.ports == [1, 2]
    with pytest.raises(ConfigurationError, match="2 protocol"):
        FlowSettings.from_options({"protocol": ["http", "grpc"], "port": 8080})


def test_unknown_protocol_names_the_choices():
    with pytest.raises(ConfigurationError, match="choose from"):
        FlowSettings.from_options({"protocol": "graphql"})


def test_gateway_keywords_land_on_gateway_settings():
    settings = FlowSettings.from_options(
        {"host": "127.0.0.1", "prefetch": 3, "timeout_send": 250, "retries": 1, "compression": "gzip", "name": "gw"}
    )
    gateway = settings.gateway
    assert (gateway.host, gateway.prefetch, gateway.timeout_send_ms, gateway.retries) == ("127.0.0.1", 3, 250, 1)
    assert (gateway.compression, gateway.name) == ("Gzip", "gw")


def test_bad_compression_is_refused():
    with pytest.raises(ConfigurationError, match="Gzip"):
        FlowSettings.from_options({"compression": "zip"})


def test_unknown_option_suggests_the_close_one():
    with pytest.raises(ConfigurationError, match="did you mean 'prefetch'"):
        FlowSettings.from_options({"prefech": 2})


def test_timeout_ready_and_env():
    settings = FlowSettings.from_options({"timeout_ready": -1, "env": {"A": 1}})
    assert settings.timeout_ready == -1
    assert settings.env == {"A": "1"}
    with pytest.raises(ConfigurationError, match="milliseconds"):
        FlowSettings.from_options({"timeout_ready": -5})


def test_to_options_round_trips():
    options = {"protocol": ["grpc", "http"], "port": [1, 2], "prefetch": 5, "timeout_send": 100, "env": {"A": "1"}}
    settings = FlowSettings.from_options(options)
    assert FlowSettings.from_options(settings.to_options()) == settings


def test_picked_ports_are_free_and_distinct():
    ports = pick_free_ports("127.0.0.1", 3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
