"""What an exported executor container is told to run: `uses` and `py_modules` that work inside the image.

A local Flow can ship a class defined in the user's script by value (cloudpickle to a temporary
file); a container built from an image cannot read that file, so exports refuse such classes and
say how to fix it: move the class into a module of the project, which the image holds under its
working directory (the Dockerfile's /app). Paths are written relative to that project folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from flowql._exceptions import ConfigurationError
from flowql.executors import Executor
from flowql.graph.spec import ExecutorSpec
from flowql.graph.uses import DEFAULT_EXECUTOR, WorkerUses, class_reference
from flowql.graph.yaml_config import is_yaml_path

__all__ = ["portable_uses", "portable_path"]


def _unexportable(name: str, cls: type) -> ConfigurationError:
    return ConfigurationError(
        f"executor {name!r}: class {cls.__qualname__} is defined in {cls.__module__!r} (your script or a function), "
        "which a container cannot import. Move it into a module of your project (e.g. my_executors.py), "
        "then use uses='my_executors:"
        + cls.__name__
        + "' or py_modules=['my_executors.py'] with uses='"
        + cls.__name__
        + "', and build an image that holds the project (see docs/kubernetes.md)"
    )


def portable_path(path: str, root: Path, name: str, what: str) -> str:
    """`path` relative to the project folder `root` (POSIX separators); a path outside it is refused."""
    resolved = Path(path) if os.path.isabs(path) else (Path.cwd() / path)
    resolved = resolved.resolve()
    try:
        relative = resolved.relative_to(root)
    except ValueError:
        raise ConfigurationError(
            f"executor {name!r}: {what} {path!r} lies outside the project folder {str(root)!r}, which is what "
            "the image holds; move the file into the project or export with a project root that contains it"
        ) from None
    return relative.as_posix()


def portable_uses(spec: ExecutorSpec, root: Path) -> WorkerUses:
    """The worker's `--uses` (plus what a `uses` dict carried) for a container whose working directory is `root`."""
    uses: Any = spec.uses
    name = spec.name
    if uses is None:
        return WorkerUses(DEFAULT_EXECUTOR)
    if isinstance(uses, type):
        reference = class_reference(uses)
        if reference is None:
            raise _unexportable(name, uses)
        return WorkerUses(reference)
    if isinstance(uses, dict):
        return _portable_dict(uses, spec, root)
    if not isinstance(uses, str):
        raise ConfigurationError(f"executor {name!r}: cannot export uses={uses!r}")
    if uses.startswith("pickle:"):
        raise ConfigurationError(
            f"executor {name!r}: uses={uses!r} is a pickled class file that only this machine has; "
            "reference the class by module instead"
        )
    if uses.isidentifier():
        return WorkerUses(_by_reference(uses, spec) or uses)
    if is_yaml_path(uses):
        return WorkerUses(portable_path(uses, root, name, "uses"))
    return WorkerUses(uses)


def _by_reference(class_name: str, spec: ExecutorSpec, py_modules: list[str] | None = None) -> str | None:
    """`module:Class` for a bare class name this process knows, so the container can import it.

    With `py_modules` the worker finds the name itself in what it imports: the name stays. A class
    known only from `__main__` (the user's script) cannot be imported anywhere else: refused.
    """
    cls = Executor.registered(class_name)
    if not isinstance(cls, type) or (py_modules if py_modules is not None else spec.py_modules):
        return None
    reference = class_reference(cls)
    if reference is None:
        raise _unexportable(spec.name, cls)
    return reference


def _portable_dict(uses: dict[str, Any], spec: ExecutorSpec, root: Path) -> WorkerUses:
    jtype = uses.get("jtype")
    modules = uses.get("py_modules") or []
    modules = [modules] if isinstance(modules, str) else list(modules)
    if isinstance(jtype, str) and jtype.isidentifier():
        _by_reference(jtype, spec, [*modules, *spec.py_modules])
    portable = dict(uses)
    if modules:
        portable["py_modules"] = [portable_path(str(module), root, spec.name, "py_modules") for module in modules]
    # The worker reads a uses dict in the shape of inline executor YAML.
    return WorkerUses(yaml.safe_dump(portable, sort_keys=False))
