"""`dump_class`: cloudpickle an Executor class by value so that its worker process can load it whole.

Plain `cloudpickle.dumps(cls)` loses two things a typed handler needs in the worker:

- docarray's `DocList[MyDoc]` is a generic alias of a class docarray generates on the fly. Pickle
  rebuilds an alias by subscripting its origin again (`<generated class>[MyDoc]`), which docarray
  refuses ("object is not subscriptable"), and the generated class itself cannot be found by name.
  Here both are shipped as "subscript the plain container with this document class", which the
  worker replays with its own docarray (`DocList[MyDoc]` again, its cache included).
- A script with `from __future__ import annotations` holds its annotations as strings, resolved
  later against the function's module globals. Cloudpickle ships only the globals a function's
  code uses, so in the worker `'DocList[MyDoc]'` would name nothing and the handler would silently
  fall back to plain Documents. Here each such method travels as a copy whose annotations are
  already resolved, in the process where the script's globals exist.
"""

from __future__ import annotations

import inspect
import io
import sys
import types
import typing
from collections.abc import Sequence
from typing import Any

import cloudpickle
from docarray.array.any_array import AnyDocArray
from docarray.base_doc import AnyDoc

__all__ = ["dump_class"]


def dump_class(cls: type, *, by_value_modules: Sequence[str] = ()) -> bytes:
    """`cls` pickled by value (methods, document classes and typed `DocList`s included).

    `by_value_modules`: modules this process has but a worker could not import by name (a file
    imported by path): what `cls` uses from them travels by value too, instead of by reference.
    """
    buffer = io.BytesIO()
    modules = [sys.modules[name] for name in by_value_modules if name in sys.modules]
    # cloudpickle's registry is process-wide: registered only for this one dump.
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        _ClassPickler(buffer, _resolved_methods(cls)).dump(cls)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)
    return buffer.getvalue()


def parametrised(container: type[AnyDocArray[Any]], doc_type: type, as_alias: bool = True) -> Any:
    """`container[doc_type]`, e.g. `DocList[MyDoc]`: how a typed document array is rebuilt on load.

    With `as_alias=False`, the class docarray generated for it (what `type(docs)` and pydantic's
    validators hold) instead of the alias (what annotations hold).
    """
    alias = container[doc_type]  # type: ignore[index]
    return alias if as_alias else typing.get_origin(alias)


class _ClassPickler(cloudpickle.Pickler):  # type: ignore[misc]
    def __init__(self, file: io.BytesIO, replacements: dict[int, tuple[Any, Any]]) -> None:
        super().__init__(file)
        # id(original method) -> (original, copy with resolved annotations); the original keeps the id valid.
        self._replacements = replacements

    def reducer_override(self, obj: Any) -> Any:
        typed = _typed_doc_array(obj)
        if typed is not None:
            return parametrised, (*typed, not isinstance(obj, type))
        replacement = self._replacements.get(id(obj))
        if replacement is not None and replacement[0] is obj:
            # Pickled under the original's memo entry, so every reference to the method gets the copy.
            return super().reducer_override(replacement[1])
        return super().reducer_override(obj)


def _typed_doc_array(obj: Any) -> tuple[type, type] | None:
    """(plain container, document class) for `DocList[X]`-style aliases and the classes docarray generates for them."""
    generated = typing.get_origin(obj) if isinstance(obj, typing._GenericAlias) else obj  # type: ignore[attr-defined]
    if not isinstance(generated, type) or not issubclass(generated, AnyDocArray):
        return None
    doc_type = generated.__dict__.get("doc_type")
    container = generated.__bases__[0]
    # A user's own subclass (flowql's DocumentArray) is importable by name: only generated classes are rebuilt.
    if doc_type is None or getattr(container, "doc_type", None) is not AnyDoc:
        return None
    if not issubclass(container, AnyDocArray) or container.__module__.split(".")[0] != "docarray":
        return None
    return container, doc_type


def _resolved_methods(cls: type) -> dict[int, tuple[Any, Any]]:
    """Copies, with annotations resolved, of the methods of `cls` (and its bases) that hold string annotations."""
    found: dict[int, tuple[Any, Any]] = {}
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in ("flowql", "builtins", "docarray"):
            continue
        for value in vars(klass).values():
            if not inspect.isfunction(value):
                continue
            if not any(isinstance(hint, str) for hint in value.__annotations__.values()):
                continue
            try:
                resolved = typing.get_type_hints(value, include_extras=True)
            except Exception:
                # Unresolvable here too (a name defined later, a typo): ship it as written.
                continue
            found[id(value)] = (value, _with_annotations(value, resolved))
    return found


def _with_annotations(function: types.FunctionType, annotations: dict[str, Any]) -> types.FunctionType:
    copy = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__dict__.update(function.__dict__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    copy.__doc__ = function.__doc__
    copy.__annotations__ = dict(annotations)
    return copy
