"""The default document schema, `Document`, and its list type, `DocumentArray`.

Any docarray `BaseDoc` subclass works as a document schema; `Document` is the one used when an
executor does not declare its own. It carries the fields Jina's documents had.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar, overload

import numpy as np
from docarray import BaseDoc, DocList
from docarray.typing import ID, NdArray
from pydantic import Field, field_validator

__all__ = ["Document", "DocumentArray", "new_id", "docs_by_id"]

TDoc = TypeVar("TDoc", bound=BaseDoc)


def new_id() -> str:
    """A fresh random 32-character hex id."""
    return os.urandom(16).hex()


class Document(BaseDoc):
    """A document: text, a URI, binary content, tensors, tags, scores, and nested matches/chunks."""

    id: ID = Field(
        default_factory=lambda: ID(new_id()),
        description="Unique id of the document; a fresh random hex id when none is given.",
    )
    text: str | None = Field(default=None, description="Text content.")
    uri: str | None = Field(default=None, description="Where the content comes from: a URL, a path or a data URI.")
    mime_type: str | None = Field(default=None, description="MIME type of the content.")
    tags: dict[str, Any] = Field(default_factory=dict, description="Free-form JSON metadata.")
    embedding: NdArray | None = Field(  # type: ignore[type-arg]
        default=None, description="Vector representation of the document."
    )
    tensor: NdArray | None = Field(  # type: ignore[type-arg]
        default=None, description="Tensor content, e.g. image pixels."
    )
    blob: bytes | None = Field(default=None, description="Binary content.")
    scores: dict[str, float] = Field(default_factory=dict, description="Named scores, e.g. a match's similarity.")
    matches: DocList[Document] = Field(
        default_factory=lambda: DocList[Document](),
        description="Documents this one matched, e.g. search results.",
    )
    chunks: DocList[Document] = Field(
        default_factory=lambda: DocList[Document](),
        description="Parts of this document, e.g. its sentences.",
    )

    @field_validator("id", mode="before")
    @classmethod
    def _fresh_id_when_missing(cls, value: Any) -> Any:
        # Input parsed from GraphQL or JSON may carry `id: null` or "": such a document is new
        # and must not share an id with any other.
        if value is None or value == "":
            return ID(new_id())
        return value


class DocumentArray(DocList[Document]):
    """A list of `Document` with the conveniences of Jina's DocumentArray.

    >>> da = DocumentArray([Document(id='a', text='hello'), Document(id='b', text='world')])
    >>> da.texts
    ['hello', 'world']
    >>> da['b'].text
    'world'
    """

    def __init__(self, docs: Iterable[Document] | None = None, **kwargs: Any) -> None:
        super().__init__(docs if docs is not None else (), **kwargs)

    @property
    def texts(self) -> list[str | None]:
        return [doc.text for doc in self]

    @texts.setter
    def texts(self, values: Iterable[str | None]) -> None:
        for doc, value in zip(self, values, strict=True):
            doc.text = value

    @property
    def embeddings(self) -> np.ndarray | None:
        """The documents' embeddings stacked into one array, or None when any is missing."""
        vectors = [doc.embedding for doc in self]
        if not vectors or any(vector is None for vector in vectors):
            return None
        return np.stack([np.asarray(vector) for vector in vectors])

    @embeddings.setter
    def embeddings(self, values: Iterable[Any]) -> None:
        for doc, value in zip(self, values, strict=True):
            doc.embedding = value

    @overload  # type: ignore[override]
    def __getitem__(self, item: str) -> Document: ...
    @overload
    def __getitem__(self, item: int) -> Document: ...
    @overload
    def __getitem__(self, item: Any) -> Any: ...

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            for doc in self:
                if doc.id == item:
                    return doc
            raise KeyError(f"no document with id {item!r}")
        return super().__getitem__(item)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(doc.id == item for doc in self)
        return super().__contains__(item)


def docs_by_id(docs: Iterable[TDoc]) -> dict[str, TDoc]:
    """Index documents by id (the last one wins where ids repeat)."""
    return {str(doc.id): doc for doc in docs}
