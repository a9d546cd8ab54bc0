"""Commands on volume snapshots, the route that asks a host to take one, and the handler of the
host's answer.

A volume whose VM runs or ran on a host is copied through that host's adapter
(`snapshot_volume`); a volume no hypervisor ever held (a data disk never attached to a VM that
ran, or the ROOT disk of a VM never started) is recorded BackedUp at once, from its size.
Deleting a snapshot, or the volume it was taken of, touches no host: the copy is not kept there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome, change
from commands.templates import StoreChoice, removal, store_target
from commands.vms import host_access, request_id
from domain.errors import DomainError, InvalidParameter, InvalidState
from domain.job import Job, JobStatus
from domain.snapshot import Snapshot, SnapshotState
from domain.storage import ImageStore
from domain.vm import VirtualMachine
from domain.volume import Volume
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

ACTION = "snapshot_volume"


def snapshot_result(snapshot_id: UUID) -> dict[str, Any]:
    return {"object": "snapshot", "id": str(snapshot_id)}


@dataclass(frozen=True)
class CreateSnapshot:
    snapshot_id: UUID
    volume_id: UUID
    name: str
    job_id: UUID | None = None
    store: StoreChoice | None = None  # the image store the copy is written to


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


def _holder(store: Any, volume: Volume) -> VirtualMachine | None:
    """The VM whose host holds the volume, or None when no hypervisor ever held it."""
    if volume.vm_id is None:
        return None
    vm: VirtualMachine = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
    return vm if (vm.host_id or vm.last_host_id) is not None else None


def create_snapshot(store: Any, command: CreateSnapshot) -> Outcome:
    """Record the snapshot and have it taken: by the host that holds the volume, or at once."""

    def attempt() -> Outcome:
        snapshot, job = new_snapshot(store, command)
        saved = [a for a in (snapshot, job) if a is not None and a.pending_events]
        return Outcome(store.last_position(store.save(*saved)), snapshot.id)

    result: Outcome = store.run(attempt)
    return result


def new_snapshot(store: Any, command: CreateSnapshot) -> tuple[Snapshot, Job | None]:
    """The snapshot, unsaved, asked of the host holding the volume or recorded at once; with
    its job, finished when there is no host to ask."""
    volume = store.get(Volume, command.volume_id, what="volume")
    if volume.removed:
        raise InvalidState(f"Volume {volume.name} has been deleted")
    snapshot = Snapshot(
        command.snapshot_id,
        command.name,
        {
            "id": str(volume.id),
            "name": volume.name,
            "kind": volume.kind,
            "size_gb": int(volume.size_gb),
            "vm_id": None if volume.vm_id is None else str(volume.vm_id),
        },
        volume.account_id,
        volume.domain_id,
        volume.zone_id,
    )
    job = _job(store, command.job_id)
    vm = _holder(store, volume)
    if vm is None:
        snapshot.record_backed_up()
        _finish(job, snapshot, None)
        return snapshot, job
    host_id = vm.host_id or vm.last_host_id
    assert host_id is not None
    try:
        access = host_access(store, host_id)
    except DomainError as error:
        snapshot.fail("", error.message)
        _finish(job, snapshot, error.message)
    else:
        target = store_target(store, command.store)
        snapshot.request_backup(request_id(), command.job_id, access, vm.instance_name, target)
    return snapshot, job


def delete_snapshot(store: Any, snapshot_id: UUID) -> Outcome:
    return change(store, Snapshot, snapshot_id, Snapshot.delete, what="snapshot")


def on_snapshot_result(store: Any, result: WorkResult) -> Outcome:
    """The host's answer to the snapshot's request in flight; stale ones change nothing."""

    def attempt() -> Outcome:
        snapshot = store.get(Snapshot, UUID(result.target_id), what="snapshot")
        if not snapshot.is_current(result.request_id):
            return Outcome(0, snapshot.id)
        job = _job(store, snapshot.job_id)
        reason = None if result.ok else (result.error or "the hypervisor did not answer")
        holders: list[ImageStore] = []
        if reason is None:
            snapshot.confirm(result.request_id)
            holders = _record_store(store, snapshot, result.data)
        else:
            snapshot.fail(result.request_id, reason)
        _finish(job, snapshot, reason)
        saved = [a for a in (snapshot, job, *holders) if a is not None]
        return Outcome(store.last_position(store.save(*saved)), snapshot.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _record_store(store: Any, snapshot: Snapshot, data: dict[str, Any]) -> list[ImageStore]:
    """The stores the adapter wrote the copy to now hold the snapshot."""
    store_id = str(data.get("store_id") or "")
    if not store_id:
        return []
    cache_id = str(data.get("cache_store_id") or "")
    snapshot.stored_in(store_id, str(data.get("path") or ""), cache_id)
    holders = []
    for held_by in (store_id, cache_id):
        if held_by:
            image_store = store.get(ImageStore, UUID(held_by), what="image store")
            image_store.hold(snapshot.id)
            holders.append(image_store)
    return holders


def _finish(job: Job | None, snapshot: Snapshot, error: str | None) -> None:
    if job is None or job.status != JobStatus.PENDING:
        return
    if error is None:
        job.succeed(snapshot_result(snapshot.id))
    else:
        job.fail("DomainError", f"Failed to create snapshot {snapshot.name}: {error}")


RESULT_HANDLERS = {ACTION: on_snapshot_result}


def snapshot_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """A requested backup goes to the host holding the volume, naming the VM there (and the
    image store its copy is written to, the store's secrets sealed with the host's login); a
    deleted snapshot's copy in a store is removed by a `delete_image` request."""

    def backup(e: Any) -> Outgoing:
        store = getattr(e, "store", None) or {}  # absent from snapshots taken before
        secrets = {k: v.reveal() for k, v in (getattr(e, "store_secrets", None) or {}).items()}
        staging = getattr(e, "staging", None) or {}
        where = {"store": store, "staging": staging, "snapshot_id": str(e.originator_id)}
        login = (e.url, e.username, e.password.reveal())
        sealed = seal_credentials(box, *login, secrets={"store": secrets} if store else None)
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=ACTION,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "snapshot_name": f"stratus-{e.originator_id}",
                "disk_id": getattr(e, "disk_id", ""),
                **(where if store else {}),
            },
            sealed_credentials=sealed,
            **origin(e),
        )
        return work(request, prefix)

    # The library creates Snapshot's events from the decorated methods.
    events: Any = Snapshot
    return {
        get_topic(events.BackupRequested): backup,
        get_topic(events.ImageRemovalRequested): lambda e: removal(e, box, prefix),
    }


OUTBOX_ROUTES = snapshot_routes


def revert_snapshot(store: Any, snapshot_id: UUID) -> Outcome:
    """revertSnapshot, as 4.3 answers it on the storage it drives: the volume's VM must be
    stopped and the snapshot backed up; then no snapshot strategy can revert a volume kept on
    a hypervisor's own or NFS primary storage, so the revert fails and nothing changes."""
    snapshot: Snapshot = store.get(Snapshot, snapshot_id, what="snapshot")
    if snapshot.removed or snapshot.state != SnapshotState.BACKED_UP:
        raise DomainError(f"snapshot:{snapshot_id} not exist in data store")
    volume: Volume = store.get(Volume, UUID(str(snapshot.volume["id"])), what="volume")
    if volume.removed:
        raise InvalidParameter(f"The volume of snapshot {snapshot.name} has been deleted")
    if volume.vm_id is not None:
        vm = store.get(VirtualMachine, volume.vm_id, what="virtual machine")
        if vm.state != "Stopped":
            raise InvalidParameter(
                "The VM the specified disk is attached to is not in the shutdown state."
            )
    raise DomainError(
        f"Failed to revert snapshot: the storage holding volume {volume.name} cannot revert it "
        "to a snapshot (the snapshot is not revertable)"
    )
