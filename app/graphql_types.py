"""GraphQL object and input types generated from document schemas (`DocSchema`), with strawberry.

Every document type gets an output type named after its class (`Document`, `UpperOut`) and an
input type with `Input` appended (`DocumentInput`). Field descriptions are carried over. Mapping:

| document field                    | GraphQL output           | GraphQL input            |
| --------------------------------- | ------------------------ | ------------------------ |
| id                                | String                   | String (omit: fresh id)  |
| str / int / float / bool          | String / Int / Float / Boolean (Int is 32-bit, as on the wire) |
| NdArray (embedding, tensor)       | [Float!] (flattened)     | [Float!] (shape checked) |
| bytes (blob)                      | Base64                   | Base64                   |
| dict, tags, scores, other values  | JSON                     | JSON                     |
| nested BaseDoc / DocList          | the nested type / [type!] (recursive, e.g. matches)  |

Output values are plain dicts (`doc_wire.decode_dicts`); the schema's default resolver reads
them by key. Input ids are never given a default in the schema: a default would be frozen into
the schema and shared by every document (STACK-FACTS); the gateway makes fresh ones instead.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON, Base64
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from flowql.app.doc_schema import DocSchema, FieldSpec

__all__ = ["TypeRegistry", "input_to_dict", "read_field", "list_of", "TENSOR_NOTE"]

TENSOR_NOTE = "A tensor (docarray NdArray) as a flat list of floats."

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}


def list_of(item: Any) -> Any:
    """`list[item]` for a type made at run time (the same object the subscript makes)."""
    return list.__class_getitem__(item)


def read_field(source: Any, name: str) -> Any:
    """The schema's default resolver: documents and records are dicts; other values use attributes."""
    if type(source) is dict:
        return source.get(name)
    return getattr(source, name)


class TypeRegistry:
    """Creates each document type once; same-named but different schemas get distinct names.

    Schemas are keyed by their JSON: the same class reported by two endpoints (or two executors)
    is one GraphQL type, a different class that happens to share its name becomes `Name2`.
    """

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        # Names the schema's fixed types use (Query, Progress, JSON...): a document class named
        # like one of them gets a suffix instead of breaking the schema.
        self._reserved = reserved
        self._name_by_source: dict[str, str] = {}
        self._outputs: dict[str, type] = {}
        self._inputs: dict[str, type] = {}

    def name_of(self, schema: DocSchema) -> str:
        known = self._name_by_source.get(schema.source)
        if known is not None:
            return known
        base = schema.name or "Doc"
        taken = set(self._name_by_source.values()) | self._reserved | {n + "Input" for n in self._reserved}
        name, suffix = base, 1
        while name in taken:
            suffix += 1
            name = f"{base}{suffix}"
        self._name_by_source[schema.source] = name
        return name

    def output(self, schema: DocSchema) -> type:
        """The strawberry output type of `schema` (built once; recursive fields allowed)."""
        name = self.name_of(schema)
        if name in self._outputs:
            return self._outputs[name]
        cls = type(name, (), {"__module__": __name__})
        # Registered before its fields are typed, so `matches: [Document!]` finds the class itself.
        self._outputs[name] = cls
        annotations: dict[str, Any] = {}
        for spec in schema.fields.values():
            annotations[spec.name] = self._output_annotation(spec) | None
            setattr(cls, spec.name, strawberry.field(default=None, description=_describe(spec)))
        cls.__annotations__ = annotations
        strawberry.type(cls, name=name, description=schema.description)
        return cls

    def input(self, schema: DocSchema) -> type:
        """The strawberry input type of `schema` (`<Name>Input`)."""
        name = self.name_of(schema) + "Input"
        if name in self._inputs:
            return self._inputs[name]
        cls = type(name, (), {"__module__": __name__})
        self._inputs[name] = cls
        annotations: dict[str, Any] = {}
        for spec in schema.fields.values():
            annotation = self._input_annotation(spec)
            if spec.required and spec.kind != "id":
                annotations[spec.name] = annotation
                setattr(cls, spec.name, strawberry.field(description=_describe(spec)))
            else:
                annotations[spec.name] = annotation | None
                setattr(cls, spec.name, strawberry.field(default=UNSET, description=_describe(spec)))
        cls.__annotations__ = annotations
        strawberry.input(cls, name=name, description=schema.description)
        return cls

    def _output_annotation(self, spec: FieldSpec) -> Any:
        if spec.kind in ("doc", "docs") and spec.doc is not None:
            nested = self.output(spec.doc)
            return nested if spec.kind == "doc" else list_of(nested)
        return _leaf_annotation(spec)

    def _input_annotation(self, spec: FieldSpec) -> Any:
        if spec.kind in ("doc", "docs") and spec.doc is not None:
            nested = self.input(spec.doc)
            return nested if spec.kind == "doc" else list_of(nested)
        return _leaf_annotation(spec)


def _leaf_annotation(spec: FieldSpec) -> Any:
    kind = spec.kind
    if kind == "id":
        return str
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "tensor":
        return list[float]
    if kind == "blob":
        return Base64
    if kind == "list" and spec.item_kind in _SCALARS:
        return list_of(_SCALARS[spec.item_kind])
    return JSON


def _describe(spec: FieldSpec) -> str | None:
    if spec.kind == "tensor":
        shape = f" Shape {list(spec.shape)}." if spec.shape else ""
        return " ".join(part for part in (spec.description, TENSOR_NOTE + shape) if part)
    if spec.kind == "id" and not spec.description:
        return "Unique id; leave it out on input to get a fresh one."
    return spec.description


def input_to_dict(value: Any, schema: DocSchema) -> dict[str, Any]:
    """A GraphQL input document as a plain document dict (fields left out stay out).

    `value` is either strawberry's input object or, on the fast path where graphql-core's
    coerced arguments reach the resolver directly (see `graphql_schema.install_raw_resolvers`),
    a dict keyed by GraphQL field names (`mimeType`), mapped back to the schema's (`mime_type`).
    """
    if type(value) is dict:
        names = _python_names(schema)
        result: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            name: str = names.get(key) or key
            spec = schema.fields.get(name)
            if spec is not None and spec.doc is not None:
                if spec.kind == "doc":
                    item = input_to_dict(item, spec.doc)
                elif spec.kind == "docs":
                    item = [input_to_dict(entry, spec.doc) for entry in item]
            result[name] = item
        return result
    result = {}
    for name, spec in schema.fields.items():
        item = getattr(value, name, UNSET)
        if item is UNSET or item is None:
            continue
        if spec.kind == "doc" and spec.doc is not None:
            item = input_to_dict(item, spec.doc)
        elif spec.kind == "docs" and spec.doc is not None:
            item = [input_to_dict(entry, spec.doc) for entry in item]
        result[name] = item
    return result


def _python_names(schema: DocSchema) -> dict[str, str]:
    # GraphQL name -> field name, as strawberry's default name converter (camelCase) makes them.
    names = schema.graphql_names
    if names is None:
        names = {to_camel_case(name): name for name in schema.fields}
        schema.graphql_names = names
    return names
