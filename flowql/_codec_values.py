"""NodeProto bytes -> Python values: the leaf and JSON-like parts of decoding.

Each reader takes the serialized bytes of one non-empty NodeProto (see `flowql._codec_wire`).
The commonest nodes (a short text, a small int, a float, a bool, an empty dict) are read
straight from the bytes; anything else is parsed with the `Node` message. When a node holds
something a reader does not expect, it raises `Mismatch` and the caller decodes that field
through docarray's own (validated) path instead, so an unusual message is never misread.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
from docarray.proto import NodeProto
from docarray.typing import ID, NdArray
from docarray.typing.proto_register import _PROTO_TYPE_NAME_TO_CLASS

from flowql._codec_scan import scan_dict, scan_tensor
from flowql._codec_wire import INT64_TYPE, Node

__all__ = ["Mismatch", "Reader", "Check", "read_any", "read_str", "read_tensor", "id_reader", "checked", "check_for"]

Reader = Callable[[bytes], Any]
Check = Callable[[Any], Any]

_TEXT, _INTEGER, _FLOAT, _BOOLEAN, _NDARRAY, _DICT = 0x0A, 0x10, 0x19, 0x20, 0x32, 0x62
_EMPTY_DICT = b"\x62\x00"
_ID_TAIL = b"\x6a\x02id"
_unpack_double = struct.Struct("<d").unpack_from


class Mismatch(Exception):
    """The node does not hold what the fast reader expects; decode the field through docarray."""


def read_any(raw: bytes) -> Any:
    """A JSON-like value (what docarray reads for `Any`, dict values and list items)."""
    if not raw:
        return None
    first = raw[0]
    if first == _TEXT:
        size = raw[1]
        if size < 0x80 and len(raw) == size + 2:
            return raw[2:].decode()
    elif first == _INTEGER:
        size = len(raw)
        if size == 2 and raw[1] < 0x80:
            return raw[1]
        if size == 3 and raw[1] >= 0x80 and raw[2] < 0x80:
            return (raw[1] & 0x7F) | (raw[2] << 7)
        value = _plain_varint(raw)
        if value is not None:
            # int32 is written as the varint of its two's complement 64-bit value; like protobuf's
            # own parsers, keep the low 32 bits as a signed int
            value &= 0xFFFFFFFF
            return value - (1 << 32) if value >= 1 << 31 else value
    elif first == _FLOAT:
        if len(raw) == 9:
            return _unpack_double(raw, 1)[0]
    elif first == _BOOLEAN:
        if len(raw) == 2:
            return raw[1] != 0
    elif first == _DICT:
        if raw == _EMPTY_DICT:
            return {}
        scanned = scan_dict(raw, read_any)
        if scanned is not None:
            return scanned
    elif first == _NDARRAY:
        parts = scan_tensor(raw)
        if parts is not None:
            return _make_tensor(*parts)
    return _read_node(Node.FromString(raw), raw)


def _plain_varint(raw: bytes) -> int | None:
    """The varint after the tag byte, if the node holds nothing else (no `type` after it)."""
    value = shift = 0
    last = len(raw) - 1
    for index in range(1, last + 1):
        byte = raw[index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value if index == last else None
        shift += 7
    return None


def _read_node(node: Any, raw: bytes) -> Any:
    kind = node.WhichOneof("content")
    if node.WhichOneof("docarray_type") is not None:
        return _read_typed(node, kind, raw)
    if kind in ("text", "integer", "float", "boolean", "blob"):
        return getattr(node, kind)
    if kind == "dict":
        return {entry.key: read_any(entry.value) for entry in node.dict.data}
    if kind == "list":
        return [read_any(item) for item in node.list.data]
    if kind == "tuple":
        return tuple(read_any(item) for item in node.tuple.data)
    if kind == "set":
        return {read_any(item) for item in node.set.data}
    if kind is None:
        return None
    raise Mismatch(kind)  # a doc or doc_array: only the field's annotation says which class


def _read_typed(node: Any, kind: str | None, raw: bytes) -> Any:
    type_name = node.type
    if kind == "text":
        if type_name == "id":
            return ID(node.text)
        if type_name == INT64_TYPE:
            return int(node.text)
    if type_name == NdArray._proto_type_name and kind == "ndarray":
        dense = node.ndarray.dense
        return _make_tensor(dense.buffer, tuple(dense.shape), dense.dtype)
    docarray_class = _PROTO_TYPE_NAME_TO_CLASS.get(type_name)
    if docarray_class is None or kind is None:
        raise Mismatch(type_name)
    # Other docarray node types (URLs, typed tensors, bytes): docarray's own reader.
    return docarray_class.from_protobuf(getattr(NodeProto.FromString(raw), kind))


def read_str(raw: bytes) -> str:
    """A str field: `read_any` + `_check_str`, with the short-text case inlined (every document has one)."""
    if raw[0] == _TEXT:
        size = raw[1]
        if size < 0x80 and len(raw) == size + 2:
            return raw[2:].decode()
    value = read_any(raw)
    if type(value) is str:
        return value
    result: str = _check_str(value)
    return result


def read_tensor(raw: bytes) -> NdArray[Any]:
    """An `NdArray` (numpy) from an ndarray node, keeping dtype and shape; writable."""
    if raw[0] == _NDARRAY:
        parts = scan_tensor(raw)
        if parts is not None:
            return _make_tensor(*parts)
    node = Node.FromString(raw)
    if node.WhichOneof("content") != "ndarray" or node.type not in ("", NdArray._proto_type_name):
        raise Mismatch("not an ndarray node")
    dense = node.ndarray.dense
    return _make_tensor(dense.buffer, tuple(dense.shape), dense.dtype)


def _make_tensor(buffer: bytes, shape: tuple[int, ...], dtype: str) -> NdArray[Any]:
    if not dtype:
        raise Mismatch("ndarray without dtype")
    if buffer:
        try:
            # Made directly as an NdArray over a writable copy (bytearray), as docarray's
            # frombuffer(bytearray(...)).reshape(...).view(NdArray) makes it, in one step.
            tensor: NdArray[Any] = np.ndarray.__new__(NdArray, shape, dtype, bytearray(buffer))
        except (TypeError, ValueError) as exc:
            raise Mismatch("ndarray buffer does not fit its shape and dtype") from exc
        if tensor.nbytes != len(buffer):
            raise Mismatch("ndarray buffer does not fit its shape and dtype")
        return tensor
    if shape:
        empty: NdArray[Any] = np.zeros(shape, dtype=dtype).view(NdArray)  # keeps its dtype
        return empty
    raise Mismatch("ndarray without data or shape")


def id_reader(fresh: Callable[[], Any] | None) -> Reader:
    """Reads an `ID`; with `fresh` (a document's own id), an empty id gets `fresh()` instead."""

    def read(raw: bytes) -> Any:
        if raw[0] == _TEXT:
            size = raw[1]
            if size < 0x80 and raw[size + 2 :] in (b"", _ID_TAIL):
                if not size and fresh is not None:
                    return fresh()
                return ID(raw[2 : size + 2].decode())
        value = read_any(raw)
        if not isinstance(value, str):
            raise Mismatch("id is not text")
        return fresh() if not value and fresh is not None else ID(value)

    return read


def _check_str(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    raise Mismatch("not a str")


def _check_int(value: Any) -> Any:
    if type(value) is int:
        return value
    raise Mismatch("not an int")


def _check_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise Mismatch("not a float")


def _check_bool(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise Mismatch("not a bool")


def _check_bytes(value: Any) -> Any:
    if type(value) is bytes:
        return value
    raise Mismatch("not bytes")


def _check_nothing(value: Any) -> Any:
    return value


_CHECKS: MappingProxyType[Any, Check] = MappingProxyType(
    {
        str: _check_str,
        int: _check_int,
        float: _check_float,
        bool: _check_bool,
        bytes: _check_bytes,
        Any: _check_nothing,
        object: _check_nothing,
    }
)


def check_for(annotation: Any, nullable: bool) -> Check | None:
    """The check for a JSON leaf annotation (str, int, float, bool, bytes, Any), else None."""
    check = _CHECKS.get(annotation)
    if check is None or not nullable or check is _check_nothing:
        return check

    def check_or_none(value: Any) -> Any:
        return None if value is None else check(value)

    return check_or_none


def checked(check: Check) -> Reader:
    """A field reader: a JSON-like value that must pass `check`."""
    if check is _check_nothing:
        return read_any
    if check is _check_str:
        return read_str

    def read(raw: bytes) -> Any:
        return check(read_any(raw))

    return read
