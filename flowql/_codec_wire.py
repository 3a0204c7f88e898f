"""Wire-compatible views of docarray's protobuf messages, shaped for fast access from Python.

docarray's `DocProto` is `map<string, NodeProto> data = 1`. On the wire a map entry's value is
just a length-delimited field, so declaring that value as `bytes` parses the very same bytes but
hands back each field's serialized `NodeProto` untouched: turning a document into a
`dict[str, bytes]` is then one C-level call, and each node is decoded only as far as its field's
type needs (an empty node is `b""`, a short text node is sliced out without a parse). Walking
docarray's own generated classes field by field costs several times more per document.

The same trick gives `RawList` (docarray's `ListOfAnyProto`, items as node bytes) and
`RawEntries` (`DictOfAnyProto` as a repeated entry, so a dict keeps the order it was written in;
a map would not). `Node` mirrors `NodeProto` for the nodes that do need a parse, with the same
field numbers.

The messages live in a private descriptor pool, so they never clash with docarray's own names.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["Node", "RawDoc", "RawDocList", "varint", "TAG", "ONE_BYTE", "INT64_TYPE"]

_PACKAGE = "flowql.codec_wire"
_FDP = descriptor_pb2.FieldDescriptorProto


def _field(message: Any, name: str, number: int, kind: int, type_name: str = "", *, repeated: bool = False) -> Any:
    field = message.field.add(name=name, number=number, type=kind)
    field.label = _FDP.LABEL_REPEATED if repeated else _FDP.LABEL_OPTIONAL
    if type_name:
        field.type_name = f".{_PACKAGE}.{type_name}"
    return field


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(name="flowql_codec_wire.proto", package=_PACKAGE, syntax="proto3")

    raw_doc = file.message_type.add(name="RawDoc")  # DocProto
    entry = raw_doc.nested_type.add(name="DataEntry")
    entry.options.map_entry = True
    _field(entry, "key", 1, _FDP.TYPE_STRING)
    _field(entry, "value", 2, _FDP.TYPE_BYTES)
    _field(raw_doc, "data", 1, _FDP.TYPE_MESSAGE, "RawDoc.DataEntry", repeated=True)

    # DictOfAnyProto read as a repeated entry, not a map: keeps the order the sender wrote.
    raw_entries = file.message_type.add(name="RawEntries")
    entry = raw_entries.nested_type.add(name="Entry")
    _field(entry, "key", 1, _FDP.TYPE_STRING)
    _field(entry, "value", 2, _FDP.TYPE_BYTES)
    _field(raw_entries, "data", 1, _FDP.TYPE_MESSAGE, "RawEntries.Entry", repeated=True)

    raw_doc_list = file.message_type.add(name="RawDocList")  # DocListProto
    _field(raw_doc_list, "docs", 1, _FDP.TYPE_MESSAGE, "RawDoc", repeated=True)

    raw_list = file.message_type.add(name="RawList")  # ListOfAnyProto
    _field(raw_list, "data", 1, _FDP.TYPE_BYTES, repeated=True)

    dense = file.message_type.add(name="Dense")  # DenseNdArrayProto
    _field(dense, "buffer", 1, _FDP.TYPE_BYTES)
    _field(dense, "shape", 2, _FDP.TYPE_UINT32, repeated=True)
    _field(dense, "dtype", 3, _FDP.TYPE_STRING)

    tensor = file.message_type.add(name="Tensor")  # NdArrayProto; its `parameters` are not read
    _field(tensor, "dense", 1, _FDP.TYPE_MESSAGE, "Dense")

    node = file.message_type.add(name="Node")  # NodeProto
    node.oneof_decl.add(name="content")
    node.oneof_decl.add(name="docarray_type")
    content = [
        ("text", 1, _FDP.TYPE_STRING, ""),
        ("integer", 2, _FDP.TYPE_INT32, ""),
        ("float", 3, _FDP.TYPE_DOUBLE, ""),
        ("boolean", 4, _FDP.TYPE_BOOL, ""),
        ("blob", 5, _FDP.TYPE_BYTES, ""),
        ("ndarray", 6, _FDP.TYPE_MESSAGE, "Tensor"),
        ("doc", 7, _FDP.TYPE_MESSAGE, "RawDoc"),
        ("doc_array", 8, _FDP.TYPE_MESSAGE, "RawDocList"),
        ("list", 9, _FDP.TYPE_MESSAGE, "RawList"),
        ("set", 10, _FDP.TYPE_MESSAGE, "RawList"),
        ("tuple", 11, _FDP.TYPE_MESSAGE, "RawList"),
        ("dict", 12, _FDP.TYPE_MESSAGE, "RawEntries"),
    ]
    for name, number, kind, type_name in content:
        _field(node, name, number, kind, type_name).oneof_index = 0
    _field(node, "type", 13, _FDP.TYPE_STRING).oneof_index = 1
    return file


def _message_classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_descriptor())
    names = ("RawDoc", "RawDocList", "RawList", "Node")
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in names}


_CLASSES = _message_classes()
#: `map<string, bytes> data = 1`: a DocProto (or DictOfAnyProto) with each value as node bytes.
RawDoc: Any = _CLASSES["RawDoc"]
#: `repeated RawDoc docs = 1`: a DocListProto.
RawDocList: Any = _CLASSES["RawDocList"]
#: NodeProto, for nodes that need a full parse.
Node: Any = _CLASSES["Node"]
del _CLASSES


#: NodeProto `type` of an int outside int32, written as its decimal `text` (a flowql extension:
#: docarray can write no such int, and refuses to read this type rather than misread it).
INT64_TYPE = "int64"


class TAG:
    """First byte of each NodeProto field as written on the wire: (field number << 3) | wire type."""

    TEXT = b"\x0a"
    INTEGER = b"\x10"
    FLOAT = b"\x19"
    BOOLEAN = b"\x20"
    BLOB = b"\x2a"
    NDARRAY = b"\x32"
    DOC = b"\x3a"
    DOC_ARRAY = b"\x42"
    LIST = b"\x4a"
    SET = b"\x52"
    TUPLE = b"\x5a"
    DICT = b"\x62"
    TYPE = b"\x6a"
    # Inside DocListProto / ListOfAnyProto / DenseNdArrayProto: field 1 (bytes), 2 (packed), 3.
    FIELD1 = b"\x0a"
    FIELD2 = b"\x12"
    FIELD3 = b"\x1a"


#: The varint of each n < 128 (a single byte): lengths of short fields, looked up without a call.
ONE_BYTE = tuple(bytes((n,)) for n in range(128))


def varint(value: int) -> bytes:
    """The protobuf base-128 varint of a non-negative int (lengths, shapes, uint64 views of int32)."""
    if value < 0x80:
        return ONE_BYTE[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
