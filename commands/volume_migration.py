"""Moving a volume to another primary storage pool (migrateVolume): a host that reaches both
pools copies the disk, and the volume lives on the new pool once that host confirms.

One commit checks the move (the volume's state and pool, the target pool's zone, scope, state,
tags and room), holds the disk's room on the target pool and records the volume's
`MigrateRequested` for the host: the host of the VM the disk is attached to, or, for a disk
no VM holds, a host that has both pools connected. The answer (`commands.volume_work.
on_volume_result`) records `Migrated` and gives the old pool its room back, or fails the move
and gives the target's back; either way the job finishes in the same commit.

A running VM's disks can also move with the VM to another host (migrateVirtualMachineWithVolume):
`join_moves` records each disk's move under the VM's migration request, in the request's
commit, and the answer to that request settles them (`commands.volume_placement.settle_moves`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.vms import host_access, request_id
from commands.volume_placement import GIB, PoolNeeds, scope_pools
from domain.errors import (
    DomainError,
    InsufficientCapacity,
    InvalidParameter,
    InvalidState,
    NotFound,
)
from domain.host import Host
from domain.storage import Scope, StoragePool
from domain.vm import VirtualMachine
from domain.volume import HostWork, PoolMove, Volume


@dataclass(frozen=True)
class MigrateVolume:
    volume_id: UUID
    pool_id: UUID
    live: bool = False  # the disk's VM may be running (the API checked storage motion)
    needs: PoolNeeds = field(default_factory=PoolNeeds)  # its offering's tags, the factor
    job_id: UUID | None = None


def migrate_volume(store: Any, command: MigrateVolume) -> Outcome:
    """Hold room on the target pool and ask a host to copy the disk there, in one commit."""

    def attempt() -> Outcome:
        volume: Volume = store.get(Volume, command.volume_id, what="volume")
        target: StoragePool = store.get(StoragePool, command.pool_id, what="storage pool")
        volume.check_movable(target.id)
        vm = _vm_of(store, volume)
        host = _vm_host(store, vm, command.live) if vm is not None else None
        _check_scope(target, volume, host)
        size = volume.size_gb * GIB
        factor = command.needs.factor_of(target.id)
        target.check_takes(size, command.needs.tags, factor, min_iops=volume.min_iops)
        worker = host.id if host is not None else _shared_host(store, volume, target)
        if str(worker) not in target.connected_hosts():
            raise InvalidParameter(
                f"Storage pool {target.name} is not connected to the host of the volume's VM"
            )
        name = vm.instance_name if vm is not None else ""
        work = HostWork(request_id(), command.job_id, host_access(store, worker), name)
        volume.request_move(PoolMove(target.id, target.name, command.live), work)
        # its room is held while the host copies
        target.place_volume(volume.id, size, min_iops=volume.min_iops)
        return Outcome(store.last_position(store.save(volume, target)), volume.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _vm_of(store: Any, volume: Volume) -> VirtualMachine | None:
    """The VM the disk is attached to (None: detached, or its VM is gone)."""
    if volume.vm_id is None:
        return None
    try:
        vm: VirtualMachine = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
    except NotFound:
        return None
    return None if vm.removed else vm


def _vm_host(store: Any, vm: VirtualMachine, live: bool) -> Host | None:
    """The host that holds the VM's disks (None when no host ever did); a running VM's disk
    moves only live, a VM doing something else is refused."""
    if vm.pending is not None or vm.state not in ("Running", "Stopped"):
        raise InvalidState(
            f"Virtual machine {vm.name} is {vm.state}: its volumes move while it is Running or "
            "Stopped"
        )
    if vm.state == "Running" and not live:
        raise InvalidParameter(
            f"The volume is attached to the running VM {vm.name}: specify livemigrate=true"
        )
    host_id = vm.placed_host
    if host_id is None:
        return None
    host: Host = store.get(Host, host_id, what="host")
    return None if host.removed else host


def _check_scope(target: StoragePool, volume: Volume, host: Host | None) -> None:
    """The target must be of the volume's zone and, for a disk of a VM on a host, of that
    host's cluster or a zone-wide pool of its hypervisor."""
    place = target.place
    if place["zone_id"] != volume.zone_id:
        raise InvalidParameter(
            f"Storage pool {target.name} is not in the volume's zone: it cannot take the volume"
        )
    if host is None:
        return
    if place.get("scope") == Scope.ZONE:
        reached = str(place.get("hypervisor", "")).lower() == host.hypervisor.lower()
    else:
        reached = place.get("cluster_id") == host.cluster_id
    if not reached:
        raise InvalidParameter(
            f"Storage pool {target.name} is out of the scope of the volume's VM: use a pool of "
            f"its host's cluster or a zone-wide pool of {host.hypervisor}"
        )


def _shared_host(store: Any, volume: Volume, target: StoragePool) -> UUID:
    """A host, Up, that has both the volume's pool and the target connected: it copies a disk
    that no VM's host holds."""
    assert volume.pool_id is not None  # checked by `check_movable`
    source: StoragePool = store.get(StoragePool, volume.pool_id, what="storage pool")
    for host_id in sorted(source.connected_hosts() & target.connected_hosts()):
        try:
            host_access(store, UUID(host_id))
        except DomainError:
            continue
        return UUID(host_id)
    raise InvalidParameter(
        f"No Up host has both storage pool {source.name} and {target.name} connected: the "
        f"volume {volume.name} cannot be copied"
    )


@dataclass(frozen=True)
class DiskMove:
    """A disk of a migrating VM and the pool it moves to (None: a pool of the destination's
    scope that takes it, the roomiest, as 4.3 picks one when the request names none)."""

    pool_id: UUID | None
    needs: PoolNeeds = field(default_factory=PoolNeeds)


def join_moves(
    store: Any,
    vm: VirtualMachine,
    moves: Mapping[UUID, DiskMove],
    request: str,
    destination: UUID,
) -> tuple[tuple[dict[str, Any], ...], list[Any]]:
    """Each disk of the VM recorded as moving under its migration request `request`, its room
    held on its new pool, checked as migrateVolume checks a move (the pool in scope of the
    destination host). Within the cluster the VM's host copies the disk first, so the pool
    must be connected to it; to another cluster the disk travels with the VM onto a pool the
    destination has connected. Returns what the host needs of the moves and the aggregates to
    save with the request."""
    if not moves:
        return (), []
    host: Host = store.get(Host, destination, what="host")
    source: Host = store.get(Host, vm.host_id, what="host")
    along = source.cluster_id != host.cluster_id
    copier = host.id if along else source.id
    loaded: dict[UUID, StoragePool] = {}
    specs: list[dict[str, Any]] = []
    volumes: list[Volume] = []
    for volume_id, move in moves.items():
        volume: Volume = store.get(Volume, volume_id, what="volume")
        if volume.vm_id != vm.id:
            raise InvalidParameter(f"Volume {volume.name} doesn't belong to the vm {vm.name}")
        size = volume.size_gb * GIB
        target = _target(store, volume, move, host, loaded)
        volume.check_movable(target.id)
        _check_scope(target, volume, host)
        factor = move.needs.factor_of(target.id)
        target.check_takes(size, move.needs.tags, factor, min_iops=volume.min_iops)
        if str(copier) not in target.connected_hosts():
            whose = "destination host" if along else "VM's host"
            raise InvalidParameter(f"Storage pool {target.name} is not connected to the {whose}")
        spec = volume.join_move(PoolMove(target.id, target.name, live=True), request)
        specs.append({**spec, "with_vm": along})
        target.place_volume(volume.id, size, min_iops=volume.min_iops)
        volumes.append(volume)
    return tuple(specs), [*volumes, *loaded.values()]


def _target(
    store: Any, volume: Volume, move: DiskMove, host: Host, loaded: dict[UUID, StoragePool]
) -> StoragePool:
    """The pool the request names, or the roomiest of the destination's scope that takes the
    disk (533 when none does)."""
    if move.pool_id is not None:
        if move.pool_id not in loaded:
            loaded[move.pool_id] = store.get(StoragePool, move.pool_id, what="storage pool")
        return loaded[move.pool_id]
    size = volume.size_gb * GIB
    factor = move.needs.factor_of
    fitting = [
        pool
        for pool in scope_pools(store, host, loaded)
        if pool.id != volume.pool_id
        and str(host.id) in pool.connected_hosts()
        and pool.takes(size, move.needs.tags, factor(pool.id), min_iops=volume.min_iops)
    ]
    if not fitting:
        raise InsufficientCapacity(
            f"Cannot find a storage pool which is available for volume {volume.name} while "
            f"migrating virtual machine to host {host.name}"
        )
    return max(fitting, key=lambda p: p.total_bytes * factor(p.id) - p.allocated_bytes)
