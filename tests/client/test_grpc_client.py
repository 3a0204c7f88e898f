"""The client over gRPC against a real GatewayService servicer: inputs, returns, callbacks, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from docarray import BaseDoc, DocList

from flowql import AsyncClient, Client, Document, DocumentArray, ExecutorError
from flowql.client import Response
from tests.client.conftest import as_docs
from tests.client.stub_gateway import StubGateway, start_stub, stub_in_thread


@pytest.fixture
def stub() -> StubGateway:
    return StubGateway()


@pytest.fixture
def sync_port(stub: StubGateway) -> Iterator[int]:
    with stub_in_thread(stub) as port:
        yield port


def docs(n: int, prefix: str = "d") -> list[Document]:
    return [Document(text=f"{prefix}{i}") for i in range(n)]


def test_every_input_form_is_sent_and_returned(stub: StubGateway, sync_port: int) -> None:
    def generator() -> Iterator[Document]:
        yield from docs(3, "g")

    with Client(port=sync_port) as client:
        assert as_docs(client.post("/upper", Document(text="one"))).texts == ["ONE"]
        assert as_docs(client.post("/upper", docs(2))).texts == ["D0", "D1"]
        assert as_docs(client.post("/upper", DocumentArray(docs(2, "a")))).texts == ["A0", "A1"]
        assert as_docs(client.post("/upper", generator())).texts == ["G0", "G1", "G2"]
        assert as_docs(client.post("/upper", generator)).texts == ["G0", "G1", "G2"]  # a function returning an iterable
        empty = client.post("/upper", parameters={"hello": "world"})
    assert isinstance(empty, DocumentArray) and len(empty) == 0
    assert stub.seen[-1].docs == 0 and stub.seen[-1].parameters == {"hello": "world"}


def test_request_size_splits_inputs_into_that_many_requests(stub: StubGateway, sync_port: int) -> None:
    with Client(port=sync_port) as client:
        result = client.post("/echo", docs(25), request_size=10)
    assert len(as_docs(result)) == 25
    assert sorted(seen.docs for seen in stub.seen) == [5, 10, 10]


def test_return_responses_gives_responses_with_docs_parameters_and_routes(sync_port: int) -> None:
    with Client(port=sync_port) as client:
        responses = client.post("/upper", docs(3), request_size=2, return_responses=True, parameters={"k": 3})
        old_spelling = client.post("/upper", docs(1), return_results=True)
    assert isinstance(responses, list) and all(isinstance(r, Response) for r in responses)
    assert sorted(str(text) for r in responses for text in r.docs.texts) == ["D0", "D1", "D2"]
    first = responses[0]
    assert first.parameters["k"] == 3 and first.parameters["__results__"]["stub"]["docs"] in (1, 2)
    assert [route.executor for route in first.routes] == ["stub"]
    assert first.ok and first.error is None and first.data.docs is first.docs
    assert isinstance(old_spelling, list) and old_spelling[0].docs.texts == ["D0"]


def test_callbacks_run_per_response_and_post_returns_none(sync_port: int) -> None:
    done: list[list[str | None]] = []
    always: list[str] = []
    with Client(port=sync_port) as client:
        result = client.post(
            "/upper",
            docs(4),
            request_size=2,
            on_done=lambda response: done.append(response.docs.texts),
            on_always=lambda response: always.append(response.request_id),
        )
    assert result is None
    assert sorted(str(text) for batch in done for text in batch) == ["D0", "D1", "D2", "D3"]
    assert len(always) == 2


def test_error_response_without_on_error_raises_executor_error_naming_the_executor(sync_port: int) -> None:
    with Client(port=sync_port) as client:
        with pytest.raises(ExecutorError, match="failing") as caught:
            client.post("/fail", docs(1))
        assert caught.value.executor == "failing" and caught.value.exception_type == "ValueError"
        # The client still works after an executor error.
        assert as_docs(client.post("/upper", docs(1))).texts == ["D0"]


def test_on_error_gets_the_response_and_the_exception(sync_port: int) -> None:
    errors: list[tuple[Response, BaseException]] = []
    always: list[Response] = []
    with Client(port=sync_port) as client:
        result = client.post(
            "/fail",
            docs(2),
            request_size=1,
            on_error=lambda response, exc: errors.append((response, exc)),
            on_always=always.append,
        )
        one_argument: list[Response] = []
        client.post("/fail", docs(1), on_error=one_argument.append)
    assert result is None and len(errors) == 2 and len(always) == 2
    response, exc = errors[0]
    assert isinstance(exc, ExecutorError) and exc.executor == "failing"
    assert response.status.exception.executor == "failing"
    assert len(one_argument) == 1


def test_continue_on_error_logs_failing_callbacks_and_error_responses(
    sync_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def flaky(response: Response) -> None:
        seen.append(response.request_id)
        raise RuntimeError("callback broke")

    with caplog.at_level(logging.ERROR, logger="flowql.client"), Client(port=sync_port) as client:
        client.post("/echo", docs(3), request_size=1, on_done=flaky, continue_on_error=True)
        assert len(seen) == 3
        with pytest.raises(RuntimeError, match="callback broke"):
            client.post("/echo", docs(3), request_size=1, on_done=flaky)
        kept = client.post("/fail", docs(2), continue_on_error=True)
    assert len(as_docs(kept)) == 0  # the failed request's documents are not results
    messages = [record.getMessage() for record in caplog.records]
    assert any("on_done callback failed" in message for message in messages)
    assert any("failed: executor 'failing' raised ValueError" in message for message in messages)


def slow_first(n: int) -> list[Document]:
    """Documents whose requests take longer the earlier they are sent (0.05 s apart)."""
    return [Document(text=f"d{i}", tags={"delay": 0.05 * (n - 1 - i)}) for i in range(n)]


def test_results_in_order_reorders_by_request_order(sync_port: int) -> None:
    with Client(port=sync_port) as client:
        arrival = client.post("/slow", slow_first(4), request_size=1)
        ordered = client.post("/slow", slow_first(4), request_size=1, results_in_order=True)
    assert as_docs(arrival).texts == ["d3", "d2", "d1", "d0"]  # the gateway really answers out of order
    assert as_docs(ordered).texts == ["d0", "d1", "d2", "d3"]


async def test_results_in_order_holds_early_answers_on_the_async_client(stub: StubGateway) -> None:
    server, port = await start_stub(stub)
    try:
        async with AsyncClient(port=port) as client:
            stream = client.post("/slow", slow_first(5), request_size=1, results_in_order=True, prefetch=2)
            order = [response.docs[0].text async for response in stream]
    finally:
        await server.stop(0)
    assert order == ["d0", "d1", "d2", "d3", "d4"]
    # Answers held back for ordering count against prefetch: never more than 2 requests out.
    assert stub.max_in_flight <= 2


def test_target_executor_compression_and_old_spelling_reach_the_gateway(stub: StubGateway, sync_port: int) -> None:
    with Client(port=sync_port) as client:
        client.post("/echo", docs(1), target_executor="bar*", compression="Gzip")
        client.post("/echo", docs(1), target_peapod="foo", compression="Deflate")
    assert [(s.target_executor, s.compression) for s in stub.seen] == [("bar*", "Gzip"), ("foo", "Deflate")]


def test_shortcuts_post_to_their_endpoints(stub: StubGateway, sync_port: int) -> None:
    with Client(port=sync_port) as client:
        client.index(docs(1))
        client.search(docs(1))
        client.update(docs(1))
        client.delete(docs(1))
    assert [seen.endpoint for seen in stub.seen] == ["/index", "/search", "/update", "/delete"]


def test_bad_inputs_and_options_get_clear_errors(sync_port: int) -> None:
    with Client(port=sync_port) as client:
        with pytest.raises(TypeError, match="inputs must hold documents"):
            client.post("/echo", [Document(), 3])
        with pytest.raises(TypeError, match="got str"):
            client.post("/echo", "some text")
        with pytest.raises(TypeError, match="unexpected keyword"):
            client.post("/echo", None, retrun_responses=True)
        with pytest.raises(ValueError, match="request_size"):
            client.post("/echo", docs(1), request_size=0)
        with pytest.raises(ValueError, match="compression"):
            client.post("/echo", docs(1), compression="zstd")


def test_dry_run_and_endpoints_use_their_rpcs(stub: StubGateway, sync_port: int) -> None:
    with Client(port=sync_port) as client:
        assert client.dry_run() is True
        assert client.is_flow_ready() is True
        assert client.endpoints() == ["/fail", "/slow", "/upper"]
        stub.dry_run_ok = False
        assert client.dry_run() is False


def test_headers_are_sent_as_grpc_metadata(stub: StubGateway, sync_port: int) -> None:
    with Client(port=sync_port, headers={"Authorization": "Bearer x"}) as client:
        client.post("/echo", docs(1))
    assert stub.metadata[-1]["authorization"] == "Bearer x"


async def test_async_client_accepts_async_generators_and_yields_responses(stub: StubGateway) -> None:
    server, port = await start_stub(stub)

    async def inputs() -> AsyncIterator[Document]:
        for doc in docs(5):
            yield doc

    try:
        client = Client(port=port, asyncio=True)
        assert isinstance(client, AsyncClient)
        async with client:
            texts = [text async for r in client.post("/upper", inputs, request_size=2) for text in r.docs.texts]
            assert sorted(texts) == ["D0", "D1", "D2", "D3", "D4"]
            assert await client.dry_run()
            assert await client.endpoints() == ["/fail", "/slow", "/upper"]
            with pytest.raises(ExecutorError, match="failing"):
                async for _ in client.post("/fail", docs(1)):
                    pass
    finally:
        await server.stop(0)


def test_show_progress_draws_requests_docs_and_qps(sync_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    with Client(port=sync_port) as client:
        result = client.post("/echo", docs(30), request_size=10, show_progress=True)
    assert len(as_docs(result)) == 30
    err = capsys.readouterr().err
    assert "3 requests" in err and "30 docs" in err and "QPS" in err


def test_grpcs_with_a_trusted_certificate(tls_files: tuple[Path, Path]) -> None:
    stub = StubGateway()
    with stub_in_thread(stub, tls=tls_files) as port:
        with Client(host=f"grpcs://localhost:{port}", root_certificates=str(tls_files[0])) as client:
            assert as_docs(client.post("/upper", docs(1))).texts == ["D0"]
        with Client(host="localhost", port=port, tls=True, root_certificates=str(tls_files[0])) as client:
            assert as_docs(client.post("/upper", docs(1))).texts == ["D0"]


class Passage(BaseDoc):
    title: str
    score: float = 0.0


def test_return_type_decodes_results_into_a_custom_document_type(sync_port: int) -> None:
    with Client(port=sync_port) as client:
        result = client.post("/echo", [Passage(title="a", score=0.5)], return_type=DocList[Passage])
        same = client.post("/echo", [Passage(title="b")], return_type=Passage)
    assert isinstance(result, DocList) and result[0].title == "a" and result[0].score == 0.5
    assert as_docs(same)[0].title == "b"


async def test_coroutine_callbacks_are_awaited(stub: StubGateway) -> None:
    server, port = await start_stub(stub)
    done: list[str] = []

    async def on_done(response: Response) -> None:
        await asyncio.sleep(0)
        done.append(response.request_id)

    try:
        async with AsyncClient(port=port) as client:
            responses = [r.request_id async for r in client.post("/echo", docs(3), request_size=1, on_done=on_done)]
    finally:
        await server.stop(0)
    assert sorted(done) == sorted(responses) and len(done) == 3


def test_a_closed_client_refuses_further_calls(sync_port: int) -> None:
    client = Client(port=sync_port)
    assert as_docs(client.post("/upper", docs(1))).texts == ["D0"]
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.post("/upper", docs(1))
