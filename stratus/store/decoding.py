"""Turning stored events into plain records for people and auditors, with every secret masked.

Decoding uses a transcoder that never opens a sealed secret (it needs no key at all), and any
field whose name says password, secret or key material is masked as well, hashed or not.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.values import Secret
from stratus.store.audit import META_KEY
from stratus.store.readonly import RawEvent
from stratus.store.secrets import SecretBox
from stratus.store.transcoder import OrjsonTranscoder

MASK = "********"
_SENSITIVE = ("password", "secret", "private", "psk", "presharedkey")
_BOOKKEEPING = ("originator_id", "originator_version", "timestamp", META_KEY, "class_version")
META_FIELDS = (
    "user_id",
    "account_id",
    "domain_id",
    "command",
    "job_id",
    "remote_address",
    "request_id",
    "process",
)


class _RedactingTranscoder(OrjsonTranscoder):
    """Reads sealed secrets as a mask instead of opening them."""

    def __init__(self) -> None:
        super().__init__(SecretBox(bytes(32)))
        self._untaggers["secret"] = lambda data: Secret(MASK)


def sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE)


def plain(value: Any) -> Any:
    """A JSON-ready copy of a value, secrets and sensitive fields masked."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {str(k): MASK if sensitive(str(k)) else plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return plain({f.name: getattr(value, f.name) for f in fields(value)})
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return plain({k: v for k, v in vars(value).items() if not k.startswith("_")})
    return str(value)


def kind_of(topic: str) -> tuple[str, str]:
    """(resource type, event name) from a topic such as ``domain.host:Host.Connected``."""
    qualname = topic.partition(":")[2] or topic
    resource, _, name = qualname.rpartition(".")
    return resource.split(".")[-1] or qualname, name


class Decoder:
    """Stored rows to domain events (upcast, secrets masked) and to plain records."""

    def __init__(self) -> None:
        self.mapper: Mapper = Mapper(transcoder=_RedactingTranscoder())

    def event(self, raw: RawEvent) -> Any:
        return self.mapper.to_domain_event(
            StoredEvent(raw.originator_id, raw.version, raw.topic, raw.state)
        )

    def record(self, raw: RawEvent) -> dict[str, Any]:
        """The who, what and when of one stored event, as one flat, JSON-ready record."""
        try:
            fields = dict(vars(self.event(raw)))
        except Exception:  # a topic whose class is gone still shows its stored fields
            fields = dict(self.mapper.transcoder.decode(raw.state))
        meta = fields.get(META_KEY) or {}
        resource_type, name = kind_of(raw.topic)
        record: dict[str, Any] = {
            "id": raw.id,
            "time": plain(fields.get("timestamp")),
            "resource_type": resource_type,
            "resource_id": str(raw.originator_id),
            "version": raw.version,
            "event": name,
        }
        record.update({key: plain(meta.get(key)) for key in META_FIELDS})
        record["data"] = plain({k: v for k, v in fields.items() if k not in _BOOKKEEPING})
        return record
