"""Documents as plain dicts <-> docarray `DocListProto` bytes, without building pydantic objects.

The gateway turns GraphQL and JSON input into the bytes executors decode, and their answers back
into JSON-ready values. docarray's own path (`BaseDoc` -> `to_protobuf`) costs ~20 µs per document
to encode and ~100 µs to decode; the gateway never needs the objects, so it writes and reads the
proto messages directly. Encoding follows the schema the executor declared (`DocSchema`), so the
receiving class decodes exactly what it would have sent; decoding needs no schema: every value
carries its own kind on the wire.

Values on the way in: tensors as (nested) lists of numbers, blobs as bytes, nested documents as
dicts. On the way out tensors become flat lists of floats (`flat_tensors=True`, GraphQL's
`[Float!]`) or nested lists (JSON), blobs stay bytes (the caller picks base64).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from docarray.proto import DocListProto, DocProto, ListOfAnyProto, NodeProto

from flowql.app.doc_schema import DocSchema, FieldSpec
from flowql.documents import new_id

__all__ = ["InputError", "LazyDoc", "encode_dicts", "decode_dicts", "decode_lazy", "prepare_docs"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64 = "int64"


class InputError(ValueError):
    """A document does not fit the schema of the endpoint it was sent to; the message says how."""


def prepare_docs(docs: Iterable[dict[str, Any]], schema: DocSchema) -> list[dict[str, Any]]:
    """Give every document (nested ones included) without an id a fresh one, and check tensor sizes.

    The ids are made here, not by the executor, so the gateway can name the documents an error
    concerns; each document gets its own id (never a shared default).
    """
    prepared = list(docs)
    for index, doc in enumerate(prepared):
        _prepare(doc, schema, f"document {index}")
    return prepared


def _prepare(doc: dict[str, Any], schema: DocSchema, where: str) -> None:
    if "id" in schema.fields and not doc.get("id"):
        doc["id"] = new_id()
    for name, value in doc.items():
        spec = schema.fields.get(name)
        if spec is None or value is None:
            continue
        if spec.kind == "doc" and spec.doc is not None:
            _prepare(value, spec.doc, f"{where}.{name}")
        elif spec.kind == "docs" and spec.doc is not None:
            for position, item in enumerate(value):
                _prepare(item, spec.doc, f"{where}.{name}[{position}]")
        elif spec.kind == "tensor" and spec.shape is not None:
            size = np.asarray(value).size
            if size != spec.size:
                raise InputError(
                    f"{where}: field '{name}' must hold {spec.size} numbers (shape {list(spec.shape)}), got {size}"
                )


def encode_dicts(docs: Sequence[Mapping[str, Any]], schema: DocSchema) -> bytes:
    """Serialize documents given as dicts into DocListProto bytes following `schema`."""
    message = DocListProto()
    for doc in docs:
        _fill_doc(message.docs.add(), doc, schema)
    data: bytes = message.SerializeToString()
    return data


def _fill_doc(target: DocProto, doc: Mapping[str, Any], schema: DocSchema) -> None:
    fields = schema.fields
    for name, value in doc.items():
        if value is None:
            continue
        spec = fields.get(name)
        if spec is None:
            raise InputError(f"'{schema.name}' has no field '{name}'")
        try:
            _fill_node(target.data[name], value, spec)
        except InputError:
            raise
        except (TypeError, ValueError) as exc:  # protobuf refuses a value of the wrong kind
            raise InputError(f"field '{name}' of '{schema.name}' cannot hold {value!r:.60}: {exc}") from None


def _fill_node(node: NodeProto, value: Any, spec: FieldSpec) -> None:
    kind = spec.kind
    if kind == "id":
        node.text = str(value)
        node.type = "id"
    elif kind == "string":
        node.text = value
    elif kind == "integer":
        node.integer = value
    elif kind == "number":
        node.float = float(value)
    elif kind == "boolean":
        node.boolean = value
    elif kind == "blob":
        node.blob = value
    elif kind == "tensor":
        array = np.asarray(value, dtype=np.float64)
        if spec.shape is not None:
            array = array.reshape(spec.shape)
        dense = node.ndarray.dense
        dense.buffer = array.tobytes()
        dense.shape.extend(array.shape)
        dense.dtype = array.dtype.str
        node.type = "ndarray"
    elif kind == "doc" and spec.doc is not None:
        _fill_doc(node.doc, value, spec.doc)
    elif kind == "docs" and spec.doc is not None:
        doc_list = node.doc_array
        for item in value:
            _fill_doc(doc_list.docs.add(), item, spec.doc)
    else:  # list and json: whatever JSON holds
        _fill_any(node, value)


def _fill_any(node: NodeProto, value: Any) -> None:
    if value is None:
        node.SetInParent()
    elif isinstance(value, bool):
        node.boolean = value
    elif isinstance(value, int):
        # The wire's integer is 32-bit; a larger one travels as its text typed "int64", as
        # flowql's codec writes and reads it.
        if _INT32_MIN <= value <= _INT32_MAX:
            node.integer = value
        else:
            node.text = str(value)
            node.type = _INT64
    elif isinstance(value, float):
        node.float = value
    elif isinstance(value, str):
        node.text = value
    elif isinstance(value, bytes):
        node.blob = value
    elif isinstance(value, Mapping):
        data = node.dict.data
        node.dict.SetInParent()
        for key, item in value.items():
            _fill_any(data[str(key)], item)
    elif isinstance(value, (list, tuple)):
        items = node.list.data
        node.list.SetInParent()
        for item in value:
            _fill_any(items.add(), item)
    else:
        raise InputError(f"cannot send a value of type {type(value).__name__}")


def decode_dicts(data: bytes, *, flat_tensors: bool = True) -> list[dict[str, Any]]:
    """Parse DocListProto bytes into plain dicts (no schema needed: the wire carries each kind).

    Fields that are empty on the wire (None) are left out of the dicts.
    """
    if not data:
        return []
    message = DocListProto()
    message.ParseFromString(data)
    return [_read_doc(doc, flat_tensors) for doc in message.docs]


_SCALAR_CONTENT = frozenset(("text", "integer", "float", "boolean", "blob"))


class LazyDoc:
    """A received document whose fields are decoded when read (GraphQL reads only those selected).

    Attribute access returns what `decode_dicts` would hold for the field (None when absent);
    nested documents come back as `LazyDoc`s too. Tensors are flat lists of floats.
    """

    __slots__ = ("_proto",)

    def __init__(self, proto: DocProto) -> None:
        self._proto = proto

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocol probes (`__await__`, ...) are not document fields
            raise AttributeError(name)
        data = self._proto.data
        if name not in data:
            return None
        node = data[name]
        content = node.WhichOneof("content")
        if content is None:
            return None
        if content in _SCALAR_CONTENT and not (content == "text" and node.type == _INT64):
            return getattr(node, content)
        if content == "doc":
            return LazyDoc(node.doc)
        if content == "doc_array":
            return [LazyDoc(item) for item in node.doc_array.docs]
        return _read_node(node, True)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.__getattr__(name)
        return default if value is None else value


def decode_lazy(data: bytes) -> list[LazyDoc]:
    """Parse DocListProto bytes into `LazyDoc`s (the GraphQL path: only selected fields decode)."""
    if not data:
        return []
    message = DocListProto()
    message.ParseFromString(data)
    return [LazyDoc(doc) for doc in message.docs]


def _read_doc(doc: DocProto, flat: bool) -> dict[str, Any]:
    # On every response's hot path: scalars inline, empty fields (None on the wire) left out.
    result: dict[str, Any] = {}
    for name, node in doc.data.items():
        content = node.WhichOneof("content")
        if content is None:
            continue
        if content in _SCALAR_CONTENT and not (content == "text" and node.type == _INT64):
            result[name] = getattr(node, content)
        else:
            result[name] = _read_node(node, flat)
    return result


def _read_node(node: NodeProto, flat: bool) -> Any:
    content = node.WhichOneof("content")
    if content is None:
        return None
    if content in _SCALAR_CONTENT:
        value = getattr(node, content)
        return int(value) if content == "text" and node.type == _INT64 else value
    if content == "ndarray":
        dense = node.ndarray.dense
        array = np.frombuffer(dense.buffer, dtype=dense.dtype) if dense.buffer else np.zeros(tuple(dense.shape))
        return array.ravel().tolist() if flat else array.reshape(tuple(dense.shape)).tolist()
    if content == "doc":
        return _read_doc(node.doc, flat)
    if content == "doc_array":
        return [_read_doc(item, flat) for item in node.doc_array.docs]
    if content == "dict":
        return {key: _read_node(item, flat) for key, item in node.dict.data.items()}
    holder: ListOfAnyProto = getattr(node, content)  # list, set, tuple
    return [_read_node(item, flat) for item in holder.data]
