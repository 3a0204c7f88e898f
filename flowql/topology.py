"""The topology document: the executor graph as the gateway needs it to route requests.

The Flow builds it, writes it as JSON, and hands it to the gateway process
(`flowql gateway --topology topology.json`); a Kubernetes export writes the same document into a
ConfigMap with Service DNS names as addresses. Nothing here knows how the processes were started.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

__all__ = ["GATEWAY", "PollingMode", "POLLING_MODES", "ExecutorNode", "Topology"]

GATEWAY = "gateway"
"""The name of the graph's start: an executor that `needs` it receives requests first."""

PollingMode = Literal["ANY", "ALL", "ALL_ASYNC"]
POLLING_MODES: tuple[PollingMode, ...] = ("ANY", "ALL", "ALL_ASYNC")

TOPOLOGY_VERSION = 1


@dataclass
class ExecutorNode:
    """One executor of the graph: where its shards and replicas listen and how to route to it."""

    name: str
    needs: list[str]
    # shards[i] lists the "host:port" addresses of shard i's replicas.
    shards: list[list[str]]
    # Endpoint -> polling mode for the shards; the key "*" is the default for other endpoints.
    polling: dict[str, PollingMode] = field(default_factory=lambda: {"*": "ANY"})
    # A docarray query-language filter: only matching documents reach this executor.
    when: dict[str, Any] | None = None
    # Receive the branches of a join concatenated instead of merged by id.
    no_reduce: bool = False
    # The caller does not wait for this executor; its failures are logged, not returned.
    floating: bool = False
    # Run by someone else: the Flow does not start or stop it.
    external: bool = False

    def polling_for(self, endpoint: str) -> PollingMode:
        return self.polling.get(endpoint, self.polling.get("*", "ANY"))


@dataclass
class Topology:
    """The executor graph: nodes in the order they were added, and which nodes feed the end."""

    nodes: list[ExecutorNode]
    # The executors whose results the caller receives (the graph's end is fed by them).
    end: list[str]
    version: int = TOPOLOGY_VERSION

    def node(self, name: str) -> ExecutorNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no executor named {name!r} in the topology")

    @property
    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs, with "gateway" as the start and "end" feeding the caller."""
        pairs = [(need, node.name) for node in self.nodes for need in node.needs]
        pairs.extend((name, "end") for name in self.end)
        return pairs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topology:
        version = data.get("version", TOPOLOGY_VERSION)
        if version != TOPOLOGY_VERSION:
            raise ValueError(f"topology version {version} is not supported (expected {TOPOLOGY_VERSION})")
        nodes = [
            ExecutorNode(
                name=node["name"],
                needs=list(node["needs"]),
                shards=[list(replicas) for replicas in node["shards"]],
                polling=cast(dict[str, PollingMode], dict(node.get("polling") or {"*": "ANY"})),
                when=node.get("when"),
                no_reduce=bool(node.get("no_reduce", False)),
                floating=bool(node.get("floating", False)),
                external=bool(node.get("external", False)),
            )
            for node in data["nodes"]
        ]
        return cls(nodes=nodes, end=list(data["end"]), version=version)

    @classmethod
    def from_json(cls, text: str) -> Topology:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Topology:
        return cls.from_json(Path(path).read_text())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())
