"""Placing volumes on primary storage pools: which pool of a host's scope takes a disk, and
keeping each pool's allocated bytes as its volumes come, grow and go.

The pools of a scope are read from its `PoolIndex` (a host's cluster, and its zone for its
hypervisor); each candidate `StoragePool` decides whether it takes the disk (Up, the storage
tags, room under the over-provisioning factor). The pool is saved in the commit that records
the disk, so two disks racing for the last room write the same pool version and one retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import InsufficientCapacity, InvalidParameter, NotFound
from domain.host import Host
from domain.storage import PoolIndex, StoragePool, scope_keys
from domain.volume import Volume, root_volume_id

GIB = 1024**3


@dataclass(frozen=True)
class PoolNeeds:
    """What a disk needs of its pool: its offering's storage tags, and the zone's
    `storage.overprovisioning.factor` with the pools that set their own (read by the caller)."""

    tags: tuple[str, ...] = ()
    factor: float = 2.0
    pool_factors: tuple[tuple[UUID, float], ...] = ()  # a pool's own factor wins

    def factor_of(self, pool_id: UUID) -> float:
        return dict(self.pool_factors).get(pool_id, self.factor)


def scope_pools(
    store: Any, host: Host, loaded: dict[UUID, StoragePool] | None = None
) -> list[StoragePool]:
    """The live pools of the host's cluster and of its zone for its hypervisor (`loaded`: pools
    already loaded for the same commit, reused so that one commit changes one copy of each)."""
    loaded = {} if loaded is None else loaded
    pools: list[StoragePool] = []
    for key in scope_keys(host.zone_id, host.cluster_id, host.hypervisor):
        try:
            index: PoolIndex = store.get(PoolIndex, PoolIndex.create_id(key), what="pools")
        except NotFound:
            continue
        for pool_id in index.pool_ids:
            if pool_id not in loaded:
                loaded[pool_id] = store.get(StoragePool, pool_id, what="storage pool")
            pool = loaded[pool_id]
            if not pool.removed:
                pools.append(pool)
    return pools


def place_on_pool(
    store: Any,
    volume: Volume,
    host_id: UUID,
    needs: PoolNeeds,
    loaded: dict[UUID, StoragePool] | None = None,
) -> StoragePool | None:
    """The pool of the host's scope the disk is placed on (placed, not saved), the one with the
    most room left; None when the scope has no pool (the disk stays on the host's own storage)
    or the disk has one already. 533 when the scope has pools but none takes the disk."""
    if volume.pool_id is not None:
        return None
    host: Host = store.get(Host, host_id, what="host")
    pools = scope_pools(store, host, loaded)
    if not pools:
        return None
    size = volume.size_gb * GIB
    iops = volume.min_iops
    fitting = [
        pool
        for pool in pools
        if pool.takes(size, needs.tags, needs.factor_of(pool.id), min_iops=iops)
    ]
    if not fitting:
        raise InsufficientCapacity(
            f"Unable to find suitable primary storage for volume {volume.name}: no pool of "
            "the host's cluster or zone is Up with the storage tags, room and IOPS it needs"
        )
    pool = max(fitting, key=lambda p: p.total_bytes * needs.factor_of(p.id) - p.allocated_bytes)
    pool.place_volume(volume.id, size, min_iops=iops)
    volume.place(pool.id, pool.name)
    return pool


def place_disks(
    store: Any, volumes: list[Volume], host_id: UUID, needs: dict[UUID, PoolNeeds]
) -> list[Any]:
    """The disks of a VM starting for the first time on a host, placed on pools of its scope
    (those not placed yet), and the pools that took them: to save in the start's commit."""
    unplaced = [volume for volume in volumes if volume.pool_id is None]
    pools = placed_on_pools(store, volumes, host_id, needs)
    return [volume for volume in unplaced if volume.pool_id is not None] + pools


def placed_on_pools(
    store: Any, volumes: list[Volume], host_id: UUID, needs: dict[UUID, PoolNeeds]
) -> list[StoragePool]:
    """Place each disk not on a pool yet on a pool of the host's scope (`place_on_pool`);
    returns the pools that took one, each once, to save beside the disks."""
    loaded: dict[UUID, StoragePool] = {}
    for volume in volumes:
        place_on_pool(store, volume, host_id, needs.get(volume.id, PoolNeeds()), loaded)
    return [pool for pool in loaded.values() if pool.pending_events]


def with_pools(disks: tuple[dict[str, Any], ...], placed: list[Any]) -> tuple[dict[str, Any], ...]:
    """A start's data disks, each naming the pool it was just placed on, if it was."""
    pools = {str(v.id): str(v.pool_id) for v in placed if isinstance(v, Volume) and v.pool_id}
    return tuple(
        dict(disk, pool_id=pools[disk["disk_id"]]) if disk["disk_id"] in pools else disk
        for disk in disks
    )


def root_pool(store: Any, vm_id: UUID, placed: list[Any]) -> UUID | None:
    """The pool the VM's ROOT disk is on (None: the host's own storage, or no ROOT volume):
    as just placed for this start, else as recorded."""
    root_id = root_volume_id(vm_id)
    for volume in placed:
        if isinstance(volume, Volume) and volume.id == root_id:
            return volume.pool_id
    try:
        root: Volume = store.get(Volume, root_id, what="volume")
    except NotFound:
        return None
    return root.pool_id


def pool_of(store: Any, volume: Volume) -> StoragePool | None:
    """The pool the volume lives on, if any is still recorded."""
    return _recorded_pool(store, volume.pool_id)


def _recorded_pool(store: Any, pool_id: UUID | None) -> StoragePool | None:
    if pool_id is None:
        return None
    try:
        pool: StoragePool = store.get(StoragePool, pool_id, what="storage pool")
    except NotFound:
        return None
    return pool


def settle_move(
    store: Any,
    volume_id: UUID,
    between: tuple[UUID, UUID] | None,
    moved: bool,
    loaded: dict[UUID, StoragePool] | None = None,
) -> list[Any]:
    """The pool to save once a move between two pools is answered: the pool the disk left
    gives its room back when it moved, the pool that held room for it when it did not
    (`loaded`: pools already loaded for the same commit)."""
    if between is None:
        return []
    source, target = between
    pool_id = source if moved else target
    loaded = {} if loaded is None else loaded
    pool = loaded.get(pool_id) or _recorded_pool(store, pool_id)
    if pool is None:
        return []
    loaded[pool_id] = pool
    pool.release_volume(volume_id)
    return [pool]


def settle_moves(
    store: Any, volumes: list[Volume], request_id: str, moved: bool, reason: str
) -> list[Any]:
    """A VM's disks that moved with it under its request `request_id`, or did not: each is
    recorded on its new pool or stays where it was, and the pools' room follows."""
    loaded: dict[UUID, StoragePool] = {}
    changed: list[Any] = []
    for volume in volumes:
        if not volume.is_current(request_id):
            continue
        between = volume.moving_between
        if moved:
            volume.confirm(request_id)
        else:
            volume.fail(request_id, reason)
        changed.append(volume)
        settle_move(store, volume.id, between, moved, loaded)
    return changed + [pool for pool in loaded.values() if pool.pending_events]


def leave_pool(store: Any, volume: Volume) -> list[Any]:
    """The pool to save beside a volume that was deleted: it no longer holds the disk."""
    pool = pool_of(store, volume)
    if pool is None:
        return []
    pool.release_volume(volume.id)
    return [pool]


def follow_size(store: Any, volume: Volume) -> list[Any]:
    """The pool to save beside a resized volume: its allocation follows the new size."""
    pool = pool_of(store, volume)
    if pool is None:
        return []
    pool.resize_volume(volume.id, volume.size_gb * GIB)
    return [pool]


def move_to_pool(store: Any, volume: Volume, pool_id: UUID) -> tuple[list[Any], str]:
    """For updateVolume's `storageid`: the volume is recorded on another pool of its zone.
    Returns the pools to save and the new pool's name."""
    target: StoragePool = store.get(StoragePool, pool_id, what="storage pool")
    if target.removed or target.place["zone_id"] != volume.zone_id:
        raise InvalidParameter(
            "Invalid storageId specified; refers to the pool outside of the volume's zone"
        )
    changed = leave_pool(store, volume) if volume.pool_id != pool_id else []
    if volume.pool_id != pool_id:
        target.place_volume(volume.id, volume.size_gb * GIB, min_iops=volume.min_iops)
        changed.append(target)
    return changed, target.name
