"""The routing plan: graph checks, order, floating executors, straight chains (`flowql.app.routing_plan`)."""

from __future__ import annotations

import logging

import pytest

from flowql._exceptions import ConfigurationError
from flowql.app.routing_plan import build_plan
from flowql.topology import ExecutorNode, Topology


def node(name: str, *needs: str, floating: bool = False) -> ExecutorNode:
    return ExecutorNode(name=name, needs=list(needs) or ["gateway"], shards=[["127.0.0.1:1"]], floating=floating)


def test_straight_line_is_a_chain() -> None:
    plan = build_plan(Topology(nodes=[node("a"), node("b", "a"), node("c", "b")], end=["c"]))
    assert plan.chain == ("a", "b", "c")


def test_fan_out_is_not_a_chain_and_orders_upstreams_first() -> None:
    plan = build_plan(Topology(nodes=[node("j", "a", "b"), node("a"), node("b")], end=["j"]))
    assert plan.chain is None
    order = [n.name for n in plan.nodes]
    assert order.index("j") > order.index("a") and order.index("j") > order.index("b")
    assert plan.node("j").upstreams == ("a", "b")


def test_executor_consumed_by_nothing_floats_and_breaks_the_chain() -> None:
    plan = build_plan(Topology(nodes=[node("a"), node("log", "a"), node("b", "a")], end=["b"]))
    assert {n.name: n.floating for n in plan.nodes} == {"a": False, "log": True, "b": False}
    assert plan.chain is None


def test_floating_marked_executor_that_an_awaited_one_needs_is_awaited(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flowql.gateway"):
        plan = build_plan(Topology(nodes=[node("a", floating=True), node("b", "a")], end=["b"]))
    assert not plan.node("a").floating
    assert "marked floating" in caplog.text


def test_cycle_is_refused_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="cycle: a -> b -> a|cycle: b -> a -> b"):
        build_plan(Topology(nodes=[node("a", "b"), node("b", "a")], end=["b"]))


@pytest.mark.parametrize(
    ("topology", "message"),
    [
        (Topology(nodes=[node("a", "ghost")], end=["a"]), "needs unknown executor"),
        (Topology(nodes=[node("a"), node("a")], end=["a"]), "unique"),
        (Topology(nodes=[node("a")], end=["b"]), "end names unknown"),
        (Topology(nodes=[node("a")], end=[]), "no end"),
        (Topology(nodes=[node("gateway")], end=["gateway"]), "reserved"),
    ],
)
def test_broken_topologies_are_refused_with_the_reason(topology: Topology, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_plan(topology)


def test_until_keeps_only_what_feeds_the_targets() -> None:
    plan = build_plan(Topology(nodes=[node("a"), node("b", "a"), node("c", "b"), node("x")], end=["c"]))
    prefix = plan.until(["b"])
    assert [n.name for n in prefix.nodes] == ["a", "b"]
    assert prefix.chain == ("a", "b")
