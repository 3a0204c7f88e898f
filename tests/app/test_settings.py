from __future__ import annotations

import pytest

from flowql.app.settings import GatewaySettings


def test_defaults_round_trip_through_argv() -> None:
    assert GatewaySettings.from_argv(GatewaySettings().to_argv()) == GatewaySettings()


def test_every_field_round_trips_through_argv() -> None:
    settings = GatewaySettings(
        name="gw",
        host="127.0.0.1",
        protocols=["http", "grpc"],
        ports=[8080, 0],
        topology="/tmp/t.json",
        prefetch=0,
        timeout_send_ms=250,
        retries=1,
        compression="Gzip",
        cors_origins=["http://a.example", "http://b.example"],
        ssl_certfile="/c.pem",
        ssl_keyfile="/k.pem",
        max_depth=5,
        max_tokens=100,
        max_aliases=2,
        introspection=False,
        max_body_size=1024,
        title="t",
        static_dir="/web",
    )
    assert GatewaySettings.from_argv(settings.to_argv()) == settings


def test_unknown_protocol_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown protocol.*graphql"):
        GatewaySettings(protocols=["graphql"], ports=[0])


def test_ports_must_match_protocols() -> None:
    with pytest.raises(ValueError, match="need as many ports"):
        GatewaySettings(protocols=["http", "grpc"], ports=[8080])


def test_bad_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="compression"):
        GatewaySettings(compression="zstd")
