"""Choosing, from a field's annotation, how to read its NodeProto bytes (see `flowql._codec_plan`).

Readers exist for str, int, float, bool, bytes, ID, NdArray (also NdArray[shape], then checked
by docarray's own validator), nested BaseDoc, DocList[...] (the self-referencing matches/chunks
of `Document` included), dict/list of JSON values or of those scalars, and Optional of all
these. Any other annotation gets no reader: the plan reads that field through docarray.
"""

from __future__ import annotations

import inspect
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, get_args, get_origin

from docarray import DocList
from docarray.base_doc import AnyDoc
from docarray.base_doc.doc import BaseDocWithoutId
from docarray.typing import ID, NdArray
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from flowql._codec_values import Mismatch, Reader, check_for, checked, id_reader, read_any, read_tensor
from flowql._codec_wire import TAG, Node

__all__ = ["Builder", "Empty", "FieldSpec", "field_spec", "read_none"]

#: What an empty node (docarray's None) becomes in a field; None: only docarray knows.
Empty = Callable[[], Any]
#: (field name, reader or None, what an empty node becomes or None)
FieldSpec = tuple[str, Reader | None, Empty | None]
_EMPTY_DOC_ARRAY = TAG.DOC_ARRAY + b"\x00"


class Builder(Protocol):
    """Builds documents of one class from their nodes: a `DocPlan`."""

    def build(self, nodes: Mapping[str, bytes]) -> Any: ...


def read_none() -> None:
    """An empty node in an Optional field."""
    return None


def field_spec(name: str, field: FieldInfo, builder_for: Callable[[Any], Builder]) -> FieldSpec:
    """How to read one field; `builder_for(cls)` gives the builder for nested document classes."""
    inner, nullable = _strip_optional(field.annotation)
    empty: Empty | None = read_none if nullable else None
    if inner is ID:
        if name == "id":
            fresh = field.default_factory if callable(field.default_factory) else None
            if fresh is not None and getattr(field, "default_factory_takes_validated_data", False):
                fresh = None
            fresh_id: Empty = fresh or _fresh_id  # type: ignore[assignment]
            return name, id_reader(fresh_id), fresh_id
        return name, id_reader(None), empty
    return name, _reader_for(inner, builder_for), empty


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return annotation, False


def _fresh_id() -> ID:
    return ID(os.urandom(16).hex())


def _reader_for(annotation: Any, builder_for: Callable[[Any], Builder]) -> Reader | None:
    """A reader for a (non-Optional) annotation, or None when only docarray knows how."""
    check = check_for(annotation, nullable=False)
    if check is not None:
        return checked(check)
    if annotation is NdArray:
        return read_tensor
    if inspect.isclass(annotation):
        if issubclass(annotation, NdArray) and annotation.__unparametrizedcls__ is NdArray:
            return _validated(read_tensor, TypeAdapter(annotation))  # NdArray[shape]: docarray checks it
        if issubclass(annotation, BaseDocWithoutId):
            return _doc_reader(builder_for(annotation))
    origin = get_origin(annotation)
    # On Python < 3.12 `DocList[X]` is a typing alias of the class docarray made for X.
    list_cls = annotation if inspect.isclass(annotation) else origin
    if inspect.isclass(list_cls) and issubclass(list_cls, DocList):
        doc_type = getattr(list_cls, "doc_type", None)
        if inspect.isclass(doc_type) and issubclass(doc_type, BaseDocWithoutId) and doc_type is not AnyDoc:
            return _doc_list_reader(list_cls, builder_for(doc_type))
        return None
    args = get_args(annotation)
    if annotation is dict or origin is dict:
        if args and args[0] not in (str, Any):
            return None
        item = check_for(*_strip_optional(args[1])) if args else check_for(Any, nullable=True)
        return None if item is None else _container_reader(dict, item)
    if annotation is list or origin is list:
        item = check_for(*_strip_optional(args[0])) if args else check_for(Any, nullable=True)
        return None if item is None else _container_reader(list, item)
    return None


def _validated(read: Reader, adapter: TypeAdapter[Any]) -> Reader:
    def read_validated(raw: bytes) -> Any:
        return adapter.validate_python(read(raw))

    return read_validated


def _container_reader(kind: Any, check: Callable[[Any], Any]) -> Reader:
    """A dict (str keys) or list of JSON-like values, each passing `check`."""
    plain = check is check_for(Any, nullable=False)  # Any: the values as read

    empty = TAG.DICT + b"\x00" if kind is dict else TAG.LIST + b"\x00"

    def read(raw: bytes) -> Any:
        if raw == empty:
            return kind()
        value: Any = read_any(raw)
        if type(value) is not kind:
            raise Mismatch(f"not a {kind.__name__}")
        if plain:
            return value
        if kind is dict:
            return {key: check(item) for key, item in value.items()}
        return [check(item) for item in value]

    return read


def _doc_reader(plan: Builder) -> Reader:
    def read(raw: bytes) -> Any:
        node = Node.FromString(raw)
        if node.WhichOneof("content") != "doc":
            raise Mismatch("not a doc")
        return plan.build(node.doc.data)

    return read


def _doc_list_reader(list_cls: type[DocList[Any]], plan: Builder) -> Reader:
    make = _list_maker(list_cls)

    def read(raw: bytes) -> Any:
        if raw == _EMPTY_DOC_ARRAY:
            return make(())
        node = Node.FromString(raw)
        if node.WhichOneof("content") != "doc_array":
            raise Mismatch("not a doc_array")
        build = plan.build
        return make([build(doc.data) for doc in node.doc_array.docs])

    return read


def _list_maker(list_cls: type[DocList[Any]]) -> Callable[[Iterable[Any]], Any]:
    """Makes a `list_cls` of documents already of its type."""
    if list_cls.__init__ is not DocList.__init__:
        return list_cls  # a subclass with its own __init__: let it run
    # DocList.__init__ only checks each document's type, then fills the list: fill it directly.
    new_list = list.__new__
    extend = list.extend

    def make(docs: Iterable[Any]) -> Any:
        result = new_list(list_cls)
        extend(result, docs)
        return result

    return make
