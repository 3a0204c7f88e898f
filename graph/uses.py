"""Turning a spec's `uses=` into the worker's `--uses` argument.

A worker is a fresh `python -m flowql executor` process: it can import modules but it must never
re-run the user's script. So a class it could import travels by reference (`module:Class`), and a
class it could not (defined in `__main__`, or inside a function) travels by value: cloudpickled to
a file, passed as `pickle:<path>`.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import yaml

from flowql._exceptions import ConfigurationError
from flowql.graph.class_pickle import dump_class
from flowql.graph.yaml_config import is_yaml_path

__all__ = ["WorkerUses", "resolve_uses", "uses_for_yaml", "class_reference"]

DEFAULT_EXECUTOR = "flowql.executors:Executor"
_DICT_KEYS = {"jtype", "with", "metas", "requests", "py_modules"}


@dataclass
class WorkerUses:
    """The worker's `--uses` value, plus settings a `uses` dict carried that must go on separate flags."""

    uses: str
    uses_with: dict[str, Any] = field(default_factory=dict)
    uses_metas: dict[str, Any] = field(default_factory=dict)
    uses_requests: dict[str, str] = field(default_factory=dict)
    py_modules: list[str] = field(default_factory=list)


def class_reference(cls: type) -> str | None:
    """`module:Qualname` when a fresh process can import `cls` by that name, else None."""
    module_name = getattr(cls, "__module__", "")
    qualname = getattr(cls, "__qualname__", "")
    if module_name == "__main__" or "<locals>" in qualname or not module_name:
        return None
    module = sys.modules.get(module_name)
    if module is None or not getattr(module, "__file__", None) or not _importable_by_name(module_name):
        return None
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return f"{module_name}:{qualname}" if target is cls else None


def _importable_by_name(module_name: str) -> bool:
    """Whether importing `module_name` afresh (same sys.path) finds the module this process has under that name.

    A file imported by path (`py_modules`) may carry a name the import system cannot find (an invented
    one), or one that finds another file first (two `pipeline.py` in different folders).
    """
    top_name = module_name.partition(".")[0]
    top = sys.modules.get(top_name)
    if top is None:
        return False
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec: ModuleSpec | None = find_spec(top_name, None) if find_spec is not None else None
        if spec is None:
            continue
        origin, loaded = spec.origin, top.__dict__.get("__file__")
        if spec.has_location and origin and loaded:
            return os.path.realpath(origin) == os.path.realpath(str(loaded))
        return True
    return False


def _source_file(cls: type) -> str | None:
    """The Python file defining `cls` at its top level, for a worker to import by path; never the user's script."""
    module_name = getattr(cls, "__module__", "")
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if module_name == "__main__" or not isinstance(path, str) or not path.endswith(".py"):
        return None
    if cls.__qualname__ != cls.__name__ or getattr(module, cls.__name__, None) is not cls:
        return None
    return os.path.abspath(path)


def _unimportable_modules(cls: type) -> list[str]:
    """Modules (besides `__main__`, which cloudpickle always ships by value) that `cls` and its bases come from
    and that a worker could not import by name."""
    names = {getattr(klass, "__module__", "") for klass in cls.__mro__}
    return sorted(name for name in names if name and name != "__main__" and not _importable_by_name(name))


def _registered(name: str) -> type | None:
    """The Executor subclass this process defined under `name`, if any."""
    try:
        executors = importlib.import_module("flowql.executors")
    except ImportError:  # pragma: no cover - the executors package is part of flowql
        return None
    found = executors.Executor.registered(name)
    return found if isinstance(found, type) else None


def _ship_class(cls: type, workdir: Path, name: str) -> WorkerUses:
    reference = class_reference(cls)
    if reference is not None:
        return WorkerUses(reference)
    source = _source_file(cls)
    if source is not None and _registered(cls.__name__) is cls:
        # Loaded here from a file by path: the worker imports the same file and finds the class by name.
        return WorkerUses(cls.__name__, py_modules=[source])
    path = workdir / f"{name}.executor.pickle"
    try:
        # By value, methods and all; typed DocList annotations made loadable (see class_pickle).
        path.write_bytes(dump_class(cls, by_value_modules=_unimportable_modules(cls)))
    except Exception as exc:
        message = f"executor {name!r}: cannot ship class {cls.__qualname__} to its process: {exc}"
        raise ConfigurationError(message) from exc
    return WorkerUses(f"pickle:{path}")


def _is_plain_name(text: str) -> bool:
    return text.isidentifier()


def resolve_uses(uses: Any, workdir: Path, name: str) -> WorkerUses:
    """The worker's view of `uses` for executor `name`; class files are written under `workdir`."""
    if uses is None:
        return WorkerUses(DEFAULT_EXECUTOR)
    if isinstance(uses, type):
        return _ship_class(uses, workdir, name)
    if isinstance(uses, dict):
        return _resolve_dict(uses, workdir, name)
    if isinstance(uses, str):
        if _is_plain_name(uses):
            # A class name this process knows (maybe from the user's own script) goes by class.
            cls = _registered(uses)
            if cls is not None:
                return _ship_class(cls, workdir, name)
            return WorkerUses(uses)
        if is_yaml_path(uses) and os.path.exists(uses):
            return WorkerUses(os.path.abspath(uses))
        return WorkerUses(uses)
    raise ConfigurationError(f"executor {name!r}: cannot run uses={uses!r}")


def _resolve_dict(uses: dict[str, Any], workdir: Path, name: str) -> WorkerUses:
    unknown = set(uses) - _DICT_KEYS
    if unknown:
        known = sorted(_DICT_KEYS)
        raise ConfigurationError(f"executor {name!r}: unknown key(s) {sorted(unknown)} in uses=; known: {known}")
    jtype = uses.get("jtype")
    if not isinstance(jtype, str) or not jtype:
        raise ConfigurationError(f"executor {name!r}: a uses= dict needs 'jtype': the Executor class name")
    cls = _registered(jtype) if _is_plain_name(jtype) else None
    if cls is None:
        # The worker reads the same shape as inline YAML.
        return WorkerUses(yaml.safe_dump(uses, sort_keys=False))
    modules = uses.get("py_modules") or []
    shipped = _ship_class(cls, workdir, name)
    return WorkerUses(
        shipped.uses,
        uses_with=dict(uses.get("with") or {}),
        uses_metas=dict(uses.get("metas") or {}),
        uses_requests=dict(uses.get("requests") or {}),
        py_modules=[*shipped.py_modules, *([modules] if isinstance(modules, str) else modules)],
    )


def uses_for_yaml(uses: Any) -> Any:
    """`uses` as a Flow YAML can hold it: classes by `module:Class`, or by class name when defined in a script."""
    if isinstance(uses, type):
        return class_reference(uses) or uses.__name__
    return uses
