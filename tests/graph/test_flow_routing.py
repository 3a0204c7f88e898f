"""Flows of real executor processes behind the real gateway, driven over gRPC with f.post()."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowql import Document, DocumentArray, ExecutorError, FlowQLError
from flowql.request import RESULTS_KEY
from tests.graph.flow_helpers import local_flow
from tests.graph.sample_executors import A, B, C, Counter, Fails, SleepByTag, Slow, Tagger, Upper


def _docs(count: int) -> list[Document]:
    return [Document(text=f"doc {i}") for i in range(count)]


def test_chain_runs_executors_in_order():
    f = local_flow().add(uses=Upper).add(uses=Upper, uses_with={"suffix": "!"}).add(uses=Tagger)
    with f:
        responses = f.post("/", _docs(2), return_responses=True)
    assert len(responses) == 1
    assert responses[0].docs.texts == ["DOC 0!", "DOC 1!"]
    executors = [route.executor for route in responses[0].routes if route.executor != "gateway"]
    assert executors == ["executor0", "executor1", "executor2"]


def test_post_returns_documents_and_crud_helpers_use_their_endpoints():
    f = local_flow().add(uses=Counter)
    with f:
        docs = f.post("/", _docs(3))
        assert isinstance(docs, DocumentArray)
        assert len(docs) == 3
        search = f.search(_docs(1), return_responses=True)
        assert search[0].header.exec_endpoint == "/search"
        assert f.index(_docs(1), return_responses=True)[0].header.exec_endpoint == "/index"


@pytest.mark.parametrize("no_reduce", [False, True])
def test_seed_fan_out_and_needs_merge(no_reduce):
    f = (
        local_flow()
        .add(uses=A)
        .add(uses=B, needs="gateway")
        .add(uses=C, needs=["executor0", "executor1"], no_reduce=no_reduce)
    )
    with f:
        docs = f.post("/some_endpoint", [Document() for _ in range(3)])
    if no_reduce:
        assert len(docs) == 6
        assert {doc.tags["received"] for doc in docs} == {6}
    else:
        assert len(docs) == 3
        assert {doc.tags["received"] for doc in docs} == {3}
        # merged by id: A's text and B's tag on the same document
        assert docs.texts == ["world 0", "world 1", "world 2"]
        assert [doc.tags["b"] for doc in docs] == ["hello 0", "hello 1", "hello 2"]
    assert {tuple(doc.tags["matrix"]) for doc in docs} == {(3, 3)}


def test_needs_all_joins_the_open_branches():
    f = (
        local_flow()
        .add(name="p1", uses=Tagger, needs="gateway")
        .add(name="p2", uses=Tagger, needs="gateway")
        .add(name="p3", uses=Tagger, needs="p2")
        .needs_all(name="join", uses=Tagger)
    )
    assert f.executors[-1].needs == ["p1", "p3"]
    with f:
        docs = f.post("/", _docs(2))
    for doc in docs:
        # each Tagger leaves its own key; the join got both branches merged by id
        assert {"shard_p1", "shard_p2", "shard_p3", "shard_join"} <= set(doc.tags)
        assert doc.tags["seen"][-1] == "join"


def test_replicas_spread_requests_round_robin():
    f = local_flow().add(name="rep", uses=Tagger, replicas=3)
    with f:
        responses = f.post("/", _docs(9), request_size=1, return_responses=True)
    replicas = [route.replica for response in responses for route in response.routes if route.executor == "rep"]
    assert len(replicas) == 9
    assert set(replicas) == {0, 1, 2}
    pids = {doc.tags["pid_rep"] for response in responses for doc in response.docs}
    assert len(pids) == 3


@pytest.mark.parametrize(("polling", "routes_per_request"), [("ANY", 1), ("ALL", 2), ("ALL_ASYNC", 1)])
def test_shards_with_each_polling_mode(polling, routes_per_request):
    f = local_flow().add(name="sh", uses=Tagger, shards=2, polling=polling)
    with f:
        responses = f.post("/", _docs(4), request_size=1, return_responses=True)
    assert len(responses) == 4
    for response in responses:
        routes = [route for route in response.routes if route.executor == "sh"]
        assert len(routes) == routes_per_request
        assert len(response.docs) == 1
        assert "sh" in response.docs[0].tags["seen"]
    if polling == "ALL":
        assert {route.shard for response in responses for route in response.routes} == {0, 1}


def test_polling_per_endpoint():
    f = local_flow().add(name="sh", uses=Tagger, shards=2, polling={"/all": "ALL", "*": "ANY"})
    with f:
        everywhere = f.post("/all", _docs(1), return_responses=True)[0]
        once = f.post("/other", _docs(1), return_responses=True)[0]
    assert len([r for r in everywhere.routes if r.executor == "sh"]) == 2
    assert len([r for r in once.routes if r.executor == "sh"]) == 1


def test_when_filters_the_documents_an_executor_gets():
    f = local_flow().add(name="up", uses=Upper, when={"tags__k": {"$eq": 1}})
    docs = [Document(text=f"d{i}", tags={"k": i % 2}) for i in range(4)]
    with f:
        result = f.post("/", docs)
    assert result.texts == ["d0", "D1", "d2", "D3"]


def test_target_executor_restricts_who_processes():
    f = local_flow().add(name="first", uses=Tagger).add(name="second", uses=Tagger)
    with f:
        only_second = f.post("/", _docs(1), target_executor="sec.*")
        only_first = f.post("/", _docs(1), target_peapod="first")
        both = f.post("/", _docs(1))
    assert only_second[0].tags["seen"] == ["second"]
    assert only_first[0].tags["seen"] == ["first"]
    assert both[0].tags["seen"] == ["first", "second"]


def test_parameters_reach_executors_and_results_come_back():
    f = local_flow().add(name="counter", uses=Counter)
    with f:
        response = f.post("/", _docs(3), parameters={"value": 7}, return_responses=True)[0]
    assert [doc.tags["param"] for doc in response.docs] == [7, 7, 7]
    assert response.parameters[RESULTS_KEY]["counter"]["count"] == 3


def test_request_size_sets_the_number_of_requests():
    f = local_flow().add(uses=Counter)
    with f:
        responses = f.post("/", _docs(10), request_size=3, return_responses=True)
    assert sorted(len(response.docs) for response in responses) == [1, 3, 3, 3]


def test_an_executor_that_raises_is_named_and_the_next_request_works():
    f = local_flow().add(name="ok", uses=Upper).add(name="bad", uses=Fails)
    with f:
        with pytest.raises(ExecutorError) as caught:
            f.post("/fail", _docs(1))
        assert caught.value.executor == "bad"
        assert "always fails" in caught.value.message
        assert f.post("/", _docs(1)).texts == ["DOC 0"]


def test_post_takes_every_seed_input_form_and_callback():
    f = local_flow().add(name="counter", uses=Counter)

    def generate() -> Iterator[Document]:
        for i in range(4):
            yield Document(text=f"g{i}")

    done: list[Any] = []
    errors: list[Any] = []
    always: list[Any] = []
    with f:
        assert len(f.post("/", Document(text="one"))) == 1
        assert len(f.post("/", DocumentArray([Document(), Document()]))) == 2
        assert len(f.post("/", generate)) == 4
        assert len(f.post("/", generate(), request_size=3)) == 4
        assert len(f.post("/", generate(), request_size=3, show_progress=True)) == 4
        only_parameters = f.post("/", parameters={"value": 1}, return_results=True)
        assert only_parameters[0].parameters[RESULTS_KEY]["counter"]["count"] == 0
        assert f.post("/", _docs(5), request_size=2, on_done=done.append, on_always=always.append) is None
        f.post("/fail", _docs(1), on_error=lambda response, exc: errors.append(exc))
    assert len(done) == 3 and len(always) == 3
    assert errors == []


def test_gateway_settings_reach_the_gateway():
    f = local_flow(compression="Gzip", prefetch=2, retries=1, timeout_send=300).add(name="slow", uses=Slow)
    with f:
        docs = f.post("/", _docs(3), request_size=1, parameters={"seconds": 0})
        assert sorted(docs.texts) == ["doc 0", "doc 1", "doc 2"]
        with pytest.raises(FlowQLError) as caught:
            f.post("/", _docs(1), parameters={"seconds": 3})
    assert "slow" in str(caught.value)


def test_results_in_order_restores_the_request_order():
    f = local_flow().add(uses=SleepByTag, replicas=4)
    docs = [Document(text=f"d{i}", tags={"sleep": 1.0 - 0.25 * i}) for i in range(4)]
    with f:
        arrival = f.post("/", docs, request_size=1, return_responses=True)
        ordered = f.post("/", docs, request_size=1, return_responses=True, results_in_order=True)
    assert [r.docs[0].text for r in arrival] != ["d0", "d1", "d2", "d3"]
    assert [r.docs[0].text for r in ordered] == ["d0", "d1", "d2", "d3"]
