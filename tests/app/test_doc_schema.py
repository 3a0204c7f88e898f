"""Compiling executors' JSON schemas into field kinds, and the GraphQL types made from them."""

from __future__ import annotations

import strawberry
from docarray import BaseDoc, DocList
from docarray.typing import NdArray
from pydantic import Field

from flowql.app.doc_schema import compile_schema, default_document_schema
from flowql.app.graphql_types import TypeRegistry


class Node(BaseDoc):
    """A tree node."""

    label: str = Field(description="Its label.")
    children: DocList[Node] = Field(default_factory=lambda: DocList[Node]())
    weights: NdArray[3] | None = None  # type: ignore[valid-type]
    blob: bytes | None = None
    either: int | str = 0


def test_kinds_of_the_default_document() -> None:
    schema = default_document_schema()
    kinds = {name: spec.kind for name, spec in schema.fields.items()}
    assert kinds == {
        "id": "id",
        "text": "string",
        "uri": "string",
        "mime_type": "string",
        "tags": "json",
        "embedding": "tensor",
        "tensor": "tensor",
        "blob": "blob",
        "scores": "json",
        "matches": "docs",
        "chunks": "docs",
    }
    assert schema.fields["matches"].doc is schema  # recursive


def test_custom_schema_keeps_descriptions_shapes_and_recursion() -> None:
    schema = compile_schema(Node.model_json_schema())
    assert schema.name == "Node" and schema.description == "A tree node."
    assert schema.fields["label"].description == "Its label." and schema.fields["label"].required
    assert schema.fields["children"].doc is schema
    assert schema.fields["weights"].shape == (3,)
    assert schema.fields["blob"].kind == "blob"
    assert schema.fields["either"].kind == "json"  # a union GraphQL has no scalar for


def test_same_named_different_schemas_get_distinct_graphql_names() -> None:
    class Thing(BaseDoc):
        a: str = ""

    first = Thing

    class Thing(BaseDoc):  # type: ignore[no-redef]
        b: int = 0

    registry = TypeRegistry()
    one = registry.output(compile_schema(first.model_json_schema()))
    two = registry.output(compile_schema(Thing.model_json_schema()))
    again = registry.output(compile_schema(first.model_json_schema()))

    query = type("Query", (), {"x": None, "y": None})
    query.__annotations__ = {"x": one | None, "y": two | None}
    sdl = str(strawberry.Schema(strawberry.type(query)))
    assert again is one
    assert "type Thing {" in sdl and "type Thing2 {" in sdl
