"""Shared document schemas and helpers for the codec tests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from docarray import BaseDoc, DocList
from docarray.proto import DocListProto
from docarray.typing import ID, AnyUrl, NdArray
from pydantic import ConfigDict, Field, field_validator

from flowql.documents import Document, DocumentArray

# ---------------------------------------------------------------------------------------------
# Schemas and helpers


class Author(BaseDoc):
    name: str
    age: int | None = None


class Article(BaseDoc):
    """A user schema: scalars, an optional tensor, JSON tags, a nested doc and a doc list."""

    title: str
    views: int = 0
    rating: float = 0.0
    published: bool = False
    raw: bytes | None = None
    embedding: NdArray | None = None  # type: ignore[type-arg]
    tags: dict[str, Any] = {}
    keywords: list[str] = []
    author: Author | None = None
    contributors: DocList[Author] = DocList[Author]()


class Exotic(BaseDoc):
    """Field types the fast path has no reader for: docarray's own reading takes them."""

    link: AnyUrl | None = None
    either: int | str = 0
    labels: set[str] = set()
    pair: tuple[int, str] | None = None


class Strict(BaseDoc):
    """A schema with its own validator: built with validation, like docarray does."""

    count: int = 0

    @field_validator("count")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("count must not be negative")
        return value


class Fixed(BaseDoc):
    vector: NdArray[4]  # type: ignore[valid-type]


class LooseCount(BaseDoc):
    count: str = ""


class Partial(BaseDoc):
    text: str | None = None


class Extended(Document):
    """A user subclass of the default document."""

    rank: int = 0


class Holder(BaseDoc):
    """A field typed with flowql's DocumentArray (a DocList subclass with its own __init__)."""

    docs: DocumentArray = Field(default_factory=DocumentArray)


class Open(BaseDoc):
    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]
    known: int = 0


class Typed(BaseDoc):
    """Typed containers and an ID that is not the document's own."""

    weights: dict[str, float | None] = {}
    names: list[str | None] = []
    chunks: list[bytes] = []
    flags: dict[str, bool] = {}
    parent_id: ID | None = None
    other: ID = ID("")


class Counted(BaseDoc):
    """Receives Partial's `text` as an int: the wire holds text, docarray coerces or refuses."""

    text: int | None = None
    author: Author | None = None


class Bare(BaseDoc):
    """Unparametrized containers: any JSON-like content."""

    mapping: dict = {}  # type: ignore[type-arg]
    items: list = []  # type: ignore[type-arg]
    anything: Any = None


def docarray_encode(docs: list[Any]) -> bytes:
    proto = DocListProto()
    for doc in docs:
        proto.docs.append(doc.to_protobuf())
    data: bytes = proto.SerializeToString()
    return data


def docarray_decode(data: bytes, doc_type: type[BaseDoc]) -> DocList[Any]:
    return DocList[doc_type].from_protobuf(DocListProto.FromString(data))  # type: ignore[valid-type]


def assert_same_json(left: Any, right: Any) -> None:
    """Equal, and of the same types all the way down (an int stays an int, a float a float)."""
    assert type(left) is type(right), (left, right)
    if isinstance(left, dict):
        assert sorted(left) == sorted(right)
        for key in left:
            assert_same_json(left[key], right[key])
    elif isinstance(left, list | tuple):
        assert len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            assert_same_json(a, b)
    elif isinstance(left, float) and math.isnan(left):
        assert math.isnan(right)
    else:
        assert left == right


def assert_same_doc(left: BaseDoc, right: BaseDoc) -> None:
    """Every field equal, ids included (BaseDoc's own == skips ids), tensors with dtype and shape."""
    assert type(left) is type(right)
    for name in type(left).model_fields:
        a, b = getattr(left, name), getattr(right, name)
        if isinstance(a, BaseDoc):
            assert_same_doc(a, b)
        elif isinstance(a, DocList):
            assert isinstance(b, DocList) and len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert_same_doc(x, y)
        elif isinstance(a, np.ndarray):
            assert isinstance(b, NdArray), type(b)
            assert b.dtype == a.dtype and b.shape == a.shape
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        elif isinstance(a, dict):
            assert_same_json(a, b)
        else:
            assert a == b, (name, a, b)
            assert type(a) is type(b) or a is None, (name, type(a), type(b))
    assert left == right


def full_document() -> Document:
    def match(level: int, index: int) -> Document:
        children = [match(level + 1, i) for i in range(2)] if level < 2 else []
        return Document(
            text=f"match {level}.{index}",
            scores={"cosine": 0.5 + index, "rank": float(index)},
            tags={"level": level},
            matches=DocList[Document](children),
            chunks=DocList[Document]([Document(text=f"chunk of {level}.{index}", scores={"bm25": 1.25})]),
        )

    return Document(
        text="hello world",
        uri="https://example.org/a.png",
        mime_type="image/png",
        tags={
            "int": 3,
            "negative": -7,
            "zero": 0,
            "float": 2.5,
            "whole_float": 3.0,
            "true": True,
            "false": False,
            "none": None,
            "text": "x",
            "list": [1, 2.5, "y", None, [True, {"deep": -1}]],
            "nested": {"a": {"b": {"c": [1, 2]}}},
            "empty_list": [],
            "empty_dict": {},
        },
        embedding=np.arange(8, dtype=np.float32),
        tensor=np.arange(6, dtype=np.int64).reshape(2, 3),
        blob=b"\x00\x01\xff binary",
        scores={"score": 0.75, "other": -1.0},
        matches=DocList[Document]([match(1, 0), match(1, 1)]),
        chunks=DocList[Document]([Document(text="chunk", chunks=DocList[Document]([Document(text="sub")]))]),
    )


def full_article() -> Article:
    return Article(
        title="Über τέλος 🚀",
        views=42,
        rating=4.5,
        published=True,
        raw=b"\x00" * 10,
        embedding=np.linspace(0, 1, 5, dtype=np.float64),
        tags={"lang": "de", "year": 2024, "ratio": 0.25, "flags": [True, False]},
        keywords=["a", "b"],
        author=Author(name="Ada", age=36),
        contributors=DocList[Author]([Author(name="Bob"), Author(name="Cy", age=7)]),
    )
