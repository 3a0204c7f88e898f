"""The client's public names, and that `flowql.Client` is the same class."""

from __future__ import annotations

import flowql
import flowql.client


def test_the_client_package_exports_exactly_its_public_api() -> None:
    assert sorted(flowql.client.__all__) == ["AsyncClient", "Client", "ClientSettings", "Response", "RetryPolicy"]
    for name in flowql.client.__all__:
        assert getattr(flowql.client, name) is not None


def test_flowql_re_exports_the_clients_lazily() -> None:
    assert flowql.Client is flowql.client.Client
    assert flowql.AsyncClient is flowql.client.AsyncClient
