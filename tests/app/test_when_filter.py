"""`when` conditions: splitting by a filter and putting the documents back (`flowql.app.when_filter`)."""

from __future__ import annotations

from flowql.app.when_filter import merge_back, split_by_condition
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document

IMAGES = {"tags__kind": {"$eq": "img"}}


def mixed() -> bytes:
    kinds = ["txt", "img", "txt", "img"]
    return encode_docs([Document(id=str(i), text=f"d{i}", tags={"kind": kind}) for i, kind in enumerate(kinds)])


def ids(data: bytes) -> list[str]:
    return [str(doc.id) for doc in decode_docs(data, Document)]


def test_split_selects_the_matching_documents() -> None:
    split = split_by_condition(mixed(), IMAGES)
    assert split.mask == [False, True, False, True]
    assert ids(split.selected) == ["1", "3"]


def test_split_matching_everything_keeps_the_original_bytes() -> None:
    data = encode_docs([Document(tags={"kind": "img"})])
    split = split_by_condition(data, IMAGES)
    assert split.matched_all and split.selected == data


def test_merge_back_puts_processed_documents_in_their_places() -> None:
    split = split_by_condition(mixed(), IMAGES)
    processed = encode_docs([Document(id="3", text="THREE"), Document(id="1", text="ONE")])
    result = decode_docs(merge_back(split, processed), Document)
    assert [doc.text for doc in result] == ["d0", "ONE", "d2", "THREE"]


def test_merge_back_appends_added_documents_and_drops_removed_ones() -> None:
    split = split_by_condition(mixed(), IMAGES)
    processed = encode_docs([Document(id="1", text="kept"), Document(id="new", text="added")])
    result = decode_docs(merge_back(split, processed), Document)
    assert [str(doc.id) for doc in result] == ["0", "1", "2", "new"]
