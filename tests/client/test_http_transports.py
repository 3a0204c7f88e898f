"""post() over protocol='http' and 'websocket' against a real uvicorn: same rules as over gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from flowql import AsyncClient, BadRequestError, Client, Document, ExecutorError, RequestTimeout, ServiceUnavailable
from flowql.client import Response
from tests.client.conftest import HttpStub, as_docs
from tests.client.stub_gateway import StubGateway
from tests.client.stub_http import SubscriptionLog, build_app, serve_in_thread
from tests.client.test_pipeline import closed_port

PROTOCOLS = ["http", "websocket"]


def docs(n: int) -> list[Document]:
    return [Document(text=f"d{i}") for i in range(n)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_post_sends_batches_and_returns_all_docs(protocol: str, http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol=protocol) as client:
        result = client.post("/upper", docs(25), request_size=10, parameters={"k": 1})
    assert sorted(str(text) for text in as_docs(result).texts) == sorted(f"D{i}" for i in range(25))
    assert sorted(seen.docs for seen in http_stub.stub.seen) == [5, 10, 10]
    assert all(seen.parameters == {"k": 1} for seen in http_stub.stub.seen)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_documents_keep_tensors_blobs_and_nested_matches(protocol: str, http_stub: HttpStub) -> None:
    doc = Document(
        id="a1", text="t", embedding=np.array([0.5, 1.5]), blob=b"\xff\x00", matches=[Document(text="m", blob=b"\x01")]
    )
    with Client(host=f"{'ws' if protocol == 'websocket' else 'http'}://127.0.0.1:{http_stub.port}") as client:
        [back] = as_docs(client.post("/echo", doc))
    assert back.id == "a1" and back.blob == b"\xff\x00" and back.matches[0].blob == b"\x01"
    assert np.allclose(np.asarray(back.embedding), [0.5, 1.5])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_responses_callbacks_and_errors_follow_the_grpc_rules(protocol: str, http_stub: HttpStub) -> None:
    errors: list[BaseException] = []
    with Client(port=http_stub.port, protocol=protocol) as client:
        responses = client.post("/upper", docs(3), request_size=1, return_responses=True, results_in_order=True)
        assert isinstance(responses, list)
        assert [r.docs.texts for r in responses] == [["D0"], ["D1"], ["D2"]]
        assert responses[0].parameters["__results__"]["stub"] == {"docs": 1}
        assert [route.executor for route in responses[0].routes] == ["stub"]
        with pytest.raises(ExecutorError, match="failing"):
            client.post("/fail", docs(1))
        assert client.post("/fail", docs(2), request_size=1, on_error=lambda r, e: errors.append(e)) is None
        assert as_docs(client.post("/upper", parameters={"only": "parameters"})).texts == []
    assert len(errors) == 2 and all(isinstance(e, ExecutorError) and e.executor == "failing" for e in errors)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_async_client_streams_over_http_and_websocket(protocol: str, http_stub: HttpStub) -> None:
    async def inputs() -> AsyncIterator[Document]:
        for doc in docs(6):
            yield doc

    async with AsyncClient(port=http_stub.port, protocol=protocol) as client:
        responses = [r async for r in client.post("/upper", inputs(), request_size=2, prefetch=2)]
        assert await client.dry_run() is True
        assert await client.endpoints() == ["/fail", "/slow", "/upper"]
    assert sorted(str(t) for r in responses for t in r.docs.texts) == [f"D{i}" for i in range(6)]
    assert all(isinstance(r, Response) for r in responses)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_dry_run_reports_unreachable_executors(protocol: str, http_stub: HttpStub) -> None:
    http_stub.stub.dry_run_ok = False
    with Client(port=http_stub.port, protocol=protocol) as client:
        assert client.dry_run() is False


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_listening_raises_service_unavailable(protocol: str) -> None:
    port = closed_port()
    with Client(port=port, protocol=protocol) as client:
        with pytest.raises(ServiceUnavailable, match=f"gateway at 127.0.0.1:{port} is unavailable"):
            client.post("/upper", docs(1), max_attempts=2, initial_backoff=0.01)
        assert client.is_flow_ready() is False


def test_http_503_is_retried_and_then_reported(http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol="http", headers={"x-fail": "503"}) as client:
        with pytest.raises(ServiceUnavailable, match="HTTP 503"):
            client.post("/upper", docs(1), max_attempts=3, initial_backoff=0.01)
    assert http_stub.stub.seen == []


def test_websocket_closed_by_the_gateway_raises_with_the_reason(http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol="websocket") as client:
        with pytest.raises(ServiceUnavailable, match="stub closes on purpose"):
            client.post("/close-socket", docs(1))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_compression_is_accepted(protocol: str, http_stub: HttpStub) -> None:
    with Client(port=http_stub.port, protocol=protocol) as client:
        assert as_docs(client.post("/upper", docs(2), compression="Gzip")).texts == ["D0", "D1"]
        with pytest.raises(ValueError, match="compression"):
            client.post("/upper", docs(1), compression="brotli")


@pytest.mark.parametrize(("scheme", "protocol"), [("https", "http"), ("wss", "websocket")])
def test_tls_with_a_trusted_certificate(scheme: str, protocol: str, tls_files: tuple[Path, Path]) -> None:
    stub = StubGateway()
    with serve_in_thread(build_app(stub, SubscriptionLog()), tls=tls_files) as port:
        with Client(host=f"{scheme}://127.0.0.1:{port}", root_certificates=str(tls_files[0])) as client:
            assert client.protocol == protocol and client.tls
            assert as_docs(client.post("/upper", docs(1))).texts == ["D0"]
        with Client(host=f"{scheme}://127.0.0.1:{port}") as untrusting:  # the system CAs do not know it
            with pytest.raises((ServiceUnavailable, BadRequestError)):
                untrusting.post("/upper", docs(1))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unavailable_gateway_is_retried_until_it_answers(protocol: str, http_stub: HttpStub) -> None:
    http_stub.stub.fail_calls = 2
    with Client(port=http_stub.port, protocol=protocol) as client:
        result = client.post("/upper", docs(1), max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    assert as_docs(result).texts == ["D0"]
    assert http_stub.stub.fail_calls == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_timeout_bounds_each_request(protocol: str, http_stub: HttpStub) -> None:
    slow = Document(text="slow", tags={"delay": 1.5})
    with Client(port=http_stub.port, protocol=protocol) as client:
        with pytest.raises(RequestTimeout, match="did not answer"):
            client.post("/slow", slow, timeout=0.2)
