"""`RoutingPlan`: the topology turned, once at start, into the order the streamer walks it in.

Which executors the caller waits for (those that lead to an end node), which are floating (marked
so, or consumed by nothing and not an end), each executor's upstreams in `needs` order, and whether
the awaited part is a straight chain (walked without any task per hop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flowql._exceptions import ConfigurationError
from flowql.topology import GATEWAY, Topology

__all__ = ["PlannedNode", "RoutingPlan", "build_plan"]

logger = logging.getLogger("flowql.gateway")


@dataclass(frozen=True)
class PlannedNode:
    """One executor's place in the walk."""

    name: str
    # Where its input comes from, in `needs` order ("gateway" = the caller's request).
    upstreams: tuple[str, ...]
    no_reduce: bool
    floating: bool


@dataclass(frozen=True)
class RoutingPlan:
    """The executors in a topological order and the ones whose output the caller receives."""

    nodes: tuple[PlannedNode, ...]
    end: tuple[str, ...]
    # The awaited executors in order when they form one straight line from the gateway to the
    # single end and nothing floats off it; None otherwise.
    chain: tuple[str, ...] | None

    def node(self, name: str) -> PlannedNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def until(self, targets: Sequence[str]) -> RoutingPlan:
        """The part of the plan that produces `targets`' outputs, with `targets` as its end."""
        ends = tuple(target for target in targets if target != GATEWAY)
        needed = _ancestors(self.nodes, ends)
        nodes = tuple(
            PlannedNode(node.name, node.upstreams, node.no_reduce, floating=False)
            for node in self.nodes
            if node.name in needed
        )
        return RoutingPlan(nodes=nodes, end=ends, chain=_chain(nodes, ends))


def build_plan(topology: Topology) -> RoutingPlan:
    """Check the topology's graph and order it; ConfigurationError names what is wrong."""
    names = [node.name for node in topology.nodes]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"executor names must be unique; repeated: {duplicates}")
    if GATEWAY in names:
        raise ConfigurationError(f"{GATEWAY!r} is reserved for the graph's start; rename that executor")
    known = set(names)
    for node in topology.nodes:
        unknown = [need for need in node.needs if need != GATEWAY and need not in known]
        if unknown:
            raise ConfigurationError(f"executor {node.name!r} needs unknown executor(s) {unknown}")
    unknown_end = [name for name in topology.end if name not in known]
    if unknown_end:
        raise ConfigurationError(f"the topology's end names unknown executor(s) {unknown_end}")
    if not topology.end and topology.nodes:
        raise ConfigurationError("the topology names no end executor")

    upstreams = {node.name: tuple(node.needs) or (GATEWAY,) for node in topology.nodes}
    order = _topological_order(names, upstreams)
    ends = tuple(topology.end)
    awaited = _ancestors_by_name(upstreams, ends)
    marked = {node.name for node in topology.nodes if node.floating}
    wrongly_marked = sorted(marked & awaited)
    if wrongly_marked:
        logger.warning("executor(s) %s are marked floating but an awaited executor needs them", wrongly_marked)
    by_name = {node.name: node for node in topology.nodes}
    nodes = tuple(
        PlannedNode(
            name=name,
            upstreams=upstreams[name],
            no_reduce=by_name[name].no_reduce,
            floating=name not in awaited,
        )
        for name in order
    )
    return RoutingPlan(nodes=nodes, end=ends, chain=_chain(nodes, ends))


def _topological_order(names: list[str], upstreams: dict[str, tuple[str, ...]]) -> list[str]:
    # Depth-first, visiting nodes in the order they were added, so ties keep the Flow's order.
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            raise ConfigurationError(f"the executor graph has a cycle: {' -> '.join(cycle)}")
        state[name] = 1
        for upstream in upstreams[name]:
            if upstream != GATEWAY:
                visit(upstream, [*path, name])
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name, [])
    return order


def _ancestors_by_name(upstreams: dict[str, tuple[str, ...]], ends: Iterable[str]) -> set[str]:
    found: set[str] = set()
    pending = [name for name in ends if name != GATEWAY]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        pending.extend(up for up in upstreams[name] if up != GATEWAY)
    return found


def _ancestors(nodes: Iterable[PlannedNode], ends: Iterable[str]) -> set[str]:
    return _ancestors_by_name({node.name: node.upstreams for node in nodes}, ends)


def _chain(nodes: tuple[PlannedNode, ...], ends: tuple[str, ...]) -> tuple[str, ...] | None:
    if len(ends) != 1 or any(node.floating for node in nodes):
        return None
    previous = GATEWAY
    for node in nodes:
        if node.upstreams != (previous,):
            return None
        previous = node.name
    return tuple(node.name for node in nodes) if previous == ends[0] else None
