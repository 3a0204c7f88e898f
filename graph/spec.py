"""`ExecutorSpec`: one executor of a Flow, typed; built from `.add()` keywords or a YAML `executors:` entry.

Both spellings meet in `ExecutorSpec.from_options`, so a keyword and its YAML key can never drift
apart. Aliases from the older seed texts (`parallel` for `shards`) are accepted there.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

from flowql._exceptions import ConfigurationError
from flowql.topology import GATEWAY, POLLING_MODES, PollingMode

__all__ = ["ExecutorSpec", "UsesValue", "RESERVED_NAMES", "normalize_polling"]

UsesValue = type | str | dict[str, Any] | None
"""What `uses=` accepts: an Executor class, a class name / `module:Class` / YAML path / inline YAML, a dict."""

# "gateway" starts the graph and "end" is where the topology's edges finish: no executor may take them.
RESERVED_NAMES = (GATEWAY, "end")

_ALIASES = {"parallel": "shards"}


@dataclass
class ExecutorSpec:
    """Everything the Flow knows about one executor: what to run, where it sits in the graph, how to scale it."""

    name: str
    # See `UsesValue`; None runs the base Executor, which passes documents through.
    uses: UsesValue = None
    uses_with: dict[str, Any] = field(default_factory=dict)
    uses_metas: dict[str, Any] = field(default_factory=dict)
    uses_requests: dict[str, str] = field(default_factory=dict)
    py_modules: list[str] = field(default_factory=list)
    # Upstream executors (or "gateway"); the Flow fills in the previous executor when none is given.
    needs: list[str] = field(default_factory=list)
    replicas: int = 1
    shards: int = 1
    # Endpoint -> polling mode of the shards; "*" is the default for other endpoints.
    polling: dict[str, PollingMode] = field(default_factory=lambda: {"*": "ANY"})
    floating: bool = False
    # A docarray query-language filter (`docarray.utils.filter.filter_docs`) on the documents it receives.
    when: dict[str, Any] | None = None
    no_reduce: bool = False
    # Local executors bind `host` (one port for a single process, else picked per process);
    # external ones are reached there, one address per replica when lists are given.
    host: str | list[str] = "127.0.0.1"
    port: int | list[int] | None = None
    external: bool = False
    env: dict[str, str] = field(default_factory=dict)
    # Milliseconds to wait for each process to be ready; None takes the Flow's, -1 waits forever.
    timeout_ready: int | None = None
    workspace: str | None = None
    # Seconds each process gets to finish in-flight requests when stopped.
    grace: float = 5.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ExecutorSpec:
        """A spec from `.add()` keywords or a YAML mapping; an unknown key is a ConfigurationError naming close ones."""
        values = _canonical_keys(options)
        name = values.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"executor name must be a non-empty string, got {name!r}")
        where = f"executor {name!r}"
        if name in RESERVED_NAMES:
            raise ConfigurationError(f"{where}: the name {name!r} is reserved; pick another name")
        values["needs"] = _needs_list(values.get("needs"), where)
        for key in ("replicas", "shards"):
            if key in values:
                values[key] = _positive_int(values[key], key, where)
        if "polling" in values:
            values["polling"] = normalize_polling(values["polling"], where)
        for key in ("uses_with", "uses_metas", "uses_requests", "env"):
            if key in values:
                values[key] = _mapping(values[key], key, where)
        for key in ("uses_with", "uses_metas", "uses_requests"):
            if key in values:
                _check_json(values[key], key, where)
        if "env" in values:
            values["env"] = {str(k): str(v) for k, v in values["env"].items()}
        if "py_modules" in values:
            modules = values["py_modules"] or []
            values["py_modules"] = [modules] if isinstance(modules, str) else [str(m) for m in modules]
        if values.get("when") is not None and not isinstance(values["when"], Mapping):
            raise ConfigurationError(f"{where}: when= must be a docarray query dict, e.g. {{'tags__k': {{'$eq': 1}}}}")
        if values.get("when") is not None:
            values["when"] = _checked_condition(dict(values["when"]), where)
        uses = values.get("uses")
        if uses is not None and not isinstance(uses, type | str | Mapping):
            raise ConfigurationError(
                f"{where}: uses= takes an Executor class, a name, a YAML path or string, or a dict; got {uses!r}"
            )
        if isinstance(uses, Mapping):
            values["uses"] = dict(uses)
        spec = cls(**values)
        spec._check_placement(where)
        return spec

    def _check_placement(self, where: str) -> None:
        hosts = self.host if isinstance(self.host, list) else [self.host]
        ports = self.port if isinstance(self.port, list) else [self.port]
        if self.external:
            if self.port is None or any(not isinstance(p, int) or isinstance(p, bool) for p in ports):
                raise ConfigurationError(f"{where}: external=True needs host= and port= of the running executor")
            if len(hosts) > 1 and len(ports) > 1 and len(hosts) != len(ports):
                raise ConfigurationError(f"{where}: give as many ports as hosts for an external executor's replicas")
            return
        if len(hosts) != 1 or len(ports) != 1:
            raise ConfigurationError(f"{where}: lists of hosts/ports are only for external=True executors")
        if self.port is not None and self.replicas * self.shards > 1:
            raise ConfigurationError(
                f"{where}: port= fixes one process's port, but {self.replicas * self.shards} processes run; "
                "drop port= (ports are picked per process) or use replicas=1, shards=1"
            )

    def external_addresses(self) -> list[str]:
        """`host:port` of each replica of an external executor."""
        hosts = self.host if isinstance(self.host, list) else [self.host]
        ports = cast(list[int], self.port if isinstance(self.port, list) else [self.port])
        count = max(len(hosts), len(ports))
        return [f"{hosts[i % len(hosts)]}:{ports[i % len(ports)]}" for i in range(count)]

    def to_options(self, uses: Any) -> dict[str, Any]:
        """The keywords that rebuild this spec (defaults left out), with `uses` written as given."""
        defaults = ExecutorSpec(name=self.name)
        options: dict[str, Any] = {"name": self.name}
        if uses is not None:
            options["uses"] = uses
        for spec_field in fields(self):
            key = spec_field.name
            if key in ("name", "uses"):
                continue
            value = getattr(self, key)
            if key == "needs" or value != getattr(defaults, key):
                options[key] = value
        return options


def _canonical_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    known = {spec_field.name for spec_field in fields(ExecutorSpec)}
    values: dict[str, Any] = {}
    for key, value in options.items():
        canonical = _ALIASES.get(key, key)
        if canonical not in known:
            close = difflib.get_close_matches(key, sorted(known | set(_ALIASES)), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(f"unknown executor option {key!r}{hint} Known options: {sorted(known)}")
        if canonical in values:
            raise ConfigurationError(f"executor option {canonical!r} given twice (once as {key!r}); keep one")
        values[canonical] = value
    return values


def _checked_condition(condition: dict[str, Any], where: str) -> dict[str, Any]:
    """The `when` condition, once docarray's query language accepts it (tried on one blank document)."""
    from docarray.utils.filter import filter_docs

    from flowql.documents import Document, DocumentArray

    try:
        filter_docs(DocumentArray([Document()]), condition)
    except (ValueError, TypeError, KeyError) as exc:
        message = " ".join(str(exc).split())
        raise ConfigurationError(
            f"{where}: when={condition!r} is not a docarray query ({message}); "
            "write it as {'<field>': {'<$operator>': <value>}}, e.g. {'tags__k': {'$eq': 1}}"
        ) from exc
    return condition


def _check_json(value: dict[str, Any], key: str, where: str) -> None:
    # They travel to the worker process as JSON on its command line.
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        message = f"{where}: {key}= must hold JSON values (str, number, bool, list, dict): {exc}"
        raise ConfigurationError(message) from exc


def _needs_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
    if names is None or not all(isinstance(name, str) and name for name in names):
        raise ConfigurationError(f"{where}: needs= takes an executor name, a list of names or 'gateway'; got {value!r}")
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{where}: needs= lists a name twice: {names}")
    return names


def _positive_int(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{where}: {key}= must be a whole number >= 1, got {value!r}")
    return value


def _mapping(value: Any, key: str, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: {key}= must be a dict, got {type(value).__name__}")
    return dict(value)


def normalize_polling(value: Any, where: str) -> dict[str, PollingMode]:
    """`'ALL'` or `{'/search': 'ALL', '*': 'ANY'}` (any case) as an endpoint -> mode dict with a '*' default."""
    if isinstance(value, str):
        value = {"*": value}
    if not isinstance(value, Mapping) or not value:
        raise ConfigurationError(
            f"{where}: polling= takes one of {list(POLLING_MODES)} or a dict endpoint -> mode, got {value!r}"
        )
    polling: dict[str, PollingMode] = {}
    for endpoint, mode in value.items():
        upper = mode.upper() if isinstance(mode, str) else mode
        if not isinstance(endpoint, str) or upper not in POLLING_MODES:
            raise ConfigurationError(
                f"{where}: polling for {endpoint!r} is {mode!r}; choose one of {list(POLLING_MODES)}"
            )
        polling[endpoint] = cast(PollingMode, upper)
    polling.setdefault("*", "ANY")
    return polling
