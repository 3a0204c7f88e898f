"""Per document class, a plan for building documents from `{field: NodeProto bytes}`.

A plan is made once per class (`plan_for`) from the pydantic field annotations: for each field
a reader chosen by type (`flowql._codec_fields`: str, int, float, bool, bytes, ID, NdArray,
nested BaseDoc, DocList[...], dict/list of JSON values, Optional of these). A reader gives a
value already of the type pydantic would have produced, so the document is built without
validation (what `model_construct` does, minus its per-field bookkeeping): this is what makes
decoding cheap.

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

import copy
import enum
import functools
from collections.abc import Mapping
from typing import Annotated, Any

from docarray.base_doc.doc import BaseDocWithoutId
from docarray.proto import DocProto, NodeProto
from pydantic import TypeAdapter

from flowql._codec_fields import Empty, FieldSpec, field_spec, read_none
from flowql._codec_values import Mismatch, Reader
from flowql._codec_wire import RawDoc

__all__ = ["DocPlan", "plan_for"]

_new_object = object.__new__
_set = object.__setattr__


class _Mode(enum.Enum):
    FAST = "fast"  # typed values, no validation
    VALIDATED = "validated"  # values read fast, then cls(**values)
    DOCARRAY = "docarray"  # cls.from_protobuf


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
        self._defaults: dict[str, Any] = {}

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
            elif empty is read_none:  # the commonest empty node: None in an Optional field
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
                make = self._defaults.get(name)
                if make is None:
                    make = self._defaults[name] = _default_maker(fields[name])
                values[name] = make(values)
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
        fields = self.cls.model_fields.items()
        specs = tuple(field_spec(name, field, plan_for) for name, field in fields)
        self._specs = specs
        return specs


_IMMUTABLE_DEFAULTS = (type(None), str, int, float, bool, bytes, tuple, frozenset)


def _default_maker(field: Any) -> Any:
    """What `field.get_default(call_default_factory=True, validated_data=...)` returns, without
    pydantic re-inspecting the factory's signature on every call (it did, per missing field, per
    document: a third of an executor's time on documents that arrived without every field)."""
    factory = field.default_factory
    if factory is None:
        default = field.default
        if isinstance(default, _IMMUTABLE_DEFAULTS):
            return lambda values: default
        # A mutable default (a list, a dict) must not be shared between documents.
        return lambda values: copy.deepcopy(default)
    if field.default_factory_takes_validated_data:
        return lambda values: factory(values)
    return lambda values: factory()


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
