"""Turning a `uses` into a constructed Executor.

`uses` may be:
- an Executor subclass, or a dict config (`{'jtype': ..., 'with': ...}`), from Python;
- `pickle:<path>`: a file holding a cloudpickled Executor class (how a Flow ships classes defined
  in the user's `__main__` to the worker process);
- a YAML file path, or inline YAML text (`jtype: ...`);
- a class reference: a registered class name (any Executor subclass defined in this process, e.g.
  by a `py_modules` file), `pkg.module:Class` or `pkg.module.Class`.

`py_modules` files are imported (by path) before anything is resolved. `uses_with`, `uses_metas`
and `uses_requests` override what a YAML config says. Import and constructor errors propagate
unchanged, so the worker can report the original error.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import cloudpickle

from flowql._exceptions import ExecutorLoadError
from flowql.executors.config import (
    ExecutorConfig,
    looks_like_inline_yaml,
    parse_executor_config,
    read_executor_yaml,
)
from flowql.executors.executor import Executor, ExecutorMetas, RuntimeArgs

__all__ = ["load_executor", "resolve_config", "resolve_class", "import_py_modules"]

PICKLE_PREFIX = "pickle:"


def load_executor(
    uses: Any = "Executor",
    *,
    uses_with: Mapping[str, Any] | None = None,
    uses_metas: Mapping[str, Any] | None = None,
    uses_requests: Mapping[str, str] | None = None,
    py_modules: Iterable[str] = (),
    runtime_args: RuntimeArgs | None = None,
) -> Executor:
    """Resolve `uses` and construct the Executor, with metas and runtime args attached before `__init__`."""
    import_py_modules(py_modules)
    config = resolve_config(uses)
    metas = ExecutorMetas.from_mapping(config.metas).merged(uses_metas)
    import_py_modules(metas.py_modules, base_dir=config.base_dir)
    cls = resolve_class(config.jtype)
    return cls.create(
        {**config.with_, **(uses_with or {})},
        metas=metas,
        runtime_args=runtime_args,
        requests={**config.requests, **(uses_requests or {})},
    )


def resolve_config(uses: Any) -> ExecutorConfig:
    """The ExecutorConfig any form of `uses` stands for (its class not yet resolved)."""
    if isinstance(uses, type):
        return ExecutorConfig(jtype=uses)
    if isinstance(uses, Mapping):
        return parse_executor_config(uses)
    if not isinstance(uses, str) or not uses.strip():
        raise ExecutorLoadError(f"`uses` must be an Executor class, a dict, or a non-empty string, got {uses!r}")
    if uses.startswith(PICKLE_PREFIX):
        return ExecutorConfig(jtype=_unpickle_class(uses[len(PICKLE_PREFIX) :]))
    if uses.endswith((".yml", ".yaml")) or os.path.isfile(uses):
        with open(uses, encoding="utf-8") as stream:
            return read_executor_yaml(stream.read(), base_dir=os.path.dirname(os.path.abspath(uses)))
    if looks_like_inline_yaml(uses):
        return read_executor_yaml(uses)
    return ExecutorConfig(jtype=uses.strip())


def resolve_class(reference: Any) -> type[Executor]:
    """An Executor class from a class, a registered class name, `module:Class` or `module.Class`."""
    if isinstance(reference, type):
        found: Any = reference
    elif not isinstance(reference, str):
        raise ExecutorLoadError(f"`jtype` must name an Executor class, got {reference!r}")
    elif (registered := Executor.registered(reference)) is not None:
        found = registered
    elif ":" in reference:
        module_name, _, attribute = reference.partition(":")
        found = _attribute_path(importlib.import_module(module_name), attribute)
    elif "." in reference:
        module_name, _, attribute = reference.rpartition(".")
        found = getattr(importlib.import_module(module_name), attribute)
    else:
        known = sorted(Executor._registry)
        raise ExecutorLoadError(
            f"no Executor class named {reference!r} is defined (known: {known}); pass the file that defines it "
            "with --py-modules / metas.py_modules, or use 'package.module:Class'"
        )
    if not (isinstance(found, type) and issubclass(found, Executor)):
        raise ExecutorLoadError(f"{reference!r} is {found!r}, not an Executor subclass")
    return found


def import_py_modules(paths: Iterable[str], base_dir: str | None = None) -> list[ModuleType]:
    """Import Python files (or package folders) by path, relative paths taken from `base_dir` (else cwd).

    A file already imported from the same path is not imported again, so its classes register once.
    """
    modules = []
    for path in paths:
        if not os.path.isabs(path):
            path = os.path.join(base_dir or os.getcwd(), path)
        modules.append(_import_path(os.path.abspath(path)))
    return modules


def _import_path(path: str) -> ModuleType:
    init_file = os.path.join(path, "__init__.py")
    is_package = os.path.isdir(path) and os.path.isfile(init_file)
    source = init_file if is_package else path
    if not os.path.isfile(source):
        raise FileNotFoundError(f"py_modules: no Python file or package at {path}")
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == source:
            return module
    name = os.path.basename(path.rstrip(os.sep)).removesuffix(".py")
    if name in sys.modules or not name.isidentifier():
        name = f"_flowql_py_module_{hashlib.sha1(path.encode()).hexdigest()[:12]}"
    folder = os.path.dirname(path.rstrip(os.sep))
    # Lets the file import its siblings, as it could when run from its own folder.
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(
        name, source, submodule_search_locations=[path] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise ExecutorLoadError(f"py_modules: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _unpickle_class(path: str) -> Any:
    with open(path, "rb") as stream:
        return cloudpickle.load(stream)


def _attribute_path(module: ModuleType, dotted: str) -> Any:
    value: Any = module
    for part in dotted.split("."):
        value = getattr(value, part)
    return value
