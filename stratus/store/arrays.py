"""One-dimensional PostgreSQL arrays built in PostgreSQL's binary format, for psycopg to send as is.

Group commit sends a batch as a handful of arrays with one element per event. psycopg's generic
list dumper looks up and calls a dumper for every element in Python: for a batch of 30 events,
about 120 us of the leader's ~390 us of CPU per batch, which every writer of the batch waits on
(`bench/write_path.py`). Built here, an array is a header and one length-prefixed element after
another, joined once.

The format (PostgreSQL's ``array_send``): dimensions, a has-nulls flag, the element type's oid,
then per dimension its length and lower bound (1), then each element as a 4-byte length and its
binary form. Elements are never NULL here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct(">iiiii")
_LENGTH = struct.Struct(">i")
_INT8_ELEMENT = struct.Struct(">iq")
_INT4_ELEMENT = struct.Struct(">ii")


class BinaryArray:
    """An array already in PostgreSQL's binary format; subclasses name its type."""

    __slots__ = ("data",)
    array_oid: ClassVar[int]
    element_oid: ClassVar[int]

    def __init__(self, elements: Iterable[bytes], count: int) -> None:
        header = _HEADER.pack(1, 0, self.element_oid, count, 1)
        self.data = header + b"".join(elements)


class UuidArray(BinaryArray):
    __slots__ = ()
    array_oid, element_oid = 2951, 2950

    def __init__(self, values: Sequence[UUID]) -> None:
        prefix = _LENGTH.pack(16)
        super().__init__((prefix + value.bytes for value in values), len(values))


class TextArray(BinaryArray):
    __slots__ = ()
    array_oid, element_oid = 1009, 25

    def __init__(self, values: Sequence[str]) -> None:
        super().__init__(_variable(value.encode() for value in values), len(values))


class ByteaArray(BinaryArray):
    __slots__ = ()
    array_oid, element_oid = 1001, 17

    def __init__(self, values: Sequence[bytes]) -> None:
        super().__init__(_variable(bytes(value) for value in values), len(values))


class Int8Array(BinaryArray):
    __slots__ = ()
    array_oid, element_oid = 1016, 20

    def __init__(self, values: Sequence[int]) -> None:
        super().__init__((_INT8_ELEMENT.pack(8, value) for value in values), len(values))


class Int4Array(BinaryArray):
    __slots__ = ()
    array_oid, element_oid = 1007, 23

    def __init__(self, values: Sequence[int]) -> None:
        super().__init__((_INT4_ELEMENT.pack(4, value) for value in values), len(values))


def _variable(encoded: Iterable[bytes]) -> Iterable[bytes]:
    for value in encoded:
        yield _LENGTH.pack(len(value))
        yield value


class _BinaryArrayDumper(Dumper):
    format = Format.BINARY

    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self.oid = cls.array_oid  # type: ignore[attr-defined]

    def dump(self, obj: BinaryArray) -> bytes:  # type: ignore[override]
        return obj.data


for _array_class in (UuidArray, TextArray, ByteaArray, Int8Array, Int4Array):
    # Only these classes, which nothing else sends, so registering process-wide is harmless.
    psycopg.adapters.register_dumper(_array_class, _BinaryArrayDumper)
