"""Reading usage facts from the stored log fast: topic-filtered pages, plain-value decoding.

Usage needs a few fields of a few topics, so it reads only those topics (filtered in SQL, in
big pages) and turns each stored state straight into plain values (UUIDs as text, datetimes
as epoch milliseconds) without building domain event objects. A topic whose class has been
upcast (`class_version` > 1) goes through the library's mapper instead, so upcasters apply.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from domain.usage import BY_ORIGINATOR, READS, load_extractors
from domain.usage_periods import to_ms
from stratus.db import Cursor
from stratus.store.chain import EVENTS_TABLE

_CONTAINERS = (dict, list)
_POSITION = itemgetter(0)


def _untag(tag: str, data: Any) -> Any:
    if tag == "uuid":
        return data if len(data) == 36 else str(UUID(hex=data))
    if tag == "datetime":
        return data  # ISO text, as the fast path leaves it; `at` is the one in milliseconds
    if tag == "decimal":
        return Decimal(data)
    if tag == "tuple":
        return [_plain(value) for value in data]
    if tag == "secret":
        return None  # usage never needs a secret, and never opens one
    return data


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        tag = value.get("_type_")
        if tag is not None and len(value) == 2 and "_data_" in value:
            return _untag(tag, value["_data_"])
        for key, item in value.items():
            if type(item) in _CONTAINERS:
                value[key] = _plain(item)
        return value
    if kind is list:
        return [_plain(item) if type(item) in _CONTAINERS else item for item in value]
    return value


# The transcoder writes a UUID as {"_type_":"uuid","_data_":"<36 chars>"} and a datetime as
# {"_type_":"datetime","_data_":"<ISO text>"}. Splitting the bytes at the tag and keeping the
# quoted text drops those wrappers with a few C calls per tag; any other tag (hex UUIDs of old
# events, decimals, tuples) makes the state take the slow walk instead.
_OPEN = b'{"_type_":"'
_UUID_TAG, _DATETIME_TAG = b'uuid","_data_":"', b'datetime","_data_":"'


def _flatten(data: bytes) -> bytes | None:
    parts = data.split(_OPEN)
    if len(parts) == 1:
        return data
    out = [parts[0]]
    for part in parts[1:]:
        if part.startswith(_UUID_TAG):
            start = len(_UUID_TAG) - 1
        elif part.startswith(_DATETIME_TAG):
            start = len(_DATETIME_TAG) - 1
        else:
            return None
        end = part.find(b'"}', start + 1)
        if end < 0 or (start == len(_UUID_TAG) - 1 and end - start != 37):
            return None
        out.append(part[start : end + 1])
        out.append(part[end + 2 :])
    return b"".join(out)


def plain_state(originator_id: str, state: bytes | str) -> dict[str, Any]:
    """The stored state as plain fields, with `originator_id` and `at` added."""
    data = state.encode() if isinstance(state, str) else state
    flat = _flatten(data)
    fields: dict[str, Any] = _plain(orjson.loads(data)) if flat is None else orjson.loads(flat)
    fields["originator_id"] = originator_id
    fields["at"] = to_ms(datetime.fromisoformat(fields["timestamp"]))
    return fields


# How the transcoder starts an event's state: its timestamp comes first.
_TIMESTAMP = b'{"timestamp":{"_type_":"datetime","_data_":"'


def brief_state(originator_id: str, state: bytes) -> dict[str, Any] | None:
    """Only `originator_id` and `at`, read off the start of the state without decoding the
    rest (None: the state does not start as expected)."""
    if not state.startswith(_TIMESTAMP):
        return None
    end = state.find(b'"', len(_TIMESTAMP))
    try:
        at = to_ms(datetime.fromisoformat(state[len(_TIMESTAMP) : end].decode()))
    except ValueError:
        return None
    return {"originator_id": originator_id, "at": at}


def declared_state(
    originator_id: str, state: bytes, reads: frozenset[str]
) -> dict[str, Any] | None:
    """Only `originator_id`, `at` and the fields in `reads`, with only those made plain (None:
    the state has no datetime timestamp)."""
    raw = orjson.loads(state)
    stamp = raw.get("timestamp")
    if type(stamp) is not dict or stamp.get("_type_") != "datetime":
        return None
    fields = {"originator_id": originator_id, "at": to_ms(datetime.fromisoformat(stamp["_data_"]))}
    for name in reads:
        if name in raw:
            value = raw[name]
            fields[name] = _plain(value) if type(value) in _CONTAINERS else value
    return fields


def plain(value: Any) -> Any:
    """A decoded domain event (or any value) as the same plain fields."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "__dict__") and hasattr(value, "originator_id"):
        fields = {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
        fields["at"] = to_ms(value.timestamp)
        return fields
    return value


def usage_topics() -> list[str]:
    return sorted(load_extractors())


def _upcast_topics(topics: Sequence[str]) -> frozenset[str]:
    chosen = set()
    for topic in topics:
        try:
            if getattr(resolve_topic(topic), "class_version", 1) > 1:
                chosen.add(topic)
        except Exception:  # a class that no longer exists: decode its stored fields as they are
            continue
    return frozenset(chosen)


# A resource's partition is the last hex digit of its id modulo the number of partitions: in
# SQL the last byte of the originator's UUID (PostgreSQL) or the last character of its text
# (SQLite). Any other id falls back to a checksum (such a resource is never an originator that
# SQL has to pick by partition).
_PARTITION_SQL = {
    "postgres": "(get_byte(uuid_send(originator_id), 15) & 15) %% {count}",
    "sqlite": "(instr('0123456789abcdef', lower(substr(originator_id, -1, 1))) - 1) % {count}",
}
MAX_PARTITIONS = 16


def partition_of(resource_id: str, count: int) -> int:
    digit = resource_id[-1:].lower()
    if digit and digit in "0123456789abcdef":
        return int(digit, 16) % count
    return zlib.crc32(resource_id.encode()) % count


@dataclass(frozen=True)
class Partition:
    """One of `count` disjoint sets of resources, and the usage events it reads."""

    index: int
    count: int

    def owns(self, resource_id: str) -> bool:
        return partition_of(resource_id, self.count) == self.index


class FactReader:
    """Pages of usage facts after a log position, on the store's own database (those of one
    partition of the resources when `partition` is given)."""

    def __init__(
        self,
        dialect: str,
        topics: Sequence[str] | None = None,
        page: int = 20000,
        partition: Partition | None = None,
    ):
        self.dialect = dialect
        self.topics = list(topics if topics is not None else usage_topics())
        self.page = page
        self._upcast = _upcast_topics(self.topics)
        load_extractors()
        # Topics whose extractors read only some fields: only those are decoded.
        self._reads = {t: READS[t] for t in self.topics if t in READS}
        self._decoder: Any = None
        events = EVENTS_TABLE[dialect]
        position = "rowid" if dialect == "sqlite" else "notification_id"
        originator = "originator_id" if dialect == "sqlite" else "originator_id::text"
        # A page is a window of `page` positions, not a LIMIT, and is put in order here: with
        # ORDER BY ... LIMIT the planner may sort the whole tail of the log (on disk) per page.
        cast = "%s" if dialect == "sqlite" else "%s::bigint"
        self._sql = (
            f"SELECT {position}, {originator}, topic, state FROM {events} "
            f"WHERE {position} > {cast} AND {position} <= {cast} AND "
        )
        self._params: list[Any] = list(self.topics)
        self.shared = frozenset(self.topics)  # read by every partition
        if partition is None:
            self._sql += f"topic IN ({_marks(self.topics)})"
        else:
            self._partitioned(partition)
        self._head = f"SELECT max({position}) AS head FROM {events}"

    def _partitioned(self, partition: Partition) -> None:
        if not 0 <= partition.index < partition.count <= MAX_PARTITIONS:
            raise ValueError(f"no partition {partition.index} of {partition.count}")
        keyed = [t for t in self.topics if BY_ORIGINATOR.get(t)]
        shared = [t for t in self.topics if not BY_ORIGINATOR.get(t)]
        chosen = _PARTITION_SQL[self.dialect].format(count=partition.count)
        clauses = [f"topic IN ({_marks(shared)})"] if shared else []
        if keyed:
            clauses.append(f"(topic IN ({_marks(keyed)}) AND {chosen} = %s)")
        self._sql += "(" + (" OR ".join(clauses) or "false") + ")"
        self._params = [*shared, *keyed, partition.index] if keyed else shared
        self.shared = frozenset(shared)

    def head(self, cursor: Cursor) -> int:
        row = cursor.execute(self._head).fetchone()
        return int(row["head"] or 0) if row else 0

    def page_after(
        self, cursor: Cursor, after: int, until: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """(topic, fields) of the next window of positions, and the position it reaches."""
        rows, reached = self.rows_after(cursor, after, until)
        fields = self.fields
        return [(row[2], fields(row)) for row in rows], reached

    def rows_after(
        self, cursor: Cursor, after: int, until: int
    ) -> tuple[list[tuple[Any, ...]], int]:
        """The stored rows (position, originator, topic, state) of the next window, in log
        order, and the position it reaches; `fields` decodes one."""
        reached = min(after + self.page, until)
        rows = cursor.select_tuples(self._sql, [after, reached, *self._params])
        rows.sort(key=_POSITION)  # nearly in order already: a linear pass
        return rows, reached

    def facts(self, cursor: Cursor, after: int, until: int) -> Iterator[tuple[str, dict[str, Any]]]:
        while after < until:
            page, after = self.page_after(cursor, after, until)
            yield from page

    def fields(self, row: tuple[Any, ...]) -> dict[str, Any]:
        _, originator, topic, state = row
        originator = str(originator)
        if len(originator) == 32:
            originator = str(UUID(hex=originator))
        if topic in self._upcast:
            return self._upcast_fields(topic, state, originator)
        data = state.encode() if isinstance(state, str) else bytes(state)
        reads = self._reads.get(topic)
        if reads is not None:
            some = (
                declared_state(originator, data, reads) if reads else brief_state(originator, data)
            )
            if some is not None:
                return some
        return plain_state(originator, data)

    def _upcast_fields(self, topic: str, state: Any, originator: str) -> dict[str, Any]:
        from stratus.store.decoding import Decoder
        from stratus.store.readonly import RawEvent

        if self._decoder is None:
            self._decoder = Decoder()
        data = state.encode() if isinstance(state, str) else bytes(state)
        raw = RawEvent(0, UUID(originator), 0, topic, data)
        fields: dict[str, Any] = plain(self._decoder.event(raw))
        fields["originator_id"] = originator
        return fields


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))
