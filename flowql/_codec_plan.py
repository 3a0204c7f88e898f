"""Per document class, a plan for building documents from `{field: NodeProto bytes}`.

A plan is made once per class (`plan_for`) from the pydantic field annotations: for each field a
reader chosen by type (str, int, float, bool, bytes, ID, NdArray, nested BaseDoc, DocList[...],
dict/list of JSON values, Optional of these). The reader gives a value already of the type
pydantic would have produced, so the document is built without validation (what
`model_construct` does, minus its per-field bookkeeping): this is what makes decoding cheap.

Correctness never rests on the fast path:
- a field whose type has no reader, or whose node holds something unexpected (`Mismatch`), is
  read by docarray's own code and validated against the field's annotation;
- a class with its own validators, aliases, constrained fields or private attributes is built
  with full validation (`cls(**values)`), its values still read fast;
- a class that loads extra fields from protobuf goes through docarray's `from_protobuf` whole.
Differences from docarray on purpose: an empty or missing `id` gets a fresh id (the field's
default factory), never `None` or "", and an empty tensor keeps its dtype.
"""

from __future__ import annotations

import enum
import functools
import inspect
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, get_args, get_origin

from docarray import DocList
from docarray.base_doc import AnyDoc
from docarray.base_doc.doc import BaseDocWithoutId
from docarray.proto import DocProto, NodeProto
from docarray.typing import ID, NdArray
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from flowql._codec_values import Mismatch, Reader, check_for, checked, id_reader, read_any, read_tensor
from flowql._codec_wire import TAG, Node, RawDoc

__all__ = ["DocPlan", "plan_for"]

Empty = Callable[[], Any]
FieldSpec = tuple[str, Reader | None, Empty | None]
_EMPTY_DOC_ARRAY = TAG.DOC_ARRAY + b"\x00"
_new_object = object.__new__
_set = object.__setattr__


class _Mode(enum.Enum):
    FAST = "fast"  # typed values, no validation
    VALIDATED = "validated"  # values read fast, then cls(**values)
    DOCARRAY = "docarray"  # cls.from_protobuf


def _none() -> None:
    return None


@functools.lru_cache(maxsize=1024)
def plan_for(cls: type[BaseDocWithoutId]) -> DocPlan:
    """The (cached) plan for a document class; its fields are resolved on first use."""
    return DocPlan(cls)


class DocPlan:
    """How to build documents of one class from `{field name: NodeProto bytes}`."""

    def __init__(self, cls: type[BaseDocWithoutId]) -> None:
        self.cls = cls
        self._specs: tuple[FieldSpec, ...] | None = None
        self._mode = _Mode.FAST
        self._extra: dict[str, Any] | None = None
        self._adapters: dict[str, TypeAdapter[Any]] = {}

    def build(self, nodes: Mapping[str, bytes]) -> Any:
        """One document from its nodes (a DocProto's data map: a dict or the parsed map itself)."""
        specs = self._specs if self._specs is not None else self._prepare()
        if self._mode is not _Mode.FAST:
            return self._build_slow(nodes)
        values: dict[str, Any] = {}
        for name, read, empty in specs:
            raw = nodes.get(name)
            if raw:
                if read is not None:
                    try:
                        values[name] = read(raw)
                        continue
                    except Mismatch:
                        pass
                values[name] = self._docarray_field(name, raw)
            elif raw is None:
                return self._build_with_defaults(nodes)
            elif empty is _none:  # the commonest empty node: None in an Optional field
                values[name] = None
            elif empty is not None:
                values[name] = empty()
            else:
                values[name] = self._docarray_field(name, raw)
        return self._construct(values, set(values))

    def _construct(self, values: dict[str, Any], fields_set: set[str]) -> Any:
        # What pydantic's model_construct leaves on an instance (no post-init: see _mode_of).
        doc = _new_object(self.cls)
        _set(doc, "__dict__", values)
        _set(doc, "__pydantic_fields_set__", fields_set)
        _set(doc, "__pydantic_extra__", None if self._extra is None else {})
        _set(doc, "__pydantic_private__", None)
        return doc

    def _read(self, name: str, raw: bytes, read: Reader | None, empty: Empty | None) -> Any:
        if raw:
            if read is not None:
                try:
                    return read(raw)
                except Mismatch:
                    pass
        elif empty is not None:
            return empty()
        return self._docarray_field(name, raw)

    def _build_with_defaults(self, nodes: Mapping[str, bytes]) -> Any:
        """Some field is not on the wire: its default, as pydantic would fill it, in field order."""
        assert self._specs is not None
        fields = self.cls.model_fields
        values: dict[str, Any] = {}
        for name, read, empty in self._specs:
            raw = nodes.get(name)
            if raw is not None:
                values[name] = self._read(name, raw, read, empty)
            elif fields[name].is_required():
                present = {key: value for key, value in values.items() if key in nodes}
                return self.cls(**present)  # raises pydantic's "Field required"
            else:
                values[name] = fields[name].get_default(call_default_factory=True, validated_data=values)
        return self._construct(values, {name for name in values if name in nodes})

    def _build_slow(self, nodes: Mapping[str, bytes]) -> Any:
        assert self._specs is not None
        if self._mode is _Mode.DOCARRAY:
            proto = DocProto.FromString(RawDoc(data=dict(nodes)).SerializeToString())
            return self.cls.from_protobuf(proto)
        values = {}
        for name, read, empty in self._specs:
            raw = nodes.get(name)
            if raw is not None:
                values[name] = self._read(name, raw, read, empty)
        return self.cls(**values)

    def _docarray_field(self, name: str, raw: bytes) -> Any:
        """docarray's own reading of one field, validated against its annotation."""
        value = self.cls._get_content_from_node_proto(NodeProto.FromString(raw), name)
        if self._mode is _Mode.VALIDATED:
            return value  # the class validates it
        adapter = self._adapters.get(name)
        if adapter is None:
            field = self.cls.model_fields[name]
            annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
            adapter = self._adapters[name] = TypeAdapter(annotation)  # type: ignore[arg-type]
        return adapter.validate_python(value)

    def _prepare(self) -> tuple[FieldSpec, ...]:
        self._mode = _mode_of(self.cls)
        self._extra = {} if self.cls.model_config.get("extra") == "allow" else None
        specs = tuple(_field_spec(name, field) for name, field in self.cls.model_fields.items())
        self._specs = specs
        return specs


def _mode_of(cls: type[BaseDocWithoutId]) -> _Mode:
    config = cls.model_config
    if config.get("_load_extra_fields_from_protobuf"):
        return _Mode.DOCARRAY
    decorators = cls.__pydantic_decorators__
    validators = [
        *decorators.field_validators.values(),
        *decorators.model_validators.values(),
        *decorators.validators.values(),
        *decorators.root_validators.values(),
    ]
    custom = [dec for dec in validators if not _replicated(dec)]
    fields = cls.model_fields.values()
    special_fields = any(
        field.alias is not None or field.validation_alias is not None or field.metadata for field in fields
    )
    if custom or special_fields or cls.__pydantic_post_init__ or cls.__private_attributes__:
        return _Mode.VALIDATED
    return _Mode.FAST


def _replicated(decorator: Any) -> bool:
    """flowql.Document's own id validator (fresh id when empty): the id reader does the same."""
    func = getattr(decorator.func, "__func__", decorator.func)
    info = decorator.info
    return getattr(func, "__module__", None) == "flowql.documents" and tuple(getattr(info, "fields", ())) == ("id",)


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return annotation, False


def _field_spec(name: str, field: FieldInfo) -> FieldSpec:
    inner, nullable = _strip_optional(field.annotation)
    empty: Empty | None = _none if nullable else None
    if inner is ID:
        if name == "id":
            fresh = field.default_factory if callable(field.default_factory) else None
            if fresh is not None and getattr(field, "default_factory_takes_validated_data", False):
                fresh = None
            fresh_id: Empty = fresh or _fresh_id  # type: ignore[assignment]
            return name, id_reader(fresh_id), fresh_id
        return name, id_reader(None), empty
    return name, _reader_for(inner), empty


def _fresh_id() -> ID:
    return ID(os.urandom(16).hex())


def _reader_for(annotation: Any) -> Reader | None:
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
            return _doc_reader(plan_for(annotation))
    origin = get_origin(annotation)
    # On Python < 3.12 `DocList[X]` is a typing alias of the class docarray made for X.
    list_cls = annotation if inspect.isclass(annotation) else origin
    if inspect.isclass(list_cls) and issubclass(list_cls, DocList):
        doc_type = getattr(list_cls, "doc_type", None)
        if inspect.isclass(doc_type) and issubclass(doc_type, BaseDocWithoutId) and doc_type is not AnyDoc:
            return _doc_list_reader(list_cls, plan_for(doc_type))
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


def _doc_reader(plan: DocPlan) -> Reader:
    def read(raw: bytes) -> Any:
        node = Node.FromString(raw)
        if node.WhichOneof("content") != "doc":
            raise Mismatch("not a doc")
        return plan.build(node.doc.data)

    return read


def _doc_list_reader(list_cls: type[DocList[Any]], plan: DocPlan) -> Reader:
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
