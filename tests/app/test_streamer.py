"""GatewayStreamer routing, with in-process executors (no gRPC): issue 3's "Routing" rules."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

import flowql.codec
from flowql._exceptions import ServiceUnavailable
from flowql.app import docs_merge, request_merge, when_filter
from flowql.app.settings import GatewaySettings
from flowql.app.streamer import GatewayStreamer
from flowql.codec import encode_docs
from flowql.documents import Document, DocumentArray
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import RESULTS_KEY, error_of, get_parameters, new_request
from flowql.topology import Topology

from .inprocess_executors import FakeExecutor, chain, docs_of, factory_for, node, texts

SETTINGS = GatewaySettings(host="127.0.0.1")


def streamer_for(topology: Topology, *executors: FakeExecutor) -> GatewayStreamer:
    return GatewayStreamer(topology, SETTINGS, factory_for(*executors))


def request_with(*docs: Document, endpoint: str = "/", target: str = "") -> DataRequest:
    return new_request(endpoint, docs=encode_docs(list(docs)), target_executor=target)


def three_docs() -> list[Document]:
    return [Document(id=f"d{i}") for i in range(3)]


def upper(docs: DocumentArray) -> None:
    for doc in docs:
        doc.text = (doc.text or "").upper()


def exclaim(docs: DocumentArray) -> None:
    for doc in docs:
        doc.text = (doc.text or "") + "!"


async def test_chain_runs_executors_in_order() -> None:
    a, b = FakeExecutor("a", upper), FakeExecutor("b", exclaim)
    async with streamer_for(chain("a", "b"), a, b) as streamer:
        response = await streamer.process(request_with(Document(text="hi"), Document(text="yo")))
    assert texts(response) == ["HI!", "YO!"]
    assert [route.executor for route in response.routes] == ["gateway", "a", "b"]
    assert response.routes[0].end_time_ns >= response.routes[0].start_time_ns > 0


async def test_chain_forwards_document_bytes_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object) -> None:
        raise AssertionError("the gateway decoded documents it only forwards")

    for module, name in [
        (flowql.codec, "decode_docs"),
        (flowql.codec, "encode_docs"),
        (docs_merge, "parse_docs"),
        (request_merge, "parse_docs"),
        (when_filter, "parse_docs"),
        (when_filter, "decode_docs"),
    ]:
        monkeypatch.setattr(module, name, forbidden)
    a, b, c = FakeExecutor("a"), FakeExecutor("b"), FakeExecutor("c")
    payload = encode_docs([Document(text=f"doc {i}") for i in range(5)])
    request = new_request("/", docs=payload)
    async with streamer_for(chain("a", "b", "c"), a, b, c) as streamer:
        response = await streamer.process(request)
    assert response.docs == payload
    assert [route.executor for route in response.routes] == ["gateway", "a", "b", "c"]


def fan_out_topology(*, no_reduce: bool = False) -> Topology:
    # The seeds' example: A after the gateway, B also after the gateway, C needs both.
    return Topology(
        nodes=[node("A"), node("B"), node("C", ["A", "B"], no_reduce=no_reduce)],
        end=["C"],
    )


def world(docs: DocumentArray) -> None:
    for index, doc in enumerate(docs):
        doc.text = f"world {index}"


def hello(docs: DocumentArray) -> None:
    for index, doc in enumerate(docs):
        doc.text = f"hello {index}"


async def test_join_merges_branches_by_id_and_keeps_each_branch() -> None:
    a, b, c = FakeExecutor("A", world), FakeExecutor("B", hello), FakeExecutor("C")
    async with streamer_for(fan_out_topology(), a, b, c) as streamer:
        response = await streamer.process(request_with(*three_docs()))
    assert response.status.code == Status.SUCCESS
    received = c.received[0]
    assert len(docs_of(received)) == 3
    # Both branches set text: the branch later in `needs` order (B) wins.
    assert texts(received) == ["hello 0", "hello 1", "hello 2"]
    assert [branch.executor for branch in received.branches] == ["A", "B"]
    assert [len(docs_of(DataRequest(docs=branch.docs))) for branch in received.branches] == [3, 3]
    assert [doc.text for doc in docs_of(DataRequest(docs=received.branches[0].docs))][0] == "world 0"
    assert not response.branches
    assert sorted(route.executor for route in response.routes) == ["A", "B", "C", "gateway"]


async def test_join_with_no_reduce_concatenates_branches() -> None:
    a, b, c = FakeExecutor("A", world), FakeExecutor("B", hello), FakeExecutor("C")
    async with streamer_for(fan_out_topology(no_reduce=True), a, b, c) as streamer:
        response = await streamer.process(request_with(*three_docs()))
    assert len(docs_of(c.received[0])) == 6
    assert texts(response) == ["world 0", "world 1", "world 2", "hello 0", "hello 1", "hello 2"]
    assert len(c.received[0].branches) == 2


async def test_join_fills_empty_fields_and_appends_new_documents() -> None:
    def tag(docs: DocumentArray) -> None:
        docs[0].tags = {"from": "A"}

    def embed_and_add(docs: DocumentArray) -> DocumentArray:
        docs[0].embedding = np.array([1.0, 2.0])  # type: ignore[assignment]
        docs[0].matches = DocumentArray([Document(id="m1")])
        return DocumentArray([*docs, Document(id="new", text="added by B")])

    a, b, c = FakeExecutor("A", tag), FakeExecutor("B", embed_and_add), FakeExecutor("C")
    async with streamer_for(fan_out_topology(), a, b, c) as streamer:
        response = await streamer.process(request_with(Document(id="x", text="orig")))
    merged = docs_of(response)
    assert [doc.id for doc in merged] == ["x", "new"]
    assert merged[0].tags == {"from": "A"}
    assert merged[0].embedding is not None and list(merged[0].embedding) == [1.0, 2.0]
    assert [m.id for m in merged[0].matches] == ["m1"]
    assert merged[0].text == "orig"


async def test_parameters_results_of_both_branches_are_kept() -> None:
    a = FakeExecutor("A", results={"a": 1})
    b = FakeExecutor("B", results={"b": 2})
    c = FakeExecutor("C")
    async with streamer_for(fan_out_topology(), a, b, c) as streamer:
        response = await streamer.process(request_with(Document()))
    assert get_parameters(response)[RESULTS_KEY] == {"A": {"a": 1}, "B": {"b": 2}}


async def test_executor_error_stops_the_request_and_names_the_executor() -> None:
    a = FakeExecutor("a", fail_with=ValueError("bad input"))
    b = FakeExecutor("b", upper)
    async with streamer_for(chain("a", "b"), a, b) as streamer:
        response = await streamer.process(request_with(Document(text="x")))
        error = error_of(response)
        assert error is not None and error.executor == "a" and "bad input" in error.message
        assert b.received == []
        # The next request is handled normally once the executor behaves.
        a.fail_with = None
        assert texts(await streamer.process(request_with(Document(text="x")))) == ["X"]


async def test_unreachable_executor_becomes_an_error_status_naming_it() -> None:
    async def unreachable(request: DataRequest) -> DataRequest:
        raise ServiceUnavailable("executor 'a' is unavailable at 10.0.0.1:1: connection refused")

    class Down(FakeExecutor):
        async def process(self, request: DataRequest) -> DataRequest:
            return await unreachable(request)

    async with streamer_for(chain("a"), Down("a")) as streamer:
        response = await streamer.process(request_with(Document()))
    error = error_of(response)
    assert error is not None
    assert error.executor == "a" and error.exception_type == "ServiceUnavailable"
    assert "unavailable at 10.0.0.1:1" in error.message


async def test_error_in_one_branch_stops_the_join() -> None:
    a = FakeExecutor("A", fail_with=RuntimeError("boom"))
    b, c = FakeExecutor("B"), FakeExecutor("C")
    async with streamer_for(fan_out_topology(), a, b, c) as streamer:
        response = await streamer.process(request_with(Document()))
    error = error_of(response)
    assert error is not None and error.executor == "A"
    assert c.received == []


def sharded(polling: str) -> Topology:
    return Topology(nodes=[node("idx", shards=2, polling={"*": polling})], end=["idx"])


def matches_with_scores(*scores: float, prefix: str) -> DocumentArray:
    return DocumentArray([Document(id=f"{prefix}{i}", scores={"cosine": score}) for i, score in enumerate(scores)])


async def test_shards_any_sends_each_request_to_one_shard_in_turn() -> None:
    shard0, shard1 = FakeExecutor("idx", shard=0), FakeExecutor("idx", shard=1)
    async with streamer_for(sharded("ANY"), shard0, shard1) as streamer:
        for _ in range(4):
            await streamer.process(request_with(Document()))
    assert (len(shard0.received), len(shard1.received)) == (2, 2)


async def test_shards_all_reduce_documents_and_sort_matches_by_score() -> None:
    def search_on(prefix: str, *scores: float):
        def search(docs: DocumentArray) -> None:
            for doc in docs:
                doc.matches = matches_with_scores(*scores, prefix=prefix)

        return search

    shard0 = FakeExecutor("idx", search_on("a", 0.9, 0.5), shard=0, results={"n": 2})
    shard1 = FakeExecutor("idx", search_on("b", 0.7, 0.1), shard=1, results={"n": 2})
    async with streamer_for(sharded("ALL"), shard0, shard1) as streamer:
        response = await streamer.process(request_with(Document(id="q")))
    (query,) = docs_of(response)
    assert [m.id for m in query.matches] == ["a0", "b0", "a1", "b1"]
    assert get_parameters(response)[RESULTS_KEY] == {"idx": {"n": 2}, "idx/1": {"n": 2}}
    assert sorted(r.shard for r in response.routes if r.executor == "idx") == [0, 1]


async def test_shards_all_keep_ascending_distances_ascending() -> None:
    def search_on(prefix: str, *scores: float):
        def search(docs: DocumentArray) -> None:
            for doc in docs:
                doc.matches = matches_with_scores(*scores, prefix=prefix)

        return search

    shard0 = FakeExecutor("idx", search_on("a", 0.1, 0.5), shard=0)
    shard1 = FakeExecutor("idx", search_on("b", 0.2, 0.3), shard=1)
    async with streamer_for(sharded("ALL"), shard0, shard1) as streamer:
        response = await streamer.process(request_with(Document(id="q")))
    assert [m.id for m in docs_of(response)[0].matches] == ["a0", "b0", "b1", "a1"]


async def test_shards_all_concatenate_disjoint_documents() -> None:
    shard0 = FakeExecutor("idx", lambda docs: DocumentArray([Document(id="s0")]), shard=0)
    shard1 = FakeExecutor("idx", lambda docs: DocumentArray([Document(id="s1")]), shard=1)
    async with streamer_for(sharded("ALL"), shard0, shard1) as streamer:
        response = await streamer.process(request_with(Document()))
    assert [doc.id for doc in docs_of(response)] == ["s0", "s1"]


async def test_shards_all_async_answers_with_the_first_shard_and_still_feeds_the_rest() -> None:
    gate = asyncio.Event()
    slow = FakeExecutor("idx", lambda docs: DocumentArray([Document(id="slow")]), shard=0, gate=gate)
    fast = FakeExecutor("idx", lambda docs: DocumentArray([Document(id="fast")]), shard=1)
    streamer = streamer_for(sharded("ALL_ASYNC"), slow, fast)
    async with streamer:
        response = await asyncio.wait_for(streamer.process(request_with(Document())), 5)
        assert [doc.id for doc in docs_of(response)] == ["fast"]
        assert len(slow.received) == 1
        gate.set()
    assert slow.in_flight == 0


async def test_polling_per_endpoint_uses_the_default_for_other_endpoints() -> None:
    topology = Topology(nodes=[node("idx", shards=2, polling={"/search": "ALL", "*": "ANY"})], end=["idx"])
    shard0, shard1 = FakeExecutor("idx", shard=0), FakeExecutor("idx", shard=1)
    async with streamer_for(topology, shard0, shard1) as streamer:
        await streamer.process(request_with(Document(), endpoint="/search"))
        assert (len(shard0.received), len(shard1.received)) == (1, 1)
        await streamer.process(request_with(Document(), endpoint="/index"))
    assert len(shard0.received) + len(shard1.received) == 3


async def test_when_sends_only_matching_documents_and_keeps_the_order() -> None:
    topology = Topology(nodes=[node("a", when={"tags__kind": {"$eq": "img"}})], end=["a"])
    a = FakeExecutor("a", upper)
    docs = [
        Document(id="1", text="t1", tags={"kind": "txt"}),
        Document(id="2", text="i2", tags={"kind": "img"}),
        Document(id="3", text="t3", tags={"kind": "txt"}),
        Document(id="4", text="i4", tags={"kind": "img"}),
    ]
    async with streamer_for(topology, a) as streamer:
        response = await streamer.process(request_with(*docs))
    assert [doc.id for doc in docs_of(a.received[0])] == ["2", "4"]
    assert [doc.id for doc in docs_of(response)] == ["1", "2", "3", "4"]
    assert texts(response) == ["t1", "I2", "t3", "I4"]


async def test_when_matching_nothing_skips_the_executor() -> None:
    topology = Topology(nodes=[node("a", when={"text": {"$eq": "never"}})], end=["a"])
    a = FakeExecutor("a", upper)
    async with streamer_for(topology, a) as streamer:
        response = await streamer.process(request_with(Document(text="x")))
    assert a.received == [] and texts(response) == ["x"]


async def test_when_lets_a_request_without_documents_through() -> None:
    topology = Topology(nodes=[node("a", when={"text": {"$eq": "never"}})], end=["a"])
    a = FakeExecutor("a", results={"seen": True})
    async with streamer_for(topology, a) as streamer:
        response = await streamer.process(new_request("/stats"))
    assert len(a.received) == 1
    assert get_parameters(response)[RESULTS_KEY] == {"a": {"seen": True}}


async def test_target_executor_skips_executors_it_does_not_match() -> None:
    a, b, c = FakeExecutor("enc", upper), FakeExecutor("idx", exclaim), FakeExecutor("encore", exclaim)
    async with streamer_for(chain("enc", "idx", "encore"), a, b, c) as streamer:
        response = await streamer.process(request_with(Document(text="x"), target="enc"))
    # re.match semantics: "enc" also matches "encore".
    assert texts(response) == ["X!"]
    assert b.received == []
    assert [route.executor for route in response.routes] == ["gateway", "enc", "encore"]


async def test_invalid_target_executor_regex_is_a_clear_error() -> None:
    async with streamer_for(chain("a"), FakeExecutor("a")) as streamer:
        response = await streamer.process(request_with(Document(), target="(["))
    error = error_of(response)
    assert error is not None and error.executor == "gateway" and "regular expression" in error.message


async def test_floating_executor_is_not_awaited_and_its_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    gate = asyncio.Event()
    main = FakeExecutor("main", upper)
    floating = FakeExecutor("audit", gate=gate, fail_with=RuntimeError("disk full"))
    topology = Topology(nodes=[node("main"), node("audit", ["gateway"], floating=True)], end=["main"])
    streamer = streamer_for(topology, main, floating)
    async with streamer:
        response = await asyncio.wait_for(streamer.process(request_with(Document(text="x"))), 5)
        assert texts(response) == ["X"]
        assert response.status.code == Status.SUCCESS
        assert len(floating.received) == 1 and floating.in_flight == 1
        with caplog.at_level(logging.WARNING, logger="flowql.gateway"):
            gate.set()
            await streamer.close()
    assert "floating executor 'audit' failed" in caplog.text


async def test_executor_consumed_by_nothing_is_floating() -> None:
    topology = Topology(nodes=[node("a"), node("side", ["a"]), node("b", ["a"])], end=["b"])
    streamer = streamer_for(topology, FakeExecutor("a"), FakeExecutor("side"), FakeExecutor("b"))
    assert [n.name for n in streamer.plan.nodes if n.floating] == ["side"]
    assert {d.name: d.floating for d in streamer.executors()} == {"a": False, "side": True, "b": False}


async def test_stream_yields_one_response_per_generated_document() -> None:
    def split(doc: Document) -> list[Document]:
        return [Document(text=word) for word in (doc.text or "").split()]

    pre = FakeExecutor("pre", upper)
    gen = FakeExecutor("gen", streaming={"/split": split})
    async with streamer_for(chain("pre", "gen"), pre, gen) as streamer:
        responses = [r async for r in streamer.stream(request_with(Document(text="a b c"), endpoint="/split"))]
    assert [texts(r) for r in responses] == [["A"], ["B"], ["C"]]
    assert [r.stream_index for r in responses] == [0, 1, 2]
    assert len(pre.received) == 1


async def test_stream_of_a_non_streaming_endpoint_yields_the_processed_request() -> None:
    async with streamer_for(chain("a"), FakeExecutor("a", upper)) as streamer:
        responses = [r async for r in streamer.stream(request_with(Document(text="q")))]
    assert [texts(r) for r in responses] == [["Q"]]


async def test_endpoints_are_merged_over_executors_in_graph_order() -> None:
    a = FakeExecutor("a", endpoints=["/index", "/search"])
    b = FakeExecutor("b", endpoints=["/search"], streaming={"/gen": lambda d: [d]})
    async with streamer_for(chain("a", "b"), a, b) as streamer:
        specs = {spec.endpoint: spec for spec in await streamer.endpoints()}
    assert list(specs) == ["/index", "/search", "/gen"]
    assert specs["/search"].executors == ("a", "b")
    assert specs["/gen"].streaming and not specs["/index"].streaming


async def test_dry_run_and_executors_report_health() -> None:
    a, b = FakeExecutor("a"), FakeExecutor("b")
    transports = {"a": a.transport(), "b": b.transport()}
    transports["b"].healthy = False
    streamer = GatewayStreamer(chain("a", "b"), SETTINGS, lambda name, shard, addresses: transports[name])
    async with streamer:
        assert await streamer.dry_run() == {"a": True, "b": False}
        described = {d.name: d for d in streamer.executors()}
    assert described["a"].health == "SERVING" and described["b"].health == "NOT_SERVING"
    assert described["b"].needs == ("a",) and described["a"].shards == 1 and described["a"].replicas == 1


async def test_closed_streamer_answers_with_an_error() -> None:
    streamer = streamer_for(chain("a"), FakeExecutor("a"))
    await streamer.start()
    await streamer.close()
    error = error_of(await streamer.process(request_with(Document())))
    assert error is not None and "shutting down" in error.message


async def test_stream_after_a_join_gets_the_merged_branches() -> None:
    def echo_branches(doc: Document) -> list[Document]:
        return [doc]

    a, b = FakeExecutor("A", world), FakeExecutor("B", hello)
    gen = FakeExecutor("gen", streaming={"/echo": echo_branches})
    topology = Topology(nodes=[node("A"), node("B"), node("gen", ["A", "B"])], end=["gen"])
    seen: list[DataRequest] = []
    original = gen.stream

    async def recording(request: DataRequest):
        seen.append(request)
        async for item in original(request):
            yield item

    gen.stream = recording  # type: ignore[method-assign]
    async with streamer_for(topology, a, b, gen) as streamer:
        responses = [r async for r in streamer.stream(request_with(*three_docs(), endpoint="/echo"))]
    assert [texts(r) for r in responses] == [["hello 0"], ["hello 1"], ["hello 2"]]
    assert [branch.executor for branch in seen[0].branches] == ["A", "B"]


class _GarbageDocs(FakeExecutor):
    """Answers with document bytes that are not a DocListProto."""

    async def process(self, request: DataRequest) -> DataRequest:
        response = await super().process(request)
        response.docs = b"\x0a\xff"
        return response


@pytest.mark.parametrize("streamed", [False, True])
async def test_join_of_unreadable_branches_is_an_error_naming_the_joiner(streamed: bool) -> None:
    gen = FakeExecutor("gen", streaming={"/echo": lambda doc: [doc]})
    topology = Topology(nodes=[node("A"), node("B"), node("gen", ["A", "B"])], end=["gen"])
    async with streamer_for(topology, _GarbageDocs("A"), FakeExecutor("B", hello), gen) as streamer:
        request = request_with(*three_docs(), endpoint="/echo")
        responses = [r async for r in streamer.stream(request)] if streamed else [await streamer.process(request)]
    assert len(responses) == 1
    error = error_of(responses[0])
    assert error is not None and error.executor == "gen"
    assert "merging the inputs failed" in responses[0].status.description
    assert gen.received == []
