"""End to end: a real `flowql gateway` process serving the app on uvicorn, a real `flowql executor`
process behind it, and real clients (httpx, gql over HTTP and WebSocket, websockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from flowql.app.settings import GatewaySettings
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import new_request
from flowql.topology import ExecutorNode, Topology
from tests.app.gateway_processes import start_executor, start_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT) of a gateway in front of one GraphQLPlayground executor."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    executor, address = start_executor("play", "tests.app.graphql_executors:GraphQLPlayground", tmp_path)
    gateway_process = None
    try:
        topology = tmp_path / "topology.json"
        Topology(nodes=[ExecutorNode(name="play", needs=["gateway"], shards=[[address]])], end=["play"]).save(topology)
        settings = GatewaySettings(host="127.0.0.1", protocols=["http"], ports=[0], topology=str(topology), prefetch=2)
        gateway_process, urls = start_gateway(settings, tmp_path)
        yield urls[0].rstrip("/")
    finally:
        if gateway_process is not None:
            assert gateway_process.stop() == 0, gateway_process.stderr()
        executor.stop()


def ws_url(base: str, path: str = "/graphql") -> str:
    return base.replace("http://", "ws://") + path


async def test_seeds_mutation_over_http(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as client:
        response = await client.post(
            "/graphql", json={"query": 'mutation { docs(data: {text: "abcd"}) { id matches { embedding } } }'}
        )
    body = response.json()
    assert "errors" not in body, body
    (doc,) = body["data"]["docs"]
    assert len(doc["id"]) == 32
    assert doc["matches"] == [{"embedding": [0.5, 0.25]}]


async def test_typed_endpoint_with_embedding_through_gql(gateway: str) -> None:
    async with Client(transport=HTTPXAsyncTransport(url=f"{gateway}/graphql"), fetch_schema_from_transport=True) as s:
        request = GraphQLRequest(
            "mutation ($d: [PassageInput!]!) { embed(data: $d) { id text embedding } }",
            variable_values={"d": [{"text": "hello", "id": "p1"}]},
        )
        result = await s.execute(request)
    assert result == {"embed": [{"id": "p1", "text": "hello", "embedding": [5.0, 1.0, 0.0]}]}


async def test_generator_subscription_first_event_before_the_generator_finishes(gateway: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    query = gql(
        'subscription ($gate: JSON) { generate(data: {prompt: "one two three"}, parameters: $gate) { text index } }'
    )
    query.variable_values = {"gate": {"gate": str(gate)}}
    received = []
    async with Client(transport=WebsocketsTransport(url=ws_url(gateway))) as session:
        async for event in session.subscribe(query):
            received.append(event["generate"])
            if len(received) == 1:
                # The generator is now waiting for the gate: this first event came before it finished.
                gate.touch()
    assert received == [{"text": "one", "index": 0}, {"text": "two", "index": 1}, {"text": "three", "index": 2}]


async def test_ten_batches_make_ten_events(gateway: str) -> None:
    data = [{"text": f"t{i}"} for i in range(10)]
    query = gql(
        'subscription ($d: [DocumentInput!]) { docs(data: $d, execEndpoint: "/check", requestSize: 1) '
        "{ docs { text } progress { done total } } }"
    )
    query.variable_values = {"d": data}
    async with Client(transport=WebsocketsTransport(url=ws_url(gateway), subprotocols=["graphql-transport-ws"])) as s:
        events = [event["docs"] async for event in s.subscribe(query)]
    assert len(events) == 10
    assert [event["progress"]["done"] for event in events] == list(range(1, 11))
    assert sorted(event["docs"][0]["text"] for event in events) == sorted(f"T{i}" for i in range(10))


async def test_executor_error_mid_subscription_names_the_executor_and_the_rest_arrive(gateway: str) -> None:
    query = {
        "query": 'subscription { docs(data: [{text: "a"}, {text: "boom"}, {text: "c"}], '
        'execEndpoint: "/check", requestSize: 1) { docs { text } } }'
    }
    messages = []
    async with websockets.connect(ws_url(gateway), subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "s", "payload": query}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "complete":
                break
            messages.append(message)
    payloads = [message["payload"] for message in messages]
    errors = [payload["errors"][0] for payload in payloads if payload.get("errors")]
    texts = sorted(payload["data"]["docs"]["docs"][0]["text"] for payload in payloads if not payload.get("errors"))
    assert texts == ["A", "C"]
    (error,) = errors
    assert error["extensions"]["executor"] == "play"
    assert error["extensions"]["exceptionType"] == "ValueError"
    assert error["extensions"]["message"] == "boom is not allowed"


async def test_mutation_with_a_failed_batch_keeps_partial_data(gateway: str) -> None:
    async with Client(transport=HTTPXAsyncTransport(url=f"{gateway}/graphql")) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(
                gql(
                    'mutation { docs(data: [{text: "a"}, {text: "boom"}], execEndpoint: "/check", requestSize: 1) '
                    "{ text } }"
                )
            )
    assert caught.value.data == {"docs": [{"text": "A"}]}
    assert (caught.value.errors or [{}])[0]["extensions"]["documentIds"]


async def test_subscriber_going_away_stops_the_work(gateway: str, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    log.touch()
    data = ", ".join(f'{{text: "t{i}"}}' for i in range(10))
    query = {
        "query": f'subscription ($p: JSON) {{ docs(data: [{data}], execEndpoint: "/slow", requestSize: 1, '
        "parameters: $p) { batch } }",
        "variables": {"p": {"log": str(log), "delay": 0.3}},
    }
    async with websockets.connect(ws_url(gateway), subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "s", "payload": query}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "next", first
    # Not a readiness wait: the time another 5 batches (0.3 s each, 2 at once) would have taken
    # had the work gone on after the subscriber left.
    await asyncio.sleep(1.5)
    calls = log.read_text().split()
    assert 1 <= len(calls) <= 3, calls


async def test_subscriber_leaving_a_generator_stops_it(gateway: str, tmp_path: Path) -> None:
    gate, log = tmp_path / "gate", tmp_path / "tokens.log"
    query = {
        "query": 'subscription ($p: JSON) { generate(data: {prompt: "a b c d e f"}, parameters: $p) { text } }',
        "variables": {"p": {"gate": str(gate), "log": str(log)}},
    }
    async with websockets.connect(ws_url(gateway), subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "g", "payload": query}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["payload"]["data"] == {"generate": {"text": "a"}}
    gate.touch()  # the generator may take one more step; a cancelled call gives it no further ones
    # Not a readiness wait: the time the remaining tokens would take to show up in the log.
    await asyncio.sleep(1.0)
    assert log.read_text().split() in (["a"], ["a", "b"])


async def test_post_status_dry_run_metrics_and_graphiql(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as client:
        post = (await client.post("/post", json={"data": [{"text": "x"}], "execEndpoint": "/check"})).json()
        status = (await client.get("/status")).json()
        dry_run = await client.get("/dry_run")
        metrics = (await client.get("/metrics")).text
        graphiql = await client.get("/graphql", headers={"accept": "text/html"})
    assert post["data"][0]["text"] == "X" and post["header"]["status"]["code"] == 0
    assert status["executors"][0]["name"] == "play"
    assert dry_run.status_code == 200 and dry_run.json()["executors"] == {"play": True}
    assert 'flowql_executor_seconds_count{executor="play"}' in metrics
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


async def test_data_request_websocket(gateway: str) -> None:
    async with websockets.connect(ws_url(gateway, "/ws")) as ws:
        await ws.send(
            new_request("/check", docs=encode_docs([Document(text="ws")]), request_id="w1").SerializeToString()
        )
        frame: Any = await asyncio.wait_for(ws.recv(), 10)
        await ws.send(b"")
    response = DataRequest()
    response.ParseFromString(frame)
    assert response.header.request_id == "w1"
    assert decode_docs(response.docs, Document)[0].text == "WS"
