"""Commands on pods' storage network ranges: each a change of the pod's StorageIpRanges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome
from domain.errors import NotFound
from domain.infrastructure import Pod
from domain.network_storage import StorageIpRanges, storage_ranges_id


@dataclass(frozen=True)
class CreateStorageRange:
    pod_id: UUID
    terms: dict[str, Any]  # validated by domain.network_storage.checked_range
    pod_range: tuple[str, str] | None = None  # the pod's management range, read by the caller
    range_id: UUID = field(default_factory=uuid.uuid4)


def create_storage_range(store: Any, command: CreateStorageRange) -> Outcome:
    def attempt() -> Outcome:
        pod = store.get(Pod, command.pod_id, what="pod")
        try:
            ranges = store.get(StorageIpRanges, storage_ranges_id(pod.id))
        except NotFound:
            ranges = StorageIpRanges.for_pod(pod.id, pod.zone_id)
        ranges.add(command.range_id, command.terms, command.pod_range)
        return Outcome(store.last_position(store.save(ranges)), command.range_id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class UpdateStorageRange:
    pod_id: UUID
    range_id: UUID
    changes: dict[str, Any]  # start_ip, end_ip, netmask, vlan (None: unchanged)
    pod_range: tuple[str, str] | None = None


def _change(store: Any, pod_id: UUID, mutate: Any) -> Outcome:
    def attempt() -> Outcome:
        ranges = store.get(StorageIpRanges, storage_ranges_id(pod_id), what="storage range")
        mutate(ranges)
        return Outcome(store.last_position(store.save(ranges)), ranges.id)

    result: Outcome = store.run(attempt)
    return result


def update_storage_range(store: Any, command: UpdateStorageRange) -> Outcome:
    return _change(
        store,
        command.pod_id,
        lambda r: r.update(command.range_id, command.changes, command.pod_range),
    )


def delete_storage_range(store: Any, pod_id: UUID, range_id: UUID) -> Outcome:
    return _change(store, pod_id, lambda r: r.delete(range_id))
