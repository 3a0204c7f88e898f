"""Documents as JSON values for `protocol='http'`: tensors as nested lists, blobs as base64 strings."""

from __future__ import annotations

import base64
import types
import typing
from typing import Any

import numpy as np
from docarray import BaseDoc, DocList

__all__ = ["doc_to_json", "doc_from_json"]


def doc_to_json(doc: BaseDoc) -> dict[str, Any]:
    """A JSON-ready dict of `doc` (pydantic's own JSON mode cannot carry non-UTF-8 bytes).

    Fields that are None or empty (`[]`, `{}`) are left out: the receiver's schema defaults
    restore them, the body is smaller, and the gateway reads an empty `matches: []` as null.
    """
    fields: dict[str, Any] = {}
    for name in type(doc).model_fields:
        value = getattr(doc, name)
        if value is None or (isinstance(value, list | tuple | dict) and len(value) == 0):
            continue
        fields[name] = _jsonable(value)
    return fields


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseDoc):
        return doc_to_json(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):  # DocList included
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "tolist"):  # numpy scalars and other tensor types
        return value.tolist()
    return value


def doc_from_json(data: dict[str, Any], doc_type: type[BaseDoc]) -> BaseDoc:
    """Build a `doc_type` from a JSON dict, turning base64 strings back into bytes where the schema says bytes."""
    return doc_type.model_validate(_decode_blobs(data, doc_type))


def _decode_blobs(data: dict[str, Any], doc_type: type[BaseDoc]) -> dict[str, Any]:
    fixed = dict(data)
    for name, field in doc_type.model_fields.items():
        value = fixed.get(name)
        if value is None:
            continue
        kinds = _kinds(field.annotation)
        if bytes in kinds and isinstance(value, str):
            fixed[name] = base64.b64decode(value)
            continue
        for kind in kinds:
            # DocList[X] may be a class or a typing alias; both carry the document class as `doc_type`.
            inner = getattr(kind, "doc_type", None)
            if isinstance(value, list) and _is_doclist(kind):
                if isinstance(inner, type) and issubclass(inner, BaseDoc):
                    fixed[name] = [_decode_blobs(item, inner) if isinstance(item, dict) else item for item in value]
            elif isinstance(kind, type) and issubclass(kind, BaseDoc) and isinstance(value, dict):
                fixed[name] = _decode_blobs(value, kind)
    return fixed


def _is_doclist(kind: Any) -> bool:
    origin = typing.get_origin(kind) or kind
    return isinstance(origin, type) and issubclass(origin, DocList)


def _kinds(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)
