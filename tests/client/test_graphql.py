"""mutate() over POST /graphql and subscribe() over graphql-transport-ws, against real uvicorn + strawberry."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from flowql import AsyncClient, Client, GraphQLResponseError, ServiceUnavailable
from tests.client.conftest import HttpStub
from tests.client.stub_gateway import StubGateway
from tests.client.stub_http import SubscriptionLog, build_app, serve_in_thread
from tests.client.test_pipeline import closed_port


@pytest.mark.parametrize("protocol", ["http", "websocket", "grpc"])
def test_mutate_returns_the_response_body_whatever_the_protocol(protocol: str, http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol=protocol) as client:
        body = client.mutate("mutation ($t: String!) { upper(text: $t) }", variables={"t": "abc"})
        query = client.mutate('{ hello(name: "you") }', headers={"x-test": "1"})
    assert body == {"data": {"upper": "ABC"}}
    assert query["data"] == {"hello": "hello you"}
    assert http_stub.log.headers[-1]["x-test"] == "1"


def test_mutate_raises_graphql_errors_with_the_partial_data(http_stub: HttpStub) -> None:
    with Client(host=f"http://127.0.0.1:{http_stub.port}") as client:
        with pytest.raises(GraphQLResponseError, match="broken on purpose") as caught:
            client.mutate('mutation { broken a: upper(text: "x") }')
        with pytest.raises(GraphQLResponseError, match="Cannot query field"):
            client.mutate("mutation { nope }")
    assert caught.value.data == {"broken": None, "a": "X"}
    assert caught.value.errors[0]["path"] == ["broken"]


def test_mutate_without_a_server_raises_service_unavailable() -> None:
    port = closed_port()
    with Client(port=port, protocol="http") as client:
        with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port}"):
            client.mutate('{ hello(name: "x") }')


def test_subscribe_yields_every_event_then_ends(http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol="http") as client:
        events = list(client.subscribe("subscription ($n: Int!) { count(to: $n) }", variables={"n": 5}))
    assert events == [{"data": {"count": value}} for value in range(5)]


def test_breaking_out_of_a_subscription_stops_it_on_the_server(http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol="http") as client:
        for event in client.subscribe("subscription { count(to: 1000, delay: 0.01) }"):
            if event["data"]["count"] == 2:
                break  # the loop drops the iterator, which closes it: `complete`, then the socket
        assert http_stub.log.stopped.wait(10), "the server kept the subscription running"
    assert len(http_stub.log.sent) < 1000


def test_subscription_errors_raise_graphql_response_error(http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol="http") as client:
        with pytest.raises(GraphQLResponseError, match="Cannot query field"):
            list(client.subscribe("subscription { nope }"))


async def test_async_client_mutates_and_subscribes(http_stub: HttpStub) -> None:
    async with AsyncClient(host=f"ws://127.0.0.1:{http_stub.port}") as client:
        assert (await client.mutate('mutation { upper(text: "q") }'))["data"] == {"upper": "Q"}
        async with contextlib.aclosing(client.subscribe("subscription { count(to: 1000, delay: 0.01) }")) as events:
            seen = []
            async for event in events:
                seen.append(event["data"]["count"])
                if len(seen) == 3:
                    break
    assert seen == [0, 1, 2]
    assert http_stub.log.stopped.wait(10)


def test_graphql_over_tls(tls_files: tuple[Path, Path]) -> None:
    log = SubscriptionLog()
    with serve_in_thread(build_app(StubGateway(), log), tls=tls_files) as port:
        with Client(host=f"https://127.0.0.1:{port}", root_certificates=str(tls_files[0])) as client:
            assert client.mutate('mutation { upper(text: "s") }')["data"] == {"upper": "S"}
            assert [e["data"]["count"] for e in client.subscribe("subscription { count(to: 2) }")] == [0, 1]
