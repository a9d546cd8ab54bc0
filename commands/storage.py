"""Commands on primary storage pools and image stores: create, update, maintenance, delete.

Pools are records of the storage a zone or cluster uses; credentials in their URL or details
are sealed here (`Secret`) before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome, change
from domain.errors import InvalidParameter
from domain.infrastructure import Cluster, Zone
from domain.storage import ImageStore, StoragePool
from domain.values import Secret


@dataclass(frozen=True)
class CreateStoragePool:
    name: str
    place: dict[str, Any]  # zone_id, pod_id, cluster_id, scope, hypervisor
    pool_type: str
    location: dict[str, Any]  # url, host, port, path, user, provider, managed
    credentials: dict[str, str] = field(default_factory=dict)
    capacity_bytes: int | None = None
    capacity_iops: int | None = None
    tags: tuple[str, ...] = ()
    details: dict[str, str] = field(default_factory=dict)


def _sealed(credentials: dict[str, str]) -> dict[str, Secret]:
    return {key: Secret(value) for key, value in credentials.items()}


def create_storage_pool(store: Any, command: CreateStoragePool) -> Outcome:
    """Record the pool in its zone (and cluster), both still there."""

    def attempt() -> Outcome:
        zone = store.get(Zone, command.place["zone_id"], what="zone")
        if zone.removed:
            raise InvalidParameter(f"Unable to find zone by id {command.place['zone_id']}")
        cluster_id = command.place.get("cluster_id")
        if cluster_id is not None:
            cluster = store.get(Cluster, cluster_id, what="cluster")
            if cluster.removed or cluster.pod_id != command.place["pod_id"]:
                raise InvalidParameter(f"Unable to find cluster by id {cluster_id} in that pod")
        pool = StoragePool(
            command.name,
            command.place,
            command.pool_type,
            command.location,
            _sealed(command.credentials),
            command.capacity_bytes,
            command.capacity_iops,
            command.tags,
            command.details,
        )
        return Outcome(store.last_position(store.save(pool)), pool.id)

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class UpdateStoragePool:
    pool_id: UUID
    capacity_bytes: int | None = None
    capacity_iops: int | None = None
    tags: tuple[str, ...] | None = None


def update_storage_pool(store: Any, command: UpdateStoragePool) -> Outcome:
    return change(
        store,
        StoragePool,
        command.pool_id,
        lambda pool: pool.update(command.capacity_bytes, command.capacity_iops, command.tags),
        what="storage pool",
    )


def delete_storage_pool(store: Any, pool_id: UUID) -> Outcome:
    return change(store, StoragePool, pool_id, lambda pool: pool.delete(), what="storage pool")


def enable_maintenance(store: Any, pool_id: UUID) -> Outcome:
    """Up -> PrepareForMaintenance -> Maintenance, in one commit: no volume lives on a pool
    yet, so no VM has to be stopped or moved first."""

    def mutate(pool: StoragePool) -> None:
        pool.prepare_for_maintenance()
        if pool.volume_ids:
            raise InvalidParameter(
                "Stopping the VMs of volumes on a pool for its maintenance is not built yet"
            )
        pool.enter_maintenance()

    return change(store, StoragePool, pool_id, mutate, what="storage pool")


def cancel_maintenance(store: Any, pool_id: UUID) -> Outcome:
    return change(
        store, StoragePool, pool_id, lambda pool: pool.cancel_maintenance(), what="storage pool"
    )


@dataclass(frozen=True)
class AddImageStore:
    name: str
    role: str
    provider: str
    protocol: str
    url: str
    zone_id: UUID | None
    details: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)


def add_image_store(store: Any, command: AddImageStore) -> Outcome:
    def attempt() -> Outcome:
        if command.zone_id is not None:
            zone = store.get(Zone, command.zone_id, what="zone")
            if zone.removed:
                raise InvalidParameter(f"Unable to find zone by id {command.zone_id}")
        image_store = ImageStore(
            command.name,
            command.role,
            command.provider,
            command.protocol,
            command.url,
            command.zone_id,
            command.details,
            _sealed(command.credentials),
        )
        return Outcome(store.last_position(store.save(image_store)), image_store.id)

    result: Outcome = store.run(attempt)
    return result


def delete_image_store(store: Any, store_id: UUID) -> Outcome:
    return change(store, ImageStore, store_id, lambda s: s.remove(), what="image store")
