"""Documents -> DocListProto bytes, writing docarray's NodeProto layout directly.

docarray's `to_protobuf` builds one generated message per field and dispatches on the value's
runtime type; this module does the same dispatch (same order of checks, same output layout, see
`docarray/base_doc/mixins/io.py::_type_to_protobuf`) but writes each node's bytes itself and
hands a document's `{field: node bytes}` to one `map<string, bytes>` message. Values it has no
writer for (URL types, torch/tf tensors, other docarray nodes) go through docarray's own
`_type_to_protobuf`, so the output stays exactly what docarray would write for them.

Extensions beyond docarray, both decodable by `flowql.codec`:
- numpy scalars (`np.float32(1.5)`) are written as the Python value they hold (docarray refuses them);
- ints outside NodeProto's int32 range are written as their decimal text tagged `type: "int64"`
  (docarray refuses to write them, and refuses to read this tag: loud, never a silent change).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType, NoneType
from typing import Any

import numpy as np
from docarray import BaseDoc, DocList
from docarray.base_doc.base_node import BaseNode
from docarray.base_doc.doc import BaseDocWithoutId
from docarray.base_doc.mixins.io import _type_to_protobuf
from docarray.typing import ID, NdArray

from flowql._codec_wire import INT64_TYPE, ONE_BYTE, TAG, RawDoc, RawDocList, varint

__all__ = ["encode_docs"]

Writer = Callable[[Any], bytes]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_UINT64 = 2**64 - 1
_ID_TAG = TAG.TYPE + varint(len(b"id")) + b"id"
_INT64_TAG = TAG.TYPE + varint(len(INT64_TYPE)) + INT64_TYPE.encode()
_pack_double = struct.Struct("<d").pack
_FIELD1_HEAD = tuple(TAG.FIELD1 + byte for byte in ONE_BYTE)


def encode_docs(docs: Iterable[BaseDoc]) -> bytes:
    """Serialize documents of any BaseDoc schema to DocListProto bytes."""
    out = RawDocList()
    add = out.docs.add
    for doc in docs:
        add(data=_doc_nodes(doc))
    data: bytes = out.SerializeToString()
    return data


def _doc_nodes(doc: BaseDocWithoutId) -> dict[str, bytes]:
    """`{field name: NodeProto bytes}` for the fields docarray would write: what the model iterates."""
    state = doc.__dict__
    if type(state) is not dict:  # a DocVec view: its storage is not a plain dict; docarray knows it
        return {name: node.SerializeToString() for name, node in doc.to_protobuf().data.items()}
    writers = _WRITERS
    nodes = {}
    for name, value in state.items():
        if name[0] != "_":  # pydantic's __iter__ (what docarray walks) skips these
            writer = writers.get(type(value)) or _writer_for(type(value))  # type: ignore[arg-type]
            nodes[name] = writer(value)
    extra = doc.__pydantic_extra__
    if extra:
        for name, value in extra.items():
            nodes[name] = _write_value(value)
    return nodes


def _write_value(value: Any) -> bytes:
    writer = _WRITERS.get(type(value)) or _writer_for(type(value))  # type: ignore[arg-type]
    return writer(value)


def _delimited(tag: bytes, body: bytes) -> bytes:
    size = len(body)
    return tag + (ONE_BYTE[size] if size < 0x80 else varint(size)) + body


def _write_none(value: None) -> bytes:
    return b""


def _write_text(value: str) -> bytes:
    data = value.encode()
    size = len(data)
    return TAG.TEXT + (ONE_BYTE[size] if size < 0x80 else varint(size)) + data


def _write_id(value: str) -> bytes:
    data = value.encode()
    size = len(data)
    return TAG.TEXT + (ONE_BYTE[size] if size < 0x80 else varint(size)) + data + _ID_TAG


def _write_bool(value: bool) -> bytes:
    return TAG.BOOLEAN + (b"\x01" if value else b"\x00")


def _write_int(value: int) -> bytes:
    if 0 <= value < 0x80:
        return TAG.INTEGER + ONE_BYTE[value]
    if _INT32_MIN <= value <= _INT32_MAX:
        # int32 on the wire is a varint of the two's complement 64-bit value
        return TAG.INTEGER + varint(value & _UINT64)
    return _delimited(TAG.TEXT, str(int(value)).encode()) + _INT64_TAG


def _write_float(value: float) -> bytes:
    return TAG.FLOAT + _pack_double(value)


def _write_blob(value: bytes) -> bytes:
    return _delimited(TAG.BLOB, bytes(value))


def _write_dict(value: dict[Any, Any]) -> bytes:
    if not value:
        return TAG.DICT + b"\x00"
    entries = []
    for key, item in value.items():  # map entries by hand, in the dict's own order
        if type(key) is not str and not isinstance(key, str):
            raise ValueError(f"Protobuf only support string as key, but got {type(key)}")
        name = key.encode()
        node = _write_value(item)
        entry_size = len(name) + len(node) + 4
        if entry_size < 0x80:  # all three lengths fit a byte: the common small tag
            entries.append(
                _FIELD1_HEAD[entry_size] + _FIELD1_HEAD[len(name)] + name + TAG.FIELD2 + ONE_BYTE[len(node)] + node
            )
        else:
            entries.append(_delimited(TAG.FIELD1, _delimited(TAG.FIELD1, name) + _delimited(TAG.FIELD2, node)))
    return _delimited(TAG.DICT, b"".join(entries))


def _items(values: Iterable[bytes]) -> bytes:
    """Repeated field 1 of length-delimited items (ListOfAnyProto.data, DocListProto.docs)."""
    return b"".join([_delimited(TAG.FIELD1, item) for item in values])


def _write_list(value: Sequence[Any]) -> bytes:
    return _delimited(TAG.LIST, _items([_write_value(item) for item in value]))


def _write_set(value: Iterable[Any]) -> bytes:
    return _delimited(TAG.SET, _items([_write_value(item) for item in value]))


def _write_tuple(value: Sequence[Any]) -> bytes:
    return _delimited(TAG.TUPLE, _items([_write_value(item) for item in value]))


def _doc_bytes(doc: BaseDocWithoutId) -> bytes:
    data: bytes = RawDoc(data=_doc_nodes(doc)).SerializeToString()
    return data


def _write_doc(value: BaseDocWithoutId) -> bytes:
    return _delimited(TAG.DOC, _doc_bytes(value))


def _write_doc_list(value: Sequence[BaseDocWithoutId]) -> bytes:
    if not value:
        return TAG.DOC_ARRAY + b"\x00"
    return _delimited(TAG.DOC_ARRAY, _items([_doc_bytes(doc) for doc in value]))


def _tensor_writer(type_name: str) -> Writer:
    type_tag = _delimited(TAG.TYPE, type_name.encode())

    def write(value: np.ndarray[Any, Any]) -> bytes:
        dtype = value.dtype
        if dtype.hasobject:
            raise ValueError("an ndarray of Python objects cannot be serialized to protobuf")
        buffer = value.tobytes()  # C order, whatever the array's layout
        size = len(buffer)
        buffer_head = TAG.FIELD1 + varint(size) if size else b""
        tail = _shape_field(value.shape) + _dtype_field(dtype)
        dense_size = len(buffer_head) + size + len(tail)
        dense_head = TAG.FIELD1 + varint(dense_size)
        tensor_head = TAG.NDARRAY + varint(len(dense_head) + dense_size)
        return b"".join((tensor_head, dense_head, buffer_head, buffer, tail, type_tag))

    return write


@functools.lru_cache(maxsize=256)
def _shape_field(shape: tuple[int, ...]) -> bytes:
    """DenseNdArrayProto.shape (packed) for a shape: shapes repeat from document to document."""
    return _delimited(TAG.FIELD2, b"".join([varint(dim) for dim in shape])) if shape else b""


@functools.lru_cache(maxsize=64)
def _dtype_field(dtype: np.dtype[Any]) -> bytes:
    """DenseNdArrayProto.dtype, numpy's own dtype string as docarray writes it ("<f4")."""
    return _delimited(TAG.FIELD3, dtype.str.encode())


def _write_docarray_node(value: Any) -> bytes:
    # docarray's own writer: URLs, torch/tf tensors, DocVec...; raises for what it cannot write.
    data: bytes = _type_to_protobuf(value).SerializeToString()
    return data


def _write_numpy_scalar(value: np.generic) -> bytes:
    return _write_value(value.item())


_WRITERS: MappingProxyType[type, Writer] = MappingProxyType(
    {
        str: _write_text,
        ID: _write_id,
        NoneType: _write_none,
        bool: _write_bool,
        int: _write_int,
        float: _write_float,
        bytes: _write_blob,
        dict: _write_dict,
        list: _write_list,
        tuple: _write_tuple,
        set: _write_set,
        np.ndarray: _tensor_writer(NdArray._proto_type_name),
        NdArray: _tensor_writer(NdArray._proto_type_name),
    }
)


@functools.lru_cache(maxsize=512)
def _writer_for(kind: Any) -> Writer:
    """The writer for a type not in `_WRITERS`, checked in docarray's order (BaseNode first)."""
    if issubclass(kind, BaseNode):
        if issubclass(kind, BaseDocWithoutId):
            return _write_doc
        if issubclass(kind, DocList):
            return _write_doc_list
        if issubclass(kind, NdArray):
            return _tensor_writer(kind._proto_type_name)
        return _write_docarray_node
    if issubclass(kind, np.ndarray):
        return _tensor_writer(NdArray._proto_type_name)
    if kind.__module__.startswith(("torch", "tensorflow")):
        return _write_docarray_node
    simple: tuple[tuple[type, Writer], ...] = (
        (str, _write_text),
        (bool, _write_bool),
        (int, _write_int),
        (float, _write_float),
        (bytes, _write_blob),
        (list, _write_list),
        (set, _write_set),
        (tuple, _write_tuple),
        (dict, _write_dict),
        (np.generic, _write_numpy_scalar),
    )
    for base, writer in simple:
        if issubclass(kind, base):
            return writer
    return _write_docarray_node
