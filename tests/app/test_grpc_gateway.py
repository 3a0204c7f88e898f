"""The gRPC gateway end to end in one process: real ExecutorWorkers on 127.0.0.1:0, a real
GatewayServer, a real gRPC channel (GatewayService Process / Call / ProcessStream / Endpoints /
DryRun)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from flowql import Document, DocumentArray
from flowql.codec import decode_docs
from flowql.proto.flowql_pb2 import DataRequest, DryRunRequest, EndpointsRequest, Status
from flowql.request import RESULTS_KEY, error_of, get_parameters

from .gateway_executors import Exclaim, Fail, Hello, Joiner, Probe, ShardSearch, Upper, Words, World
from .grpc_gateway_harness import RPC_TIMEOUT_S, GatewayHarness, request_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def harness() -> AsyncIterator[GatewayHarness]:
    harness = GatewayHarness()
    try:
        yield harness
    finally:
        await harness.aclose()


def docs_of(response: DataRequest) -> DocumentArray:
    return DocumentArray(decode_docs(response.docs, Document))


def executors_in_routes(response: DataRequest) -> list[str]:
    return [route.executor for route in response.routes]


async def test_chain_over_grpc(harness: GatewayHarness) -> None:
    upper = await harness.executor("upper", Upper)
    exclaim = await harness.executor("exclaim", Exclaim, needs=["upper"])
    stub = await harness.gateway([upper, exclaim], ["exclaim"])
    response = await stub.Process(request_of(Document(text="hi"), Document(text="yo")), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["HI!", "YO!"]
    assert executors_in_routes(response) == ["gateway", "upper", "exclaim"]


async def seeds_fan_out(harness: GatewayHarness, *, no_reduce: bool) -> DataRequest:
    a = await harness.executor("A", World)
    b = await harness.executor("B", Hello)
    c = await harness.executor("C", Joiner, needs=["A", "B"], no_reduce=no_reduce)
    stub = await harness.gateway([a, b, c], ["C"])
    docs = [Document(id=f"doc{i}") for i in range(3)]
    response: DataRequest = await stub.Process(request_of(*docs), timeout=RPC_TIMEOUT_S)
    return response


async def test_seeds_fan_out_merges_three_documents_with_a_matrix_of_two(harness: GatewayHarness) -> None:
    response = await seeds_fan_out(harness, no_reduce=False)
    docs = docs_of(response)
    assert [doc.id for doc in docs] == ["doc0", "doc1", "doc2"]
    assert [doc.text for doc in docs] == ["hello 0", "hello 1", "hello 2"]
    assert {doc.tags["received"] for doc in docs} == {3}
    assert docs[0].tags["matrix"] == [3, 3]
    assert docs[0].tags["map"] == ["A", "B"]
    assert sorted(executors_in_routes(response)) == ["A", "B", "C", "gateway"]


async def test_seeds_fan_out_with_no_reduce_gives_six_documents(harness: GatewayHarness) -> None:
    response = await seeds_fan_out(harness, no_reduce=True)
    docs = docs_of(response)
    assert len(docs) == 6
    assert {doc.tags["received"] for doc in docs} == {6}
    assert [doc.text for doc in docs] == ["world 0", "world 1", "world 2", "hello 0", "hello 1", "hello 2"]


async def test_replicas_take_requests_round_robin(harness: GatewayHarness) -> None:
    node = await harness.executor("probe", Probe, replicas=2)
    stub = await harness.gateway([node], ["probe"])
    replicas = []
    for _ in range(4):
        response = await stub.Process(request_of(Document()), timeout=RPC_TIMEOUT_S)
        replicas += [route.replica for route in response.routes if route.executor == "probe"]
    assert replicas == [0, 1, 0, 1]


async def test_killed_replica_is_retried_on_the_other(harness: GatewayHarness) -> None:
    node = await harness.executor("upper", Upper, replicas=2)
    stub = await harness.gateway([node], ["upper"], retries=2)
    # Warm both channels up, then take replica 0 away.
    for _ in range(2):
        await stub.Process(request_of(Document(text="x")), timeout=RPC_TIMEOUT_S)
    await harness.worker("upper", replica=0).stop(0)
    replicas = []
    for _ in range(4):
        response = await stub.Process(request_of(Document(text="x")), timeout=RPC_TIMEOUT_S)
        assert response.status.code == Status.SUCCESS, response.status.description
        assert [doc.text for doc in docs_of(response)] == ["X"]
        replicas += [route.replica for route in response.routes if route.executor == "upper"]
    assert replicas == [1, 1, 1, 1]


async def test_shards_any_send_each_request_to_one_shard(harness: GatewayHarness) -> None:
    node = await harness.executor("idx", ShardSearch, shards=2, polling={"*": "ANY"})
    stub = await harness.gateway([node], ["idx"])
    seen = []
    for _ in range(4):
        response = await stub.Process(request_of(Document(), endpoint="/where"), timeout=RPC_TIMEOUT_S)
        (key,) = get_parameters(response)[RESULTS_KEY]
        seen.append(key)
    assert seen == ["idx/0", "idx/1", "idx/0", "idx/1"]


async def test_shards_all_reduce_matches_sorted_and_keep_each_shards_results(harness: GatewayHarness) -> None:
    node = await harness.executor("idx", ShardSearch, shards=2, polling={"*": "ALL"})
    stub = await harness.gateway([node], ["idx"])
    response = await stub.Process(request_of(Document(id="q"), endpoint="/search"), timeout=RPC_TIMEOUT_S)
    (query,) = docs_of(response)
    assert [m.id for m in query.matches] == ["s0-0", "s1-0", "s0-1", "s1-1"]
    results = await stub.Process(request_of(Document(), endpoint="/where"), timeout=RPC_TIMEOUT_S)
    assert get_parameters(results)[RESULTS_KEY] == {"idx/0": {"shard": 0}, "idx/1": {"shard": 1}}


async def test_shards_all_async_answer_with_the_first_shard(harness: GatewayHarness) -> None:
    node = await harness.executor("probe", Probe, shards=2, polling={"*": "ALL_ASYNC"})
    slow = harness.worker("probe", shard=0).executor
    assert isinstance(slow, Probe)
    slow.gate = asyncio.Event()
    stub = await harness.gateway([node], ["probe"])
    response = await stub.Process(request_of(Document()), timeout=RPC_TIMEOUT_S)
    assert [route.shard for route in response.routes if route.executor == "probe"] == [1]
    # Shard 0 gets the request too, and is still on it when the caller already has its answer.
    await asyncio.wait_for(slow.entered.wait(), RPC_TIMEOUT_S)
    assert slow.in_flight == 1
    slow.gate.set()


async def test_when_routes_only_matching_documents(harness: GatewayHarness) -> None:
    node = await harness.executor("upper", Upper, when={"tags__kind": {"$eq": "img"}})
    stub = await harness.gateway([node], ["upper"])
    docs = [Document(text=f"t{i}", tags={"kind": "img" if i % 2 else "txt"}) for i in range(4)]
    response = await stub.Process(request_of(*docs), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["t0", "T1", "t2", "T3"]


async def test_target_executor_restricts_the_executors(harness: GatewayHarness) -> None:
    upper = await harness.executor("upper", Upper)
    exclaim = await harness.executor("exclaim", Exclaim, needs=["upper"])
    stub = await harness.gateway([upper, exclaim], ["exclaim"])
    response = await stub.Process(request_of(Document(text="a"), target_executor="exc.*"), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["a!"]
    assert executors_in_routes(response) == ["gateway", "exclaim"]


async def test_floating_executor_is_not_waited_for(harness: GatewayHarness) -> None:
    main = await harness.executor("main", Upper)
    side = await harness.executor("side", Probe, floating=True)
    probe = harness.worker("side").executor
    assert isinstance(probe, Probe)
    probe.gate = asyncio.Event()
    stub = await harness.gateway([main, side], ["main"])
    response = await stub.Process(request_of(Document(text="x")), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["X"]
    assert executors_in_routes(response) == ["gateway", "main"]
    # The floating executor gets the request, and is still held when the caller has its answer.
    await asyncio.wait_for(probe.entered.wait(), RPC_TIMEOUT_S)
    assert probe.in_flight == 1
    probe.gate.set()


async def test_executor_error_names_the_executor(harness: GatewayHarness) -> None:
    bad = await harness.executor("bad", Fail)
    after = await harness.executor("after", Upper, needs=["bad"])
    stub = await harness.gateway([bad, after], ["after"])
    response = await stub.Process(request_of(Document(), Document()), timeout=RPC_TIMEOUT_S)
    error = error_of(response)
    assert error is not None
    assert (error.executor, error.exception_type) == ("bad", "ValueError")
    assert "refusing 2 documents" in error.message
    assert "after" not in executors_in_routes(response)


async def test_unreachable_executor_error_names_it_and_its_address(harness: GatewayHarness, free_port) -> None:
    upper = await harness.executor("upper", Upper)
    address = f"127.0.0.1:{free_port()}"
    ghost = type(upper)(name="ghost", needs=["upper"], shards=[[address]])
    stub = await harness.gateway([upper, ghost], ["ghost"], retries=1)
    response = await stub.Process(request_of(Document()), timeout=RPC_TIMEOUT_S)
    error = error_of(response)
    assert error is not None and error.executor == "ghost"
    assert error.exception_type == "ServiceUnavailable"
    assert f"executor 'ghost' is unavailable at {address}" in error.message


async def test_timeout_send_bounds_each_executor_call(harness: GatewayHarness) -> None:
    node = await harness.executor("probe", Probe)
    probe = harness.worker("probe").executor
    assert isinstance(probe, Probe)
    probe.gate = asyncio.Event()
    stub = await harness.gateway([node], ["probe"], timeout_send_ms=200)
    response = await stub.Process(request_of(Document()), timeout=RPC_TIMEOUT_S)
    probe.gate.set()
    error = error_of(response)
    assert error is not None and error.executor == "probe" and error.exception_type == "RequestTimeout"
    assert "did not answer in time" in error.message


async def test_dry_run_reports_unreachable_executors(harness: GatewayHarness) -> None:
    first = await harness.executor("first", Upper)
    second = await harness.executor("second", Upper, needs=["first"])
    stub = await harness.gateway([first, second], ["second"])
    ok = await stub.DryRun(DryRunRequest(), timeout=RPC_TIMEOUT_S)
    assert ok.status.code == Status.SUCCESS
    await harness.worker("second").stop(0)
    down = await stub.DryRun(DryRunRequest(), timeout=RPC_TIMEOUT_S)
    assert down.status.code == Status.ERROR and "second" in down.status.description


async def test_call_keeps_at_most_prefetch_requests_in_flight(harness: GatewayHarness) -> None:
    node = await harness.executor("probe", Probe)
    probe = harness.worker("probe").executor
    assert isinstance(probe, Probe)
    probe.delay = 0.02
    stub = await harness.gateway([node], ["probe"], prefetch=3)
    requests = [request_of(Document(), request_id=f"r{i}") for i in range(15)]

    async def send() -> AsyncIterator[DataRequest]:
        for request in requests:
            yield request

    responses = [response async for response in stub.Call(send(), timeout=RPC_TIMEOUT_S)]
    assert sorted(r.header.request_id for r in responses) == sorted(f"r{i}" for i in range(15))
    assert all(r.status.code == Status.SUCCESS for r in responses)
    assert probe.calls == 15
    assert probe.max_in_flight == 3


async def test_process_stream_yields_each_generated_document(harness: GatewayHarness) -> None:
    node = await harness.executor("words", Words)
    stub = await harness.gateway([node], ["words"])
    call = stub.ProcessStream(request_of(Document(text="a b c"), endpoint="/words"), timeout=RPC_TIMEOUT_S)
    responses = [response async for response in call]
    assert [[doc.text for doc in docs_of(r)] for r in responses] == [["a"], ["b"], ["c"]]


async def test_endpoints_and_health_of_the_gateway(harness: GatewayHarness) -> None:
    upper = await harness.executor("upper", Upper)
    words = await harness.executor("words", Words, needs=["upper"])
    stub = await harness.gateway([upper, words], ["words"])
    info = await stub.Endpoints(EndpointsRequest(), timeout=RPC_TIMEOUT_S)
    by_name = {endpoint.endpoint: endpoint for endpoint in info.endpoints}
    assert by_name["/words"].streaming
    assert info.has_default
    assert harness.server is not None
    url = harness.server.urls[0].removeprefix("grpc://")
    async with grpc.aio.insecure_channel(url) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_executor_stopped_mid_request_fails_that_request_naming_it(harness: GatewayHarness) -> None:
    node = await harness.executor("probe", Probe)
    probe = harness.worker("probe").executor
    assert isinstance(probe, Probe)
    probe.gate = asyncio.Event()
    stub = await harness.gateway([node], ["probe"], retries=1)
    call = asyncio.ensure_future(stub.Process(request_of(Document()), timeout=RPC_TIMEOUT_S))
    await asyncio.wait_for(probe.entered.wait(), RPC_TIMEOUT_S)
    await harness.worker("probe").stop(0)
    response = await call
    probe.gate.set()
    error = error_of(response)
    assert error is not None and error.executor == "probe"
    assert error.exception_type == "ServiceUnavailable"
    assert f"at {harness.worker('probe').address}" in error.message, error.message


@pytest.mark.parametrize("compression", ["Gzip", "Deflate"])
async def test_compressed_executor_hops(harness: GatewayHarness, compression: str) -> None:
    upper = await harness.executor("upper", Upper)
    stub = await harness.gateway([upper], ["upper"], compression=compression)
    response = await stub.Process(request_of(Document(text="z" * 1000)), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["Z" * 1000]
