"""Reading small NodeProto payloads straight from their bytes, without a protobuf parse.

For a dict of a few tags or a short vector, building upb wrapper objects for every entry costs
more than the data itself (a two-entry dict: ~3 µs through `Node`, ~1 µs here). These scanners
handle the layouts docarray (and `flowql._codec_encode`) write and return None for anything
else, so the caller can fall back to the full `Node` parse: they never guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["varint_at", "scan_dict", "scan_tensor"]

_FIELD1, _FIELD2, _FIELD3 = 0x0A, 0x12, 0x1A
_TYPE_NDARRAY = b"\x6a\x07ndarray"


def varint_at(raw: bytes, pos: int) -> tuple[int, int]:
    """The varint starting at `pos` and the position after it (IndexError past the end)."""
    value = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def scan_dict(raw: bytes, read_value: Callable[[bytes], Any]) -> dict[str, Any] | None:
    """A dict node (`0x62 len DictOfAnyProto`) read entry by entry, in wire order; None if unusual.

    `read_value` reads each entry's value node; what it raises propagates (a `Mismatch` must).
    """
    try:
        return _scan_dict(raw, read_value)
    except (IndexError, UnicodeDecodeError):
        return None  # malformed for this scanner: the full parse says what is wrong


def _scan_dict(raw: bytes, read_value: Callable[[bytes], Any]) -> dict[str, Any] | None:
    # Lengths are read inline when they fit one byte (the common case), else with varint_at.
    end = len(raw)
    size = raw[1]
    if size < 0x80:
        pos = 2
    else:
        size, pos = varint_at(raw, 1)
    if pos + size != end:
        return None  # something after the dict (a `type`): not a plain dict node
    out: dict[str, Any] = {}
    while pos < end:
        if raw[pos] != _FIELD1:
            return None
        size = raw[pos + 1]
        if size < 0x80:
            pos += 2
        else:
            size, pos = varint_at(raw, pos + 1)
        stop = pos + size
        key = ""
        value = b""
        while pos < stop:  # the map entry: key (1) and value (2), either may be left out
            tag = raw[pos]
            if tag != _FIELD1 and tag != _FIELD2:
                return None
            size = raw[pos + 1]
            if size < 0x80:
                pos += 2
            else:
                size, pos = varint_at(raw, pos + 1)
            if tag == _FIELD1:
                key = raw[pos : pos + size].decode()
            else:
                value = raw[pos : pos + size]
            pos += size
        if pos != stop:
            return None
        out[key] = read_value(value)
    return out


def scan_tensor(raw: bytes) -> tuple[bytes, tuple[int, ...], str] | None:
    """(buffer, shape, dtype) of an ndarray node typed "ndarray"; None if unusual."""
    try:
        return _tensor_parts(raw)
    except (IndexError, UnicodeDecodeError):
        return None


def _tensor_parts(raw: bytes) -> tuple[bytes, tuple[int, ...], str] | None:
    # Lengths are read inline when they fit one byte (the common case), else with varint_at.
    size = raw[1]
    if size < 0x80:
        pos = 2
    else:
        size, pos = varint_at(raw, 1)
    tensor_end = pos + size
    # The `type` field must follow the tensor and say "ndarray" (7 bytes).
    if raw[tensor_end:] != _TYPE_NDARRAY or pos == tensor_end or raw[pos] != _FIELD1:
        return None
    size = raw[pos + 1]
    if size < 0x80:
        pos += 2
    else:
        size, pos = varint_at(raw, pos + 1)
    if pos + size != tensor_end:
        return None  # NdArrayProto.parameters is set: leave it to the full parse
    buffer = b""
    shape: tuple[int, ...] = ()
    dtype = ""
    while pos < tensor_end:
        tag = raw[pos]
        if tag != _FIELD1 and tag != _FIELD2 and tag != _FIELD3:
            return None  # e.g. unpacked dimensions: the full parse knows them
        size = raw[pos + 1]
        if size < 0x80:
            pos += 2
        else:
            size, pos = varint_at(raw, pos + 1)
        stop = pos + size
        if tag == _FIELD1:
            buffer = raw[pos:stop]
        elif tag == _FIELD2:  # packed uint32 dimensions
            dims = raw[pos:stop]
            shape = tuple(dims) if max(dims, default=0) < 0x80 else _unpack_varints(dims)
        else:
            dtype = raw[pos:stop].decode()
        pos = stop
    if pos != tensor_end:
        return None
    return buffer, shape, dtype


def _unpack_varints(packed: bytes) -> tuple[int, ...]:
    values = []
    pos = 0
    while pos < len(packed):
        value, pos = varint_at(packed, pos)
        values.append(value)
    return tuple(values)
