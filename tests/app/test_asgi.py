"""The Starlette app over HTTP, in process (httpx.ASGITransport, lifespan entered by hand)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from docarray import DocList

from flowql.app.asgi import create_app
from flowql.app.settings import GatewaySettings
from flowql.documents import Document
from tests.app.asgi_harness import in_process
from tests.app.fake_streamer import FakeEndpoint, FakeExecutor, FakeStreamer


def shout(docs: DocList[Document], parameters: dict[str, Any]) -> Any:
    for doc in docs:
        doc.text = (doc.text or "").upper()
        if doc.text == "BOOM":
            raise RuntimeError("no booms")
    return {"seen": len(docs)} if parameters.get("report") else None


def streamer() -> FakeStreamer:
    return FakeStreamer([FakeExecutor("shouter", [FakeEndpoint("/shout", shout)], has_default=True)])


MUTATION = 'mutation { docs(data: {text: "abc"}, execEndpoint: "/shout") { text } }'


async def test_post_graphql_runs_a_mutation() -> None:
    async with in_process(streamer()) as client:
        response = await client.post("/graphql", json={"query": MUTATION})
    assert response.status_code == 200
    assert response.json() == {"data": {"docs": [{"text": "ABC"}]}}


async def test_get_graphql_runs_queries_but_refuses_mutations() -> None:
    async with in_process(streamer()) as client:
        query = await client.get("/graphql", params={"query": "{ executors { name } }"})
        mutation = await client.get("/graphql", params={"query": MUTATION})
    assert query.json() == {"data": {"executors": [{"name": "shouter"}]}}
    assert mutation.status_code in (400, 405)


async def test_graphiql_is_served_to_browsers_with_the_gateway_title() -> None:
    async with in_process(streamer(), GatewaySettings(title="Text search")) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "<title>Text search · GraphiQL</title>" in response.text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "query=" + MUTATION),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=query\r\n\r\nq\r\n--x--"),
        ("text/plain", '{"query": "mutation { docs { id } }"}'),
    ],
)
async def test_form_posts_are_refused_against_csrf(content_type: str, body: str) -> None:
    fake = streamer()
    async with in_process(fake) as client:
        response = await client.post("/graphql", content=body, headers={"content-type": content_type})
        post = await client.post("/post", content=body, headers={"content-type": content_type})
    assert response.status_code == 415 and post.status_code == 415
    message = response.json()["errors"][0]["message"]
    assert "application/json" in message and "CSRF" in message
    assert fake.process_calls == 0


async def test_body_over_the_limit_gets_413() -> None:
    settings = GatewaySettings(max_body_size=1000)
    async with in_process(streamer(), settings) as client:
        big = '{"query": "' + "x" * 2000 + '"}'
        response = await client.post("/graphql", content=big, headers={"content-type": "application/json"})

        async def chunks() -> Any:  # no content-length: the limit applies while the body streams in
            for _ in range(5):
                yield b" " * 400

        streamed = await client.post("/post", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["errors"][0]["message"]
    assert streamed.status_code == 413


async def test_query_depth_limit_refuses_deep_queries() -> None:
    async with in_process(streamer(), GatewaySettings(max_depth=3)) as client:
        deep = "{ docs { matches { matches { matches { id } } } } }"
        shallow = "{ docs { matches { id } } }"
        refused = (await client.post("/graphql", json={"query": deep})).json()
        allowed = (await client.post("/graphql", json={"query": shallow})).json()
    assert "exceeds maximum operation depth of 3" in refused["errors"][0]["message"]
    assert "errors" not in allowed


async def test_token_limit_refuses_long_documents() -> None:
    async with in_process(streamer(), GatewaySettings(max_tokens=20)) as client:
        query = "{ " + " ".join(f"a{i}: executors {{ name }}" for i in range(10)) + " }"
        body = (await client.post("/graphql", json={"query": query})).json()
    assert "more than 20 tokens" in body["errors"][0]["message"]


async def test_alias_limit_refuses_many_aliases() -> None:
    async with in_process(streamer(), GatewaySettings(max_aliases=2)) as client:
        query = "{ a: executors { name } b: executors { name } c: executors { name } }"
        body = (await client.post("/graphql", json={"query": query})).json()
    assert "3 aliases found. Allowed: 2" in body["errors"][0]["message"]


async def test_introspection_can_be_switched_off() -> None:
    query = "{ __schema { queryType { name } } }"
    async with in_process(streamer()) as client:
        on = (await client.post("/graphql", json={"query": query})).json()
    async with in_process(streamer(), GatewaySettings(introspection=False)) as client:
        off = (await client.post("/graphql", json={"query": query})).json()
    assert on == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "introspection" in off["errors"][0]["message"].lower()


async def test_post_route_processes_one_batch_as_json() -> None:
    body = {
        "data": [{"text": "a", "id": "d1", "blob": base64.b64encode(b"\x00\x01").decode(), "embedding": [[1, 2]]}],
        "execEndpoint": "/shout",
        "parameters": {"report": True},
        "requestId": "req-1",
    }
    async with in_process(streamer()) as client:
        response = await client.post("/post", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["header"]["requestId"] == "req-1"
    assert answer["header"]["execEndpoint"] == "/shout"
    assert answer["header"]["status"] == {"code": 0, "description": "", "exception": None}
    (doc,) = answer["data"]
    assert doc["id"] == "d1" and doc["text"] == "A"
    assert base64.b64decode(doc["blob"]) == b"\x00\x01"
    assert np.asarray(doc["embedding"]).shape == (1, 2)
    assert answer["parameters"]["report"] is True
    assert answer["parameters"]["__results__"] == {"shouter": {"seen": 1}}
    assert [route["executor"] for route in answer["routes"]] == ["shouter"]


async def test_post_route_reports_executor_errors_in_the_status() -> None:
    async with in_process(streamer()) as client:
        answer = (await client.post("/post", json={"data": [{"text": "boom"}], "execEndpoint": "/shout"})).json()
    status = answer["header"]["status"]
    assert status["code"] == 1
    assert status["exception"]["executor"] == "shouter"
    assert status["exception"]["exceptionType"] == "RuntimeError"
    assert status["exception"]["message"] == "no booms"


async def test_post_route_refuses_bad_documents_with_400() -> None:
    async with in_process(streamer()) as client:
        not_json = await client.post("/post", content=b"{", headers={"content-type": "application/json"})
        unknown = await client.post("/post", json={"data": [{"txt": "a"}]})
        wrong = await client.post("/post", json={"data": [{"text": 5}]})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["errors"][0]["message"]
    assert unknown.status_code == 400 and "no field 'txt'" in unknown.json()["errors"][0]["message"]
    assert wrong.status_code == 400 and "'text'" in wrong.json()["errors"][0]["message"]


async def test_status_and_dry_run_describe_the_flow() -> None:
    async with in_process(streamer(), GatewaySettings(name="gw", protocols=["http"])) as client:
        status = (await client.get("/status")).json()
        dry_run = await client.get("/dry_run")
    assert status["name"] == "gw" and status["protocols"] == ["http"]
    assert status["executors"][0]["name"] == "shouter" and status["executors"][0]["health"] == "SERVING"
    assert dry_run.status_code == 200
    assert dry_run.json() == {"code": 0, "description": "every executor is reachable", "executors": {"shouter": True}}


async def test_dry_run_names_unreachable_executors_with_503() -> None:
    class HalfDown(FakeStreamer):
        async def dry_run(self) -> dict[str, bool]:
            return {"shouter": False}

    async with in_process(HalfDown([FakeExecutor("shouter", [FakeEndpoint("/shout", shout)])])) as client:
        response = await client.get("/dry_run")
    assert response.status_code == 503
    assert response.json()["code"] == 1 and "shouter" in response.json()["description"]


async def test_metrics_count_requests_and_executor_latency_and_errors() -> None:
    async with in_process(streamer()) as client:
        await client.post("/graphql", json={"query": MUTATION})
        await client.post("/post", json={"data": [{"text": "boom"}], "execEndpoint": "/shout"})
        text = (await client.get("/metrics")).text
    assert 'flowql_http_requests_total{method="POST",route="/graphql",status="200"} 1.0' in text
    assert 'flowql_executor_seconds_count{executor="shouter"} 2.0' in text
    assert 'flowql_executor_errors_total{exception_type="RuntimeError",executor="shouter"} 1.0' in text
    assert "flowql_http_requests_in_flight" in text


async def test_metrics_registries_are_per_app() -> None:
    async with in_process(streamer()) as first:
        await first.post("/graphql", json={"query": MUTATION})
        async with in_process(streamer()) as second:
            text = (await second.get("/metrics")).text
    assert 'route="/graphql"' not in text


async def test_cors_origins_from_settings() -> None:
    settings = GatewaySettings(cors_origins=["https://app.example"])
    async with in_process(streamer(), settings) as client:
        allowed = await client.options(
            "/graphql",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        other = await client.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_static_files_are_served_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>flowql page</h1>")
    async with in_process(streamer(), GatewaySettings(static_dir=str(tmp_path))) as client:
        page = await client.get("/")
        graphql = await client.post("/graphql", json={"query": "{ executors { name } }"})
    assert page.status_code == 200 and "flowql page" in page.text
    assert graphql.json() == {"data": {"executors": [{"name": "shouter"}]}}


async def test_colliding_endpoints_fail_the_app_start() -> None:
    from docarray import BaseDoc

    class In(BaseDoc):
        text: str = ""

    fake = FakeStreamer([FakeExecutor("a", [FakeEndpoint("/a/b", shout, In, In), FakeEndpoint("/a_b", shout, In, In)])])
    app = create_app(fake, GatewaySettings())
    with pytest.raises(Exception, match="'/a/b' and endpoint '/a_b'"):
        async with app.router.lifespan_context(app):
            pass


async def test_endpoint_with_an_unreadable_schema_is_served_untyped(caplog: pytest.LogCaptureFixture) -> None:
    from docarray import BaseDoc

    class Shout(BaseDoc):
        text: str = ""

    class Unreadable(FakeStreamer):
        async def endpoints(self) -> list[dict[str, Any]]:
            records = await super().endpoints()
            for record in records:
                record["input_schema"] = '{"$ref": "#/$defs/Missing"}'
            return records

    fake = Unreadable([FakeExecutor("a", [FakeEndpoint("/shout", shout, Shout, Shout)])])
    async with in_process(fake) as client:
        posted = await client.post("/post", json={"data": [{"text": "abc"}], "execEndpoint": "/shout"})
        typed = await client.post("/graphql", json={"query": 'mutation { shout(data: [{text: "x"}]) { text } }'})
        generic = await client.post("/graphql", json={"query": MUTATION})
    assert posted.status_code == 200 and [doc["text"] for doc in posted.json()["data"]] == ["ABC"]
    assert "errors" in typed.json()  # no typed field for it
    assert generic.json() == {"data": {"docs": [{"text": "ABC"}]}}
    assert "document schema not understood" in caplog.text
