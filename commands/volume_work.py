"""Attaching, detaching and resizing data disks through the adapter of the VM's host.

A VM that has a host (running, or stopped with a last host still in the cloud) gets the change
as a request to that host's adapter: the volume records the request (the slot of an attach is
taken at once) and the adapter's result confirms it, or fails it and gives the slot back, and
finishes the job, in one save. A VM that has never had a host changes on the record alone; its
disks are handed to the hypervisor with its first start
(`commands.volumes.attached_disks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.vms import host_access, request_id, vm_result
from commands.volume_placement import follow_size, place_on_pool, settle_move
from commands.volume_uploads import leave_image_store
from commands.volumes import AttachVolume, _device_slots, vm_facts
from domain.errors import InvalidState, NotFound
from domain.host import Host
from domain.job import Job, JobStatus
from domain.snapshot import Snapshot
from domain.template import StoreTarget
from domain.vm import VirtualMachine
from domain.volume import HostWork, Volume
from stratus.messages import WorkResult

# The action each pending request was sent as (the stuck-job sweeper needs it too).
ACTIONS = {
    "attach": "attach_volume",
    "detach": "detach_volume",
    "resize": "resize_volume",
    "migrate": "migrate_volume",  # a move to another pool (commands.volume_migration)
}


def volume_result(volume_id: UUID) -> dict[str, Any]:
    """What a volume job's result names: the API renders the volume from it."""
    return {"object": "volume", "id": str(volume_id)}


def _answer(job: Job, volume: Volume) -> dict[str, Any]:
    """A VM's job for its disk (migrateVirtualMachine storageid moves the ROOT disk) answers
    the VM; a volume's job the volume."""
    if job.instance_type == "VirtualMachine" and job.instance_id is not None:
        return vm_result(job.instance_id)
    return volume_result(volume.id)


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


def _succeeded(store: Any, job_id: UUID | None, volume: Volume) -> Job | None:
    job = _job(store, job_id)
    if job is not None and job.status == JobStatus.PENDING:
        job.succeed(_answer(job, volume))
    return job


def _saved(store: Any, *aggregates: Any) -> Outcome:
    present = [a for a in aggregates if a is not None]
    return Outcome(store.last_position(store.save(*present)), present[0].id)


def _work(store: Any, vm: VirtualMachine, job_id: UUID | None) -> HostWork | None:
    """The request for the VM's host, or None when no host holds the VM (record only)."""
    host_id = None if vm.removed else vm.placed_host
    if host_id is None:
        return None
    try:
        host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    if host.removed:
        return None  # a host that left the cloud keeps nothing of the VM
    if vm.pending is not None:
        raise InvalidState(
            f"Virtual machine {vm.name} is busy ({vm.pending} in progress); try again when it "
            "is done"
        )
    return HostWork(request_id(), job_id, host_access(store, host_id), vm.instance_name)


def _work_of_disk(store: Any, volume: Volume, job_id: UUID | None) -> HostWork | None:
    """The request for the host of the VM the disk is attached to, if any (see `_work`)."""
    if volume.vm_id is None:
        return None
    try:
        vm = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
    except NotFound:
        return None
    return _work(store, vm, job_id)


# Attach, detach, resize --------------------------------------------------------------------


def snapshot_copy(store: Any, volume: Volume) -> StoreTarget | None:
    """Where the bytes of the snapshot a new disk is made from are (its image store with the
    copy's `path`, and the store's credentials); None when there are none to write: not made
    from a snapshot, made by a host already, or the snapshot deleted since (an empty disk)."""
    if not volume.wants_snapshot_bytes or volume.snapshot is None:
        return None
    snapshot: Snapshot = store.get(Snapshot, UUID(str(volume.snapshot["id"])), what="snapshot")
    if not snapshot.stored or not snapshot.target:
        return None
    where = {
        "path": snapshot.stored["path"],
        "store": dict(snapshot.target["store"]),
        "staging": dict(snapshot.target.get("staging", {})),
    }
    return StoreTarget(where, dict(snapshot.target.get("secrets", {})))


def attach_volume(store: Any, command: AttachVolume, job_id: UUID | None) -> Outcome:
    """Take the next free slot and ask the VM's host to plug the disk in (record only when the
    VM has no host); refused when the volume or the VM cannot take it."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        volume = store.get(Volume, command.volume_id, what="volume")
        facts = vm_facts(vm)
        volume.check_attachable(facts)  # the volume's and the VM's refusals come first
        slots = _device_slots(store, vm.id)
        slots.check_room(set(command.used_device_ids), command.max_data_volumes)
        device = slots.take(volume.id, command.device_id, set(command.used_device_ids))
        work = _work(store, vm, job_id)
        if work is None:
            volume.attach(vm.id, facts, device)
            job = _succeeded(store, job_id, volume)
            return _saved(store, volume, slots, job, *leave_image_store(store, volume))
        # The disk is made on a pool of the host's scope, if it has any, as the host plugs it.
        pool = place_on_pool(store, volume, work.access.host_id, command.pool)
        volume.request_attach(vm.id, facts, device, work, snapshot_copy(store, volume))
        return _saved(store, volume, slots, pool)

    result: Outcome = store.run(attempt)
    return result


def detach_volume(store: Any, volume_id: UUID, job_id: UUID | None) -> Outcome:
    """Ask the host of the disk's VM to unplug it (record only when the VM has no host)."""

    def attempt() -> Outcome:
        volume = store.get(Volume, volume_id, what="volume")
        work = _work_of_disk(store, volume, job_id) if volume.pending is None else None
        if work is not None:
            volume.request_detach(work)
            return _saved(store, volume)
        vm_id = volume.vm_id
        volume.detach()
        slots = _device_slots(store, vm_id) if vm_id is not None else None
        if slots is not None:
            slots.release(volume.id)
        return _saved(store, volume, slots, _succeeded(store, job_id, volume))

    result: Outcome = store.run(attempt)
    return result


@dataclass(frozen=True)
class ResizeAttached:
    volume_id: UUID
    size_gb: int
    disk_offering_id: UUID | None
    shrink_ok: bool = False
    job_id: UUID | None = None
    io_limits: dict[str, int] | None = None  # the new offering's rates (None: unchanged)


def resize_volume(store: Any, command: ResizeAttached) -> Outcome:
    """A disk attached to a VM that has a host is resized by that host; any other disk on the
    record alone."""

    def attempt() -> Outcome:
        volume = store.get(Volume, command.volume_id, what="volume")
        size, offering, shrink_ok = command.size_gb, command.disk_offering_id, command.shrink_ok
        volume.check_resizable(size, offering, shrink_ok=shrink_ok)
        work = _work_of_disk(store, volume, command.job_id)
        if work is not None:
            volume.request_resize(size, offering, shrink_ok, work, command.io_limits)
            return _saved(store, volume)
        volume.resize(size, offering, shrink_ok=shrink_ok, io_limits=command.io_limits)
        job = _succeeded(store, command.job_id, volume)
        return _saved(store, volume, job, *follow_size(store, volume))

    result: Outcome = store.run(attempt)
    return result


# Results -----------------------------------------------------------------------------------


def on_volume_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer to the volume's request in flight; stale or repeated ones change
    nothing. A failed attach gives its slot back; a confirmed detach frees it."""

    def attempt() -> Outcome:
        volume = store.get(Volume, UUID(result.target_id), what="volume")
        if not volume.is_current(result.request_id):
            return Outcome(0, volume.id)
        action, job = volume.pending, _job(store, volume.job_id)
        between = volume.moving_between
        slot_vm = volume.pending_vm_id if action == "attach" else volume.vm_id
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            volume.confirm(result.request_id)
        else:
            volume.fail(result.request_id, reason)
        slots = None
        frees = (action == "attach" and not result.ok) or (action == "detach" and result.ok)
        if frees and slot_vm is not None:
            slots = _device_slots(store, slot_vm)
            slots.release(volume.id)
        _finish_job(job, volume, action, None if result.ok else reason)
        moved = follow_size(store, volume) if action == "resize" and result.ok else []
        if action == "attach" and result.ok:  # an uploaded disk was copied to primary storage
            moved += leave_image_store(store, volume)
        moved += settle_move(store, volume.id, between, result.ok)
        return _saved(store, volume, slots, job, *moved)

    outcome: Outcome = store.run(attempt)
    return outcome


def _finish_job(job: Job | None, volume: Volume, action: str | None, error: str | None) -> None:
    if job is None or job.status != JobStatus.PENDING:
        return
    if error is None:
        job.succeed(_answer(job, volume))
    else:
        verb = action or "act on"
        job.fail("DomainError", f"Unable to {verb} volume {volume.name}: {error}")


RESULT_HANDLERS: dict[str, Callable[[Any, WorkResult], Outcome]] = {
    action: on_volume_result for action in ACTIONS.values()
}


# Outbox routes -----------------------------------------------------------------------------


def _pool(e: Any) -> dict[str, str]:
    """The pool a disk was placed on, when it was (the driver makes the disk there)."""
    pool_id = getattr(e, "pool_id", None)
    return {"pool_id": str(pool_id)} if pool_id else {}


def _io_limits(e: Any) -> dict[str, dict[str, int]]:
    """The disk's I/O throttling rates, when it has any (the driver applies them)."""
    limits = getattr(e, "io_limits", None)
    return {"io_limits": dict(limits)} if limits else {}


def volume_routes(box: Any, prefix: str) -> dict[str, Any]:
    """Disk requests: each names the VM by its instance name and the disk by the volume's id."""
    from eventsourcing.utils import get_topic

    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, work

    def outgoing(
        e: Any, action: str, params: dict[str, Any], secrets: dict[str, Any] | None = None
    ) -> Outgoing:
        login = (e.url, e.username, e.password.reveal())
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "disk_id": str(e.originator_id),
                **params,
            },
            sealed_credentials=seal_credentials(box, *login, secrets=secrets),
        )
        return work(request, prefix)

    def attach(e: Any) -> Outgoing:
        """A disk made from a snapshot names the copy to fill it from, the store's secrets
        sealed with the host's login."""
        params = {"device_id": e.device_id, "size_gb": e.size_gb, **_pool(e), **_io_limits(e)}
        source = getattr(e, "source", None)  # absent from older events
        if not source:
            return outgoing(e, "attach_volume", params)
        secrets = {k: v.reveal() for k, v in (e.source_secrets or {}).items()}
        return outgoing(e, "attach_volume", {**params, "source": source}, {"source": secrets})

    volume: Any = Volume  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(volume.AttachRequested): attach,
        get_topic(volume.DetachRequested): lambda e: outgoing(e, "detach_volume", {}),
        get_topic(volume.MigrateRequested): lambda e: outgoing(
            e,
            "migrate_volume",
            {
                "kind": e.disk_kind,
                "size_gb": e.size_gb,
                "from_pool_id": str(e.from_pool_id),
                "to_pool_id": str(e.to_pool_id),
                "live": e.live,
            },
        ),
        get_topic(volume.ResizeRequested): lambda e: outgoing(
            e, "resize_volume", {"size_gb": e.size_gb, "shrink_ok": e.shrink_ok}
        ),
    }


OUTBOX_ROUTES = volume_routes
