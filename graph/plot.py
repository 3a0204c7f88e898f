"""Drawing a Flow's graph with graphviz: gateway -> executors -> end; floating executors dashed."""

from __future__ import annotations

import os
from pathlib import Path

import graphviz

from flowql.graph.plan import FlowPlan
from flowql.topology import GATEWAY

__all__ = ["flow_graph", "render_flow"]

_END = "end"


def flow_graph(plan: FlowPlan) -> graphviz.Digraph:
    """The graph as a graphviz Digraph (nothing rendered yet)."""
    graph = graphviz.Digraph(name=plan.settings.gateway.name, graph_attr={"rankdir": "LR"})
    graph.node(GATEWAY, label=GATEWAY, shape="box", style="rounded,filled", fillcolor="#e8eef7")
    floating = set(plan.implicitly_floating())
    # Node ids by position: executor names may hold characters DOT treats specially (':' is a port).
    ids = {spec.name: f"n{index}" for index, spec in enumerate(plan.executors)}
    ids[GATEWAY] = GATEWAY
    for spec in plan.executors:
        details = []
        if spec.shards > 1:
            polling = spec.polling.get("*", "ANY")
            details.append(f"{spec.shards} shards ({polling})")
        if spec.replicas > 1:
            details.append(f"{spec.replicas} replicas")
        if spec.external:
            details.append("external " + ", ".join(spec.external_addresses()))
        if spec.when is not None:
            details.append("when")
        label = "\n".join([spec.name, *details])
        style = "dashed" if spec.floating or spec.name in floating else "solid"
        graph.node(ids[spec.name], label=label, shape="box", style=style)
        for need in spec.needs:
            graph.edge(ids[need], ids[spec.name])
    graph.node(_END, label=_END, shape="box", style="rounded,filled", fillcolor="#e8eef7")
    end = plan.end()
    for name in end:
        graph.edge(ids[name], _END)
    if not end:
        graph.edge(GATEWAY, _END)
    return graph


def render_flow(plan: FlowPlan, path: str | os.PathLike[str]) -> Path:
    """Write the graph to `path`: PNG when it ends in .png, SVG otherwise. Needs graphviz's `dot` binary."""
    target = Path(path)
    file_format = "png" if target.suffix.lower() == ".png" else "svg"
    data = flow_graph(plan).pipe(format=file_format)
    target.write_bytes(data)
    return target
