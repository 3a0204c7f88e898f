"""Building the graph: defaults, validation messages, the end, floating executors, the topology document."""

from __future__ import annotations

import pytest

from flowql import ConfigurationError, Flow
from flowql.graph import ExecutorSpec, FlowPlan
from flowql.topology import Topology


def test_names_and_needs_default_by_position():
    f = Flow().add().add().add(needs="gateway")
    assert [(s.name, s.needs) for s in f.executors] == [
        ("executor0", ["gateway"]),
        ("executor1", ["executor0"]),
        ("executor2", ["gateway"]),
    ]


def test_needs_joins_the_named_executors():
    f = (
        Flow()
        .add(name="p1", needs="gateway")
        .add(name="p2", needs="gateway")
        .add(name="p3", needs="gateway", parallel=3)
        .needs(["p1", "p2", "p3"], name="r1")
    )
    assert f.executors[-1].name == "r1"
    assert f.executors[-1].needs == ["p1", "p2", "p3"]
    assert f.plan.end() == ["r1"]
    assert f.plan.implicitly_floating() == []


def test_needs_all_joins_every_unconsumed_executor():
    f = Flow().add(name="a", needs="gateway").add(name="b", needs="gateway").add(name="c", needs="a").needs_all()
    assert f.executors[-1].needs == ["b", "c"]


def test_needs_all_on_an_empty_flow_needs_the_gateway():
    assert Flow().needs_all(name="j").executors[0].needs == ["gateway"]


def test_unknown_needs_names_the_fix():
    with pytest.raises(ConfigurationError, match="no executor has that name.*add 'nope' before 'b'"):
        Flow().add(name="a").add(name="b", needs="nope")


def test_duplicate_names_are_refused():
    with pytest.raises(ConfigurationError, match="unique name="):
        Flow().add(name="a").add(name="a")


def test_needs_on_a_later_executor_is_refused():
    plan = FlowPlan(
        executors=[
            ExecutorSpec(name="a", needs=["b"]),
            ExecutorSpec(name="b", needs=["gateway"]),
        ]
    )
    with pytest.raises(ConfigurationError, match="'a' needs 'b', which is added after it; add 'b' first"):
        plan.validate()


def test_cycles_are_named():
    plan = FlowPlan(
        executors=[
            ExecutorSpec(name="a", needs=["c"]),
            ExecutorSpec(name="b", needs=["a"]),
            ExecutorSpec(name="c", needs=["b"]),
        ]
    )
    with pytest.raises(ConfigurationError, match="cycle: a -> c -> b -> a"):
        plan.validate()
    with pytest.raises(ConfigurationError, match="cycle"):
        Flow().add(name="a", needs="a")


def test_a_floating_executor_cannot_be_needed():
    with pytest.raises(ConfigurationError, match="drop floating=True"):
        Flow().add(name="f", floating=True).add(name="b", needs="f")


def test_floating_executor_is_not_the_default_upstream_nor_the_end():
    f = Flow().add(name="a").add(name="log", floating=True).add(name="b")
    assert f.executors[2].needs == ["a"]
    assert f.plan.end() == ["b"]
    assert f.plan.implicitly_floating() == []


def test_implicitly_floating_executors_are_found():
    f = Flow().add(name="a", needs="gateway").add(name="b", needs="gateway")
    assert f.plan.end() == ["b"]
    assert f.plan.implicitly_floating() == ["a"]


def test_topology_carries_addresses_polling_conditions_and_flags():
    f = (
        Flow()
        .add(name="a", replicas=2)
        .add(name="s", shards=2, polling={"/search": "ALL"}, when={"tags__x": {"$gt": 1}}, no_reduce=True)
        .add(name="ext", external=True, host="10.0.0.5", port=7000)
        .add(name="side", needs="gateway", floating=True)
    )
    topology = f.plan.topology({"a": [["h:1", "h:2"]], "s": [["h:3"], ["h:4"]], "side": [["h:5"]]})
    restored = Topology.from_json(topology.to_json())
    assert restored == topology
    a, s, ext, side = restored.nodes
    assert a.shards == [["h:1", "h:2"]]
    assert s.shards == [["h:3"], ["h:4"]]
    assert s.polling_for("/search") == "ALL"
    assert s.polling_for("/index") == "ANY"
    assert (s.when, s.no_reduce) == ({"tags__x": {"$gt": 1}}, True)
    assert (ext.external, ext.shards, ext.needs) == (True, [["10.0.0.5:7000"]], ["s"])
    assert side.floating
    assert restored.end == ["ext"]
    assert ("ext", "end") in restored.edges


def test_implicitly_floating_executors_are_marked_in_the_topology():
    f = Flow().add(name="a", needs="gateway").add(name="b", needs="gateway")
    topology = f.plan.topology({"a": [["h:1"]], "b": [["h:2"]]})
    assert [node.floating for node in topology.nodes] == [True, False]


def test_empty_flow_has_no_end():
    assert Flow().plan.topology({}).end == []


def test_process_count_skips_external_executors():
    f = Flow().add(replicas=2, shards=3).add(external=True, host="h", port=1)
    assert f.plan.process_count() == 6


def test_ready_timeout_is_the_executors_own_else_the_flows_in_seconds():
    plan = Flow(timeout_ready=2500).add(name="own", timeout_ready=-1).add(name="inherits").plan
    assert plan.ready_timeout(plan.spec("own")) is None
    assert plan.ready_timeout(plan.spec("inherits")) == 2.5
    assert plan.ready_timeout() == 2.5  # the gateway


def test_flow_settings_and_asyncio_factory():
    from flowql import AsyncFlow

    f = Flow(asyncio=True, protocol="grpc")
    assert isinstance(f, AsyncFlow)
    assert isinstance(Flow(), Flow)
    assert Flow(port=1234).port == 1234
    assert Flow(port_expose=1235).port_expose == 1235
    assert Flow().port > 0
    assert Flow(protocol=["grpc", "http"], host="127.0.0.1").addresses[1].startswith("http://127.0.0.1:")
