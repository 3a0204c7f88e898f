"""`Executor`: the base class of everything that processes documents in a Flow.

An Executor is a plain Python object. Its handler methods are marked with `@requests`; the worker
that hosts it collects the marks when it starts. Its `metas` (what the YAML says about it) and
`runtime_args` (where and as what it runs) are attached by the runtime before `__init__` runs, so
a subclass whose `__init__` takes only its own arguments still sees them.

>>> class Upper(Executor):
...     def __init__(self, suffix: str = '', **kwargs):
...         super().__init__(**kwargs)
...         self.suffix = suffix
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from flowql._exceptions import ConfigurationError

__all__ = ["Executor", "ExecutorMetas", "RuntimeArgs"]

_logger = logging.getLogger("flowql.executor")

TExecutor = TypeVar("TExecutor", bound="Executor")


@dataclass
class ExecutorMetas:
    """What an Executor's YAML `metas:` section says about it."""

    name: str | None = None
    description: str | None = None
    workspace: str | None = None
    py_modules: list[str] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ExecutorMetas:
        """Metas from a YAML/JSON mapping; unknown keys are a ConfigurationError naming the known ones."""
        values = dict(values or {})
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(f"unknown metas key(s) {unknown}; known keys are {sorted(known)}")
        modules = values.get("py_modules") or []
        values["py_modules"] = [modules] if isinstance(modules, str) else [str(m) for m in modules]
        return cls(**values)

    def merged(self, overrides: Mapping[str, Any] | None) -> ExecutorMetas:
        """These metas with each key that `overrides` (e.g. `uses_metas`) names taken from it, even a
        None or empty value; unknown keys raise ConfigurationError. No overrides: `self`, not a copy."""
        if not overrides:
            return self
        update = ExecutorMetas.from_mapping(overrides)
        values = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        for key in overrides:
            values[key] = getattr(update, key)
        return ExecutorMetas(**values)


@dataclass
class RuntimeArgs:
    """Where and as what the hosting worker runs this Executor."""

    name: str = "executor"
    shard_id: int = 0
    shards: int = 1
    replica_id: int = 0
    replicas: int = 1
    workspace: str | None = None
    host: str = "127.0.0.1"
    port: int = 0


class Executor:
    """Base class of document processors; subclass it and mark handler methods with `@requests`.

    `metas`, `runtime_args` and `workspace` are available inside `__init__` when the runtime builds
    the Executor (it attaches them before calling `__init__`); built by hand, they take defaults
    or the `metas=`/`runtime_args=` keyword arguments.
    """

    # Every subclass by class name (the last definition wins), so `uses: MyExecutor` resolves.
    _registry: ClassVar[dict[str, type[Executor]]] = {}

    metas: ExecutorMetas
    runtime_args: RuntimeArgs
    # endpoint -> method name, from YAML `requests:` / `uses_requests`; extends the `@requests` marks.
    requests_overrides: dict[str, str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Executor._registry[cls.__name__] = cls

    def __init__(
        self,
        *,
        metas: Mapping[str, Any] | ExecutorMetas | None = None,
        runtime_args: Mapping[str, Any] | RuntimeArgs | None = None,
        requests: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if metas is not None or "metas" not in self.__dict__:
            given = metas if isinstance(metas, ExecutorMetas) else ExecutorMetas.from_mapping(metas)
            self.metas = given
        if runtime_args is not None or "runtime_args" not in self.__dict__:
            if isinstance(runtime_args, RuntimeArgs):
                self.runtime_args = runtime_args
            else:
                self.runtime_args = RuntimeArgs(**dict(runtime_args or {}))
        if self.metas.name is None:
            self.metas.name = type(self).__name__
        if requests is not None or "requests_overrides" not in self.__dict__:
            self.requests_overrides = dict(requests or {})
        if kwargs:
            # Jina's base class accepted and ignored extra arguments; say so instead of losing them silently.
            _logger.warning("%s ignores unknown argument(s) %s", type(self).__name__, sorted(kwargs))

    @classmethod
    def create(
        cls: type[TExecutor],
        uses_with: Mapping[str, Any] | None = None,
        *,
        metas: ExecutorMetas | None = None,
        runtime_args: RuntimeArgs | None = None,
        requests: Mapping[str, str] | None = None,
    ) -> TExecutor:
        """Build an instance the way the runtime does: attach metas and runtime args, then `__init__`.

        This is what lets `def __init__(self, bar): super().__init__()` see `self.metas`.
        """
        instance = cls.__new__(cls)
        runtime = runtime_args or RuntimeArgs()
        instance.runtime_args = runtime
        instance.metas = metas or ExecutorMetas()
        if instance.metas.name is None:
            # Hosted by a worker: the name the Flow gave it; built in-process: its class name.
            instance.metas.name = runtime.name if runtime_args is not None else cls.__name__
        instance.requests_overrides = dict(requests or {})
        instance.__init__(**dict(uses_with or {}))  # type: ignore[misc]
        return instance

    @classmethod
    def registered(cls, name: str) -> type[Executor] | None:
        """The Executor subclass defined with class name `name`, if any was defined in this process."""
        if name == "Executor":
            return Executor
        return Executor._registry.get(name)

    @property
    def logger(self) -> logging.Logger:
        """A logger named after this Executor (`flowql.executor.<name>`); the worker sends logs to stderr."""
        return logging.getLogger(f"flowql.executor.{self.metas.name or type(self).__name__}")

    @property
    def workspace(self) -> str | None:
        """This Executor's own folder (created on first use), or None when no workspace is configured.

        `<workspace>/<name>` and, for sharded executors, `/<shard_id>` below it, so shards never share files.
        """
        base = self.runtime_args.workspace or self.metas.workspace
        if not base:
            return None
        parts = [base, self.metas.name or self.runtime_args.name]
        if self.runtime_args.shards > 1:
            parts.append(str(self.runtime_args.shard_id))
        path = os.path.join(*parts)
        os.makedirs(path, exist_ok=True)
        return path

    def close(self) -> Any:
        """Called once when the hosting worker shuts down; override to release resources (may be async)."""
        return None
