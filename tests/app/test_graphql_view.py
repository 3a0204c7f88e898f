"""GraphQL over real uvicorn: the third-party `gql` client (HTTP and WebSocket), both WebSocket
subprotocols, multipart HTTP subscriptions, and a subscriber that goes away."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from docarray import DocList
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from flowql.app.asgi import create_app
from flowql.app.settings import GatewaySettings
from flowql.documents import Document
from tests.app.asgi_harness import on_uvicorn
from tests.app.fake_streamer import FakeEndpoint, FakeExecutor, FakeStreamer


def shout(docs: DocList[Document], parameters: dict[str, Any]) -> None:
    for doc in docs:
        if doc.text == "boom":
            raise ValueError("boom is not allowed")
        doc.text = (doc.text or "").upper()


async def words(doc: Document, parameters: dict[str, Any]) -> Any:
    for word in (doc.text or "").split():
        yield Document(text=word)


def streamer() -> FakeStreamer:
    return FakeStreamer(
        [FakeExecutor("shouter", [FakeEndpoint("/shout", shout), FakeEndpoint("/words", words, streaming=True)])]
    )


SUBSCRIPTION = (
    'subscription { docs(data: [{text: "a"}, {text: "b"}, {text: "c"}], execEndpoint: "/shout", requestSize: 1) '
    "{ docs { text } progress { total } } }"
)


async def test_gql_http_transport_runs_a_mutation_with_variables() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        transport = HTTPXAsyncTransport(url=f"{base}/graphql")
        async with Client(transport=transport, fetch_schema_from_transport=True) as session:
            request = GraphQLRequest(
                'mutation ($d: [DocumentInput!]) { docs(data: $d, execEndpoint: "/shout") { text } }',
                variable_values={"d": [{"text": "hello"}, {"text": "world"}]},
            )
            result = await session.execute(request)
    assert result == {"docs": [{"text": "HELLO"}, {"text": "WORLD"}]}


async def test_gql_http_transport_raises_with_the_executor_error() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with Client(transport=HTTPXAsyncTransport(url=f"{base}/graphql")) as session:
            with pytest.raises(TransportQueryError) as caught:
                await session.execute(gql('mutation { docs(data: {text: "boom"}, execEndpoint: "/shout") { text } }'))
    (error,) = caught.value.errors or []
    assert error["extensions"]["executor"] == "shouter"
    assert error["extensions"]["exceptionType"] == "ValueError"
    assert caught.value.data == {"docs": []}


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_gql_websocket_transport_subscribes(subprotocol: str) -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        transport = WebsocketsTransport(url=url, subprotocols=[subprotocol])
        async with Client(transport=transport) as session:
            events = [event async for event in session.subscribe(gql(SUBSCRIPTION))]
    assert len(events) == 3
    assert sorted(event["docs"]["docs"][0]["text"] for event in events) == ["A", "B", "C"]
    assert all(event["docs"]["progress"]["total"] == 3 for event in events)


async def test_mutation_over_graphql_transport_ws_and_a_clear_refusal_over_legacy_graphql_ws() -> None:
    query = gql('mutation { docs(data: {text: "x"}, execEndpoint: "/shout") { text } }')
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with Client(transport=WebsocketsTransport(url=url, subprotocols=["graphql-transport-ws"])) as session:
            mutation = await session.execute(query)
        async with Client(transport=WebsocketsTransport(url=url, subprotocols=["graphql-ws"])) as session:
            with pytest.raises(TransportQueryError, match="mutations are not allowed"):
                await session.execute(query)
    assert mutation == {"docs": [{"text": "X"}]}


async def test_gql_websocket_streams_a_generator_endpoint() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        transport = WebsocketsTransport(url=base.replace("http://", "ws://") + "/graphql")
        async with Client(transport=transport) as session:
            query = gql('subscription { words(data: {text: "one two three"}) { text } }')
            events = [event["words"]["text"] async for event in session.subscribe(query)]
    assert events == ["one", "two", "three"]


async def test_multipart_http_subscription() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            async with client.stream(
                "POST",
                "/graphql",
                json={"query": SUBSCRIPTION},
                headers={"accept": 'multipart/mixed;subscriptionSpec="1.0",application/json'},
            ) as response:
                body = (await response.aread()).decode()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed")
    payloads = [json.loads(part[part.index("{") :]) for part in body.split("--graphql") if '"payload"' in part]
    texts = sorted(p["payload"]["data"]["docs"]["docs"][0]["text"] for p in payloads)
    assert texts == ["A", "B", "C"]


def _multipart_json_parts(body: str, boundary: str) -> list[Any]:
    """The JSON bodies of a multipart/mixed response, in order (the preamble and epilogue dropped)."""
    parts = body.split(f"\r\n--{boundary}")
    return [json.loads(part.split("\r\n\r\n", 1)[1]) for part in parts[1:] if "\r\n\r\n" in part]


async def test_subscription_posted_accepting_multipart_mixed_streams_plain_results() -> None:
    # GraphiQL's HTTP fetcher sends this Accept for every operation it has not yet parsed as a
    # subscription; it reads each part as an execution result (incremental-delivery framing).
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            async with client.stream(
                "POST",
                "/graphql",
                json={"query": SUBSCRIPTION},
                headers={"accept": "application/json, multipart/mixed"},
            ) as response:
                body = (await response.aread()).decode()
    assert response.status_code == 200
    assert response.headers["content-type"] == 'multipart/mixed; boundary="-"'
    parts = _multipart_json_parts(body, "-")
    events = [part for part in parts if "data" in part]
    assert sorted(event["data"]["docs"]["docs"][0]["text"] for event in events) == ["A", "B", "C"]
    assert all(event["hasNext"] is True and "errors" not in event for event in events)
    assert parts[-1] == {"hasNext": False}
    assert body.endswith("\r\n-----\r\n")


async def test_query_posted_accepting_multipart_mixed_gets_plain_json() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"accept": "application/json, multipart/mixed"},
            )
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_subscription_posted_for_one_json_answer_is_refused_with_a_clear_error() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(
                "/graphql", json={"query": SUBSCRIPTION}, headers={"accept": "application/json"}
            )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert "subscription" in error["message"] and "WebSocket" in error["message"]
    assert "multipart/mixed" in error["message"] and "text/event-stream" in error["message"]


async def test_server_sent_events_subscription() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            async with client.stream(
                "POST", "/graphql", json={"query": SUBSCRIPTION}, headers={"accept": "text/event-stream"}
            ) as response:
                body = (await response.aread()).decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [block.strip() for block in body.replace("\r\n", "\n").split("\n\n")]
    payloads = [json.loads(block.split("data: ", 1)[1]) for block in blocks if block.startswith("event: next")]
    assert sorted(p["data"]["docs"]["docs"][0]["text"] for p in payloads) == ["A", "B", "C"]
    assert "event: complete" in body


async def test_websocket_subscriber_going_away_cancels_the_work() -> None:
    gate = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow(docs: DocList[Document], parameters: dict[str, Any]) -> None:
        if docs[0].text == "t0":
            return
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    fake = FakeStreamer([FakeExecutor("slow", [FakeEndpoint("/slow", slow)])])
    data = ", ".join(f'{{text: "t{i}"}}' for i in range(10))
    query = f'subscription {{ docs(data: [{data}], execEndpoint: "/slow", requestSize: 1) {{ batch }} }}'
    async with on_uvicorn(create_app(fake, GatewaySettings(prefetch=2))) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["type"] == "next" and first["payload"]["data"] == {"docs": {"batch": 0}}
        # The socket is closed: the batches in flight are cancelled and no further batch is sent.
        await asyncio.wait_for(cancelled.wait(), 5)
        calls_after_close = fake.process_calls
        gate.set()
        # A later round trip gives a stray batch time to show up; the server still serves.
        async with httpx.AsyncClient(base_url=base) as client:
            status = await client.get("/status")
    assert status.status_code == 200
    # Batch 0 done, at most `prefetch` (2) more were in flight when the subscriber left; 10 were asked for.
    assert calls_after_close <= 3
    assert fake.process_calls == calls_after_close
