from __future__ import annotations

import numpy as np
import pytest
from docarray import BaseDoc, DocList

from flowql import Document, DocumentArray


def test_new_documents_get_distinct_random_hex_ids() -> None:
    ids = {Document().id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(doc_id) == 32 and int(doc_id, 16) >= 0 for doc_id in ids)


@pytest.mark.parametrize("missing", [None, ""])
def test_documents_parsed_without_an_id_get_a_fresh_one(missing: str | None) -> None:
    first = Document.model_validate({"id": missing, "text": "a"})
    second = Document.model_validate({"id": missing, "text": "a"})
    assert first.id and second.id and first.id != second.id


def test_document_carries_the_jina_fields() -> None:
    doc = Document(
        text="hello",
        uri="https://example.org/a.png",
        mime_type="image/png",
        tags={"n": 1, "nested": {"list": [1, 2.5, "x", None]}},
        embedding=np.arange(4, dtype=np.float32),
        tensor=np.zeros((2, 2), dtype=np.uint8),
        blob=b"\x00\x01",
        scores={"cosine": 0.5},
    )
    doc.matches.append(Document(text="match"))
    doc.chunks.append(Document(text="chunk"))
    assert doc.tags["nested"]["list"][1] == 2.5
    assert doc.embedding is not None and doc.embedding.dtype == np.float32
    assert doc.matches[0].text == "match" and doc.chunks[0].text == "chunk"


def test_matches_and_chunks_are_not_shared_between_documents() -> None:
    first, second = Document(), Document()
    first.matches.append(Document(text="m"))
    assert len(second.matches) == 0


def test_document_array_conveniences() -> None:
    docs = DocumentArray(
        [Document(id="a", text="x", embedding=np.ones(2)), Document(id="b", text="y", embedding=np.zeros(2))]
    )
    assert isinstance(docs, DocList)
    assert docs.texts == ["x", "y"]
    assert docs["b"].text == "y"
    assert "a" in docs and "zz" not in docs
    embeddings = docs.embeddings
    assert embeddings is not None and embeddings.shape == (2, 2)
    docs.texts = ["p", "q"]
    assert [doc.text for doc in docs] == ["p", "q"]
    with pytest.raises(KeyError, match="zz"):
        docs["zz"]


def test_document_array_starts_empty_and_slices_keep_the_type() -> None:
    docs = DocumentArray()
    assert len(docs) == 0
    docs.extend(Document(text=str(i)) for i in range(3))
    assert isinstance(docs[0:2], DocumentArray) and len(docs[0:2]) == 2


def test_any_basedoc_subclass_is_a_schema() -> None:
    class Product(BaseDoc):
        title: str
        price: float = 0.0

    products = DocList[Product]([Product(title="pen", price=1.5)])
    assert products[0].price == 1.5 and products[0].id
