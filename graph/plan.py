"""`FlowPlan`: the executor graph as a value: validation, its end, floating executors, the topology.

Nothing here starts a process. The local orchestrator (`graph/launcher.py`) and a deployment
exporter both read the same plan: which processes to run, and the topology document the gateway
routes by once it knows their addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flowql._exceptions import ConfigurationError
from flowql.graph.settings import FlowSettings
from flowql.graph.spec import ExecutorSpec
from flowql.topology import GATEWAY, ExecutorNode, Topology

__all__ = ["FlowPlan"]


@dataclass
class FlowPlan:
    """A Flow's settings and its executors in the order they were added."""

    settings: FlowSettings = field(default_factory=FlowSettings)
    executors: list[ExecutorSpec] = field(default_factory=list)

    def names(self) -> list[str]:
        return [spec.name for spec in self.executors]

    def spec(self, name: str) -> ExecutorSpec:
        for spec in self.executors:
            if spec.name == name:
                return spec
        raise KeyError(f"no executor named {name!r}; executors: {self.names()}")

    def validate(self) -> None:
        """Raise a ConfigurationError naming the fix for the first problem in the graph."""
        seen: set[str] = set()
        for spec in self.executors:
            if spec.name in seen:
                raise ConfigurationError(f"two executors are named {spec.name!r}; give each executor a unique name=")
            seen.add(spec.name)
        position = {name: index for index, name in enumerate(self.names())}
        for spec in self.executors:
            for need in spec.needs:
                if need != GATEWAY and need not in position:
                    raise ConfigurationError(
                        f"executor {spec.name!r} needs {need!r}, but no executor has that name "
                        f"(executors: {self.names()}); fix the name or add {need!r} before {spec.name!r}"
                    )
        cycle = self._find_cycle()
        if cycle:
            raise ConfigurationError(
                f"the needs form a cycle: {' -> '.join(cycle)}; an executor can only need executors added before it"
            )
        for spec in self.executors:
            for need in spec.needs:
                if need == GATEWAY:
                    continue
                if position[need] > position[spec.name]:
                    raise ConfigurationError(
                        f"executor {spec.name!r} needs {need!r}, which is added after it; add {need!r} first"
                    )
                if self.spec(need).floating:
                    raise ConfigurationError(
                        f"executor {spec.name!r} needs {need!r}, but {need!r} is floating (its output goes nowhere); "
                        f"drop floating=True from {need!r} or take it out of {spec.name!r}'s needs"
                    )

    def _find_cycle(self) -> list[str]:
        needs = {spec.name: [n for n in spec.needs if n != GATEWAY] for spec in self.executors}
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(name: str, path: list[str]) -> list[str]:
            state[name] = 1
            for need in needs.get(name, []):
                if state.get(need) == 1:
                    return [*path[path.index(need) :], need] if need in path else [name, need]
                if need not in state:
                    found = visit(need, [*path, need])
                    if found:
                        return found
            state[name] = 2
            return []

        for name in needs:
            if name not in state:
                found = visit(name, [name])
                if found:
                    return found
        return []

    def last_result(self) -> str | None:
        """The executor a new `.add()` follows by default: the last one added that is not floating."""
        for spec in reversed(self.executors):
            if not spec.floating:
                return spec.name
        return None

    def end(self) -> list[str]:
        """The executors whose results the caller gets: the last non-floating executor added."""
        last = self.last_result()
        return [last] if last else []

    def unconsumed(self) -> list[str]:
        """Non-floating executors that no executor needs yet (what `.needs_all()` joins)."""
        needed = {need for spec in self.executors for need in spec.needs}
        return [spec.name for spec in self.executors if not spec.floating and spec.name not in needed]

    def implicitly_floating(self) -> list[str]:
        """Executors nothing consumes and that do not feed the end: their results reach no caller."""
        end = set(self.end())
        return [name for name in self.unconsumed() if name not in end]

    def ready_timeout(self, spec: ExecutorSpec | None = None) -> float | None:
        """Seconds a process of `spec` (the gateway when None) may take to be ready; None: no bound.

        An executor's own `timeout_ready` wins over the Flow's; both are milliseconds, -1 for no bound.
        """
        own = spec.timeout_ready if spec is not None else None
        milliseconds = own if own is not None else self.settings.timeout_ready
        return None if milliseconds < 0 else milliseconds / 1000.0

    def process_count(self) -> int:
        return sum(spec.replicas * spec.shards for spec in self.executors if not spec.external)

    def topology(self, addresses: Mapping[str, list[list[str]]]) -> Topology:
        """The topology document, given each local executor's `host:port` per shard and replica.

        External executors take the addresses they were declared with. Implicitly floating executors
        are marked floating, so the gateway does not have to work that out again.
        """
        floating = set(self.implicitly_floating())
        nodes = []
        for spec in self.executors:
            if spec.external:
                shards = [spec.external_addresses()]
            else:
                try:
                    shards = [list(replicas) for replicas in addresses[spec.name]]
                except KeyError:
                    raise KeyError(f"no addresses given for executor {spec.name!r}") from None
            nodes.append(
                ExecutorNode(
                    name=spec.name,
                    needs=list(spec.needs),
                    shards=shards,
                    polling=dict(spec.polling),
                    when=dict(spec.when) if spec.when is not None else None,
                    no_reduce=spec.no_reduce,
                    floating=spec.floating or spec.name in floating,
                    external=spec.external,
                )
            )
        return Topology(nodes=nodes, end=self.end())
