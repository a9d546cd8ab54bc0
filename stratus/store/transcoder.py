"""orjson encoding of event state; round-trips UUIDs, datetimes, decimals, tuples, secrets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder

from domain.values import Secret
from stratus.store.secrets import SecretBox

_TYPE = "_type_"
_DATA = "_data_"


class OrjsonTranscoder(Transcoder):
    """Tags the types JSON cannot carry (as the library's JSON transcoder does) and seals secrets.

    A ``Secret`` is written as AES-GCM ciphertext, so no stored byte holds its text.
    """

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def _tag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in (str, int, float, bool) or obj is None:
            return obj
        if kind is dict:
            return {key: self._tag(value) for key, value in obj.items()}
        if kind is list:
            return [self._tag(value) for value in obj]
        if kind is tuple:
            return {_TYPE: "tuple", _DATA: [self._tag(value) for value in obj]}
        if kind is UUID:
            return {_TYPE: "uuid", _DATA: obj.hex}
        if kind is datetime:
            return {_TYPE: "datetime", _DATA: obj.isoformat()}
        if kind is date:
            return {_TYPE: "date", _DATA: obj.isoformat()}
        if kind is Decimal:
            return {_TYPE: "decimal", _DATA: str(obj)}
        if kind is Secret:
            return {_TYPE: "secret", _DATA: self._box.seal(obj.reveal())}
        if isinstance(obj, str):  # str-valued enums are stored as their value
            return str(obj.value) if hasattr(obj, "value") else str(obj)
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int(obj)
        raise TypeError(f"cannot store a value of type {kind.__name__} in an event")

    def _untag(self, obj: Any) -> Any:
        if type(obj) is dict:
            tag = obj.get(_TYPE)
            if tag is not None and len(obj) == 2 and _DATA in obj:
                return self._decode_tagged(tag, obj[_DATA])
            return {key: self._untag(value) for key, value in obj.items()}
        if type(obj) is list:
            return [self._untag(value) for value in obj]
        return obj

    def _decode_tagged(self, tag: str, data: Any) -> Any:
        if tag == "uuid":
            return UUID(hex=data)
        if tag == "datetime":
            return datetime.fromisoformat(data)
        if tag == "date":
            return date.fromisoformat(data)
        if tag == "decimal":
            return Decimal(data)
        if tag == "tuple":
            return tuple(self._untag(value) for value in data)
        if tag == "secret":
            return Secret(self._box.open(data))
        raise ValueError(f"unknown stored type tag {tag!r}")
