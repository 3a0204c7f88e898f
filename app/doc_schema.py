"""Document schemas as the gateway sees them: compiled from the executors' pydantic JSON schemas.

Executors report each endpoint's input and output document types as `model_json_schema()` JSON.
The gateway never imports the executors' classes, so it compiles that JSON into `DocSchema`: one
`FieldSpec` per field with the *kind* of value it holds. The kinds drive both the GraphQL types
(`graphql_types`) and the document wire encoding (`doc_wire`), so the two always agree.

Kinds: `id`, `string`, `integer`, `number`, `boolean`, `blob` (bytes), `tensor` (docarray NdArray,
recognised by pydantic's "tensor/array shape" key), `doc` (a nested BaseDoc), `docs` (a DocList),
`list` (a list of scalars, `item_kind` says which) and `json` (dicts and anything else).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from flowql.documents import Document

__all__ = ["DocSchema", "FieldSpec", "FieldKind", "compile_schema", "default_document_schema", "SCALAR_KINDS"]

FieldKind = Literal["id", "string", "integer", "number", "boolean", "blob", "tensor", "doc", "docs", "list", "json"]
SCALAR_KINDS: dict[str, FieldKind] = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}


@dataclass(eq=False)
class FieldSpec:
    """One field of a document schema."""

    name: str
    kind: FieldKind
    description: str | None = None
    required: bool = False
    # For `doc` / `docs`: the nested schema. For `list`: the kind of the items.
    doc: DocSchema | None = None
    item_kind: FieldKind | None = None
    # For `tensor`: the declared shape (e.g. (4,)), or None when not specified.
    shape: tuple[int, ...] | None = None

    @property
    def size(self) -> int | None:
        """Number of values a tensor of the declared shape holds."""
        return math.prod(self.shape) if self.shape else None


@dataclass(eq=False)
class DocSchema:
    """A document type: its name, description and fields, in declaration order."""

    name: str
    description: str | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # The JSON this schema was compiled from (its own definition), to tell same-named types apart.
    source: str = ""
    # GraphQL input field name -> field name, filled in by `graphql_types` on first use.
    graphql_names: dict[str, str] | None = None


def _strip_null(options: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    kept = [option for option in options if option.get("type") != "null"]
    return kept, len(kept) != len(options)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, dict[str, Any]] = dict(root.get("$defs") or root.get("definitions") or {})
        self.compiled: dict[str, DocSchema] = {}

    def ref_name(self, ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def compile_object(self, name: str, definition: dict[str, Any]) -> DocSchema:
        if name in self.compiled:
            return self.compiled[name]
        schema = DocSchema(
            name=definition.get("title") or name,
            description=definition.get("description"),
            source=json.dumps(definition, sort_keys=True),
        )
        # Registered before the fields so that recursive types (matches, chunks) find themselves.
        self.compiled[name] = schema
        required = set(definition.get("required") or ())
        for field_name, prop in (definition.get("properties") or {}).items():
            spec = self.compile_field(field_name, prop)
            spec.required = field_name in required
            schema.fields[field_name] = spec
        return schema

    def resolve(self, ref: str) -> DocSchema:
        name = self.ref_name(ref)
        if name not in self.defs:
            raise ValueError(f"JSON schema reference {ref!r} has no definition")
        return self.compile_object(name, self.defs[name])

    def compile_field(self, name: str, prop: dict[str, Any]) -> FieldSpec:
        description = prop.get("description")
        if name == "id":
            return FieldSpec(name, "id", description)
        options = prop.get("anyOf") or prop.get("oneOf")
        if options:
            kept, _nullable = _strip_null(options)
            if len(kept) != 1:
                return FieldSpec(name, "json", description)
            prop = {**kept[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}}
        if "allOf" in prop and len(prop["allOf"]) == 1:
            prop = {**prop["allOf"][0], **{k: v for k, v in prop.items() if k != "allOf"}}
        if "$ref" in prop:
            return FieldSpec(name, "doc", description, doc=self.resolve(prop["$ref"]))
        kind = prop.get("type")
        if "tensor/array shape" in prop:
            return FieldSpec(name, "tensor", description, shape=_parse_shape(prop["tensor/array shape"]))
        if kind == "string" and prop.get("format") == "binary":
            return FieldSpec(name, "blob", description)
        if isinstance(kind, str) and kind in SCALAR_KINDS and "enum" not in prop:
            return FieldSpec(name, SCALAR_KINDS[kind], description)
        if kind == "string":
            return FieldSpec(name, "string", description)
        if kind == "array":
            items = prop.get("items") or {}
            if "$ref" in items:
                return FieldSpec(name, "docs", description, doc=self.resolve(items["$ref"]))
            item_kind = items.get("type")
            if isinstance(item_kind, str) and item_kind in SCALAR_KINDS and "format" not in items:
                return FieldSpec(name, "list", description, item_kind=SCALAR_KINDS[item_kind])
        return FieldSpec(name, "json", description)


def _parse_shape(text: Any) -> tuple[int, ...] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return None
    if isinstance(value, list) and value and all(isinstance(dim, int) and dim > 0 for dim in value):
        return tuple(value)
    return None


def compile_schema(json_schema: str | dict[str, Any], name: str = "") -> DocSchema:
    """Compile a pydantic `model_json_schema()` (as JSON text or a dict) into a `DocSchema`."""
    root: dict[str, Any] = json.loads(json_schema) if isinstance(json_schema, str) else json_schema
    compiler = _Compiler(root)
    if "$ref" in root and "properties" not in root:
        return compiler.resolve(root["$ref"])
    return compiler.compile_object(root.get("title") or name or "Document", root)


def default_document_schema() -> DocSchema:
    """The schema of `flowql.Document`, the type of the generic `docs` field."""
    return compile_schema(Document.model_json_schema(), "Document")
