"""`when` conditions: only the documents matching an executor's filter go to it.

The condition is docarray's query language (`docarray.utils.filter.filter_docs`), evaluated on the
documents decoded with `flowql.Document` (so it can test the default schema's fields; fields an
executor's own schema adds are not visible to the filter). The documents themselves travel as their
original protobuf messages: the ones that do not match go around the executor and are put back
after it in their original positions, so no field of any schema is lost on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docarray.proto import DocListProto
from docarray.utils.filter import filter_docs

from flowql.codec import decode_docs
from flowql.documents import Document

from .docs_merge import doc_id, parse_docs

__all__ = ["ConditionSplit", "split_by_condition", "merge_back"]


@dataclass
class ConditionSplit:
    """The documents of one request split by a condition."""

    original: DocListProto
    # mask[i] is True when original document i matches the condition.
    mask: list[bool]
    # The matching documents, serialized: what the executor receives.
    selected: bytes

    @property
    def matched_all(self) -> bool:
        return all(self.mask)

    @property
    def matched_none(self) -> bool:
        return not any(self.mask)


def split_by_condition(data: bytes, condition: dict[str, Any]) -> ConditionSplit:
    """Split the DocListProto bytes `data` by `condition`."""
    original = parse_docs(data)
    docs = decode_docs(data, Document)
    matched = {id(doc) for doc in filter_docs(docs, condition)}
    mask = [id(doc) in matched for doc in docs]
    if all(mask):
        return ConditionSplit(original, mask, data)
    selected = DocListProto()
    selected.docs.extend(doc for doc, keep in zip(original.docs, mask, strict=True) if keep)
    return ConditionSplit(original, mask, selected.SerializeToString())


def merge_back(split: ConditionSplit, processed: bytes) -> bytes:
    """The full document list after the executor: its output in place of the documents it got
    (by id), the others as they were, in their original order; documents it added go last."""
    output = parse_docs(processed)
    by_id = {doc_id(doc): doc for doc in output.docs}
    merged = DocListProto()
    placed: set[str] = set()
    for doc, matched in zip(split.original.docs, split.mask, strict=True):
        if not matched:
            merged.docs.append(doc)
            continue
        key = doc_id(doc)
        replacement = by_id.get(key)
        if replacement is not None:
            merged.docs.append(replacement)
            placed.add(key)
        # A matching document the executor did not return was removed by it: it stays removed.
    merged.docs.extend(doc for doc in output.docs if doc_id(doc) not in placed)
    data: bytes = merged.SerializeToString()
    return data
