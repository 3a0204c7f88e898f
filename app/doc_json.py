"""Documents in the JSON of `POST /post`: blobs as base64 strings, tensors as (nested) lists.

JSON has no bytes, so a blob travels as standard base64 text both ways; everything else is the
document dict as `doc_wire` reads and writes it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flowql.app.doc_schema import DocSchema
from flowql.app.doc_wire import InputError

__all__ = ["docs_from_json", "jsonable"]


def docs_from_json(docs: Any, schema: DocSchema) -> list[dict[str, Any]]:
    """Check that `docs` is a list of objects and turn their base64 blobs into bytes."""
    if docs is None:
        return []
    if isinstance(docs, dict):
        docs = [docs]
    if not isinstance(docs, list) or not all(isinstance(doc, dict) for doc in docs):
        raise InputError("'data' must be a list of document objects")
    return [_doc_from_json(doc, schema, f"document {index}") for index, doc in enumerate(docs)]


def _doc_from_json(doc: dict[str, Any], schema: DocSchema, where: str) -> dict[str, Any]:
    result = dict(doc)
    for name, value in doc.items():
        spec = schema.fields.get(name)
        if spec is None:
            raise InputError(f"{where}: '{schema.name}' has no field '{name}'")
        if value is None:
            continue
        if spec.kind == "blob" and isinstance(value, str):
            try:
                result[name] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise InputError(f"{where}: field '{name}' must be base64 text") from None
        elif spec.kind == "doc" and spec.doc is not None:
            if not isinstance(value, dict):
                raise InputError(f"{where}: field '{name}' must be an object")
            result[name] = _doc_from_json(value, spec.doc, f"{where}.{name}")
        elif spec.kind == "docs" and spec.doc is not None:
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise InputError(f"{where}: field '{name}' must be a list of objects")
            result[name] = [_doc_from_json(item, spec.doc, f"{where}.{name}[{i}]") for i, item in enumerate(value)]
    return result


def jsonable(value: Any) -> Any:
    """`value` with every bytes object replaced by its base64 text (decoded documents -> JSON)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
