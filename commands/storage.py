"""Commands on primary storage pools and image stores: create, update, maintenance, delete.

Pools are records of the storage a zone or cluster uses; credentials in their URL or details
are sealed here (`Secret`) before anything is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome, change
from commands.vms import host_access, request_id
from domain.errors import InvalidParameter, InvalidState, NotFound
from domain.host import Host, HostState
from domain.infrastructure import Cluster, Zone
from domain.storage import ImageStore, PoolIndex, StoragePool, scope_keys
from domain.values import Secret
from stratus.messages import WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, origin, work


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
    host_ids: tuple[UUID, ...] = ()  # the Up hosts of its scope, each asked to connect it


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
        _connect_on_hosts(store, pool, command.host_ids)
        index = _index(store, pool.scope_key)
        index.add(pool.id)
        return Outcome(store.last_position(store.save(pool, index)), pool.id)

    result: Outcome = store.run(attempt)
    return result


def _connect_on_hosts(store: Any, pool: StoragePool, host_ids: tuple[UUID, ...]) -> None:
    """Ask each host that is Up (now, in the store) to connect the pool; one that is not is
    left out, as 4.3 connects a pool only to the hosts it can reach."""
    for host_id in host_ids:
        try:
            access = host_access(store, host_id)
        except (InvalidState, NotFound):
            continue
        pool.request_connection(request_id(), access)


def _index(store: Any, scope_key: str) -> PoolIndex:
    try:
        index: PoolIndex = store.get(PoolIndex, PoolIndex.create_id(scope_key), what="pools")
    except NotFound:
        index = PoolIndex(scope_key)
    return index


def connect_pools_of_host(store: Any, result: WorkResult) -> None:
    """After a host connects, ask it to connect every pool of its scope (as a 4.3 host does
    when its agent connects); each pool is its own save."""
    if not result.ok:
        return
    host = store.get(Host, UUID(result.target_id), what="host")
    if host.removed or host.state != HostState.UP:
        return
    for key in scope_keys(host.zone_id, host.cluster_id, host.hypervisor):
        try:
            index = store.get(PoolIndex, PoolIndex.create_id(key), what="pools")
        except NotFound:
            continue
        for pool_id in index.pool_ids:
            _connect_one(store, pool_id, host.id)


def _connect_one(store: Any, pool_id: UUID, host_id: UUID) -> None:
    def attempt() -> None:
        pool = store.get(StoragePool, pool_id, what="storage pool")
        if pool.removed:
            return
        try:
            access = host_access(store, host_id)
        except (InvalidState, NotFound):
            return  # the host left or went down meanwhile: it is asked when it connects again
        pool.request_connection(request_id(), access)
        store.save(pool)

    store.run(attempt)


FOLLOW_UPS = {"connect_host": connect_pools_of_host}


def on_pool_result(store: Any, result: WorkResult) -> Outcome:
    """A host's answer to connecting a pool; stale or repeated answers change nothing."""

    def attempt() -> Outcome:
        pool = store.get(StoragePool, UUID(result.target_id), what="storage pool")
        seen = result.data.get("pool") if isinstance(result.data, dict) else None
        seen = seen if isinstance(seen, dict) else {}
        error = None if result.ok else (result.error or "the host did not answer")
        if not pool.report_connection(
            result.request_id,
            int(seen.get("capacity_bytes") or 0),
            int(seen.get("available_bytes") or 0),
            error,
        ):
            return Outcome(0, pool.id)
        return Outcome(store.last_position(store.save(pool)), pool.id)

    outcome: Outcome = store.run(attempt)
    return outcome


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    "connect_pool": on_pool_result,
}


def pool_routes(box: Any, prefix: str) -> dict[str, Any]:
    """A pool's connection requests, each to the host it names, with the host's login sealed."""

    def outgoing(e: Any) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action="connect_pool",
            target_id=str(e.originator_id),
            params={"host_id": str(e.host_id), "pool": dict(e.pool)},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    pool: Any = StoragePool  # events made by the library's decorator: mypy cannot see them
    return {get_topic(pool.ConnectRequested): outgoing}


OUTBOX_ROUTES = pool_routes


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
    """Forget the pool (refused while volumes live on it) and take it out of its scope."""

    def attempt() -> Outcome:
        pool = store.get(StoragePool, pool_id, what="storage pool")
        pool.delete()
        index = _index(store, pool.scope_key)
        index.remove(pool.id)
        return Outcome(store.last_position(store.save(pool, index)), pool.id)

    result: Outcome = store.run(attempt)
    return result


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


def prepare_store_for_migration(store: Any, store_id: UUID) -> Outcome:
    """An NFS image store becomes a staging store in front of the object store."""
    return change(store, ImageStore, store_id, lambda s: s.convert_to_staging(), what="image store")


def delete_image_store(store: Any, store_id: UUID) -> Outcome:
    return change(store, ImageStore, store_id, lambda s: s.remove(), what="image store")
