"""Commands on VM snapshots, the routes that ask the VM's host for the work, and the handler that
turns the adapter's answers into their outcome.

Every step saves the snapshot beside its VM's `VmSnapshotChain`, which allows one task per VM at
a time and knows the current snapshot. Snapshots go with their VM when it is expunged
(`commands.snapshot_chains.follow_vm_snapshots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from commands import Outcome
from commands.snapshot_chains import chain_of
from commands.vms import host_access, request_id, vm_result
from domain.errors import InvalidParameter, InvalidState, NotFound
from domain.host import Host
from domain.job import Job, JobStatus
from domain.vm import HostAccess, VirtualMachine, VmState
from domain.vm_snapshot import VMSnapshot
from domain.volume import Volume, VolumeType
from stratus.messages import DEFAULT_PREFIX, WorkRequest, WorkResult, seal_credentials
from stratus.outbox import Outgoing, Route, origin, work

ACTIONS = {
    "create": "create_vm_snapshot",
    "revert": "revert_vm_snapshot",
    "delete": "delete_vm_snapshot",
}
GIB = 1024**3


def vm_snapshot_result(snapshot_id: UUID) -> dict[str, Any]:
    return {"object": "vmsnapshot", "id": str(snapshot_id)}


@dataclass(frozen=True)
class CreateVmSnapshot:
    snapshot_id: UUID
    vm_id: UUID
    name: str  # CloudStack's generated name: <instance name>_VS_<yyyyMMddHHmmss>
    display_name: str
    description: str
    memory: bool
    volume_ids: Sequence[UUID] = ()  # the VM's volumes, as the read model lists them
    job_id: UUID | None = None
    quiesce: bool = False  # the host quiesces the guest first (VMware's tools)


def _placed(store: Any, vm: VirtualMachine) -> HostAccess:
    """The host that holds the VM's disks: where it runs, or where it last ran."""
    host_id = vm.host_id or vm.last_host_id
    if host_id is None:
        raise InvalidState(f"VM snapshot of {vm.name} failed: the VM has not run on any host yet")
    return host_access(store, host_id)


def _check_vm(vm: VirtualMachine, memory: bool) -> None:
    if vm.removed or vm.pending is not None or vm.state not in (VmState.RUNNING, VmState.STOPPED):
        raise InvalidState(
            f"Creating VM snapshot failed due to VM {vm.name} is not in Running or Stopped "
            f"state (it is {vm.state})"
        )
    if memory and vm.state == VmState.STOPPED:
        raise InvalidParameter("Can not snapshot memory when VM is in stopped state")


def _volume_facts(store: Any, volume_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """Each volume's size, and its disk offering when it is a data disk (as CloudStack records)."""
    facts = []
    for volume_id in volume_ids:
        volume = store.get(Volume, volume_id, what="volume")
        if volume.removed:
            continue
        offering = volume.disk_offering_id if volume.kind == VolumeType.DATADISK else None
        facts.append(
            {
                "volume_id": str(volume.id),
                "size": int(volume.size_gb) * GIB,
                "offering_id": None if offering is None else str(offering),
            }
        )
    return facts


def create_vm_snapshot(store: Any, command: CreateVmSnapshot) -> Outcome:
    """Record the snapshot (Allocated, then Creating) and ask the VM's host to take it."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        _check_vm(vm, command.memory)
        access = _placed(store, vm)
        chain = chain_of(store, vm.id, create=True)
        parent = chain.add(command.snapshot_id, command.display_name)
        snapshot = VMSnapshot(
            command.snapshot_id,
            command.name,
            command.display_name,
            command.description,
            {
                "id": vm.id,
                "instance_name": vm.instance_name,
                "account_id": vm.account_id,
                "domain_id": vm.domain_id,
                "zone_id": vm.zone_id,
            },
            command.memory,
            parent,
            _volume_facts(store, command.volume_ids),
        )
        snapshot.request_create(request_id(), command.job_id, access, quiesce=command.quiesce)
        return Outcome(store.last_position(store.save(snapshot, chain)), snapshot.id)

    result: Outcome = store.run(attempt)
    return result


def revert_to_vm_snapshot(store: Any, snapshot_id: UUID, job_id: UUID | None) -> Outcome:
    """Ask the VM's host to put the VM back as the snapshot holds it."""

    def attempt() -> Outcome:
        snapshot = store.get(VMSnapshot, snapshot_id, what="vm snapshot")
        vm = store.get(VirtualMachine, snapshot.vm_id, what="virtual machine")
        if vm.removed or vm.pending is not None:
            raise InvalidState(f"VM Snapshot reverting failed due to vm {vm.name} is busy or gone")
        chain = chain_of(store, vm.id)
        chain.begin(snapshot.id)
        snapshot.request_revert(request_id(), job_id, _placed(store, vm), vm.state)
        return Outcome(store.last_position(store.save(snapshot, chain)), snapshot.id)

    result: Outcome = store.run(attempt)
    return result


def delete_vm_snapshot(store: Any, snapshot_id: UUID, job_id: UUID | None) -> Outcome:
    """Ask the host to remove the snapshot; one whose host has left is removed at once."""

    def attempt() -> Outcome:
        snapshot = store.get(VMSnapshot, snapshot_id, what="vm snapshot")
        snapshot.check_deletable()
        vm = store.get(VirtualMachine, snapshot.vm_id, what="virtual machine")
        chain = chain_of(store, vm.id)
        chain.begin(snapshot.id)
        if snapshot.request_delete(request_id(), job_id, _live_access(store, vm)):
            return Outcome(store.last_position(store.save(snapshot, chain)), snapshot.id)
        chain.remove(snapshot.id)
        job = _job(store, job_id)
        if job is not None and job.status == JobStatus.PENDING:
            job.succeed({"success": True})
        saved = [a for a in (snapshot, chain, job) if a is not None]
        return Outcome(store.last_position(store.save(*saved)), snapshot.id)

    result: Outcome = store.run(attempt)
    return result


def _live_access(store: Any, vm: VirtualMachine) -> HostAccess | None:
    """The VM's host, or None when it has left the cloud (nothing is left there to remove)."""
    host_id = vm.host_id or vm.last_host_id
    if host_id is None:
        return None
    try:
        host = store.get(Host, host_id, what="host")
    except NotFound:
        return None
    return None if host.removed else host_access(store, host_id)


def _job(store: Any, job_id: UUID | None) -> Job | None:
    return store.get(Job, job_id, what="job") if job_id else None


# Results -------------------------------------------------------------------------------------

_FAILED = {
    "create": "Creating VM snapshot failed",
    "revert": "Reverting to VM snapshot failed",
    "delete": "Deleting VM snapshot failed",
}


def on_vm_snapshot_result(store: Any, result: WorkResult) -> Outcome:
    """An adapter's answer to the snapshot's request in flight; stale ones change nothing."""

    def attempt() -> Outcome:
        snapshot = store.get(VMSnapshot, UUID(result.target_id), what="vm snapshot")
        if not snapshot.is_current(result.request_id):
            return Outcome(0, snapshot.id)
        action = snapshot.pending or ""
        job = _job(store, snapshot.job_id)
        chain = chain_of(store, snapshot.vm_id)
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            snapshot.confirm(result.request_id)
        else:
            snapshot.fail(result.request_id, reason)
        if snapshot.removed:
            chain.remove(snapshot.id)
        else:
            chain.settle(snapshot.id, made_current=result.ok and action in ("create", "revert"))
        _finish(job, snapshot, action, None if result.ok else reason)
        saved = [a for a in (snapshot, chain, job) if a is not None]
        return Outcome(store.last_position(store.save(*saved)), snapshot.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _finish(job: Job | None, snapshot: VMSnapshot, action: str, error: str | None) -> None:
    if job is None or job.status != JobStatus.PENDING:
        return
    if error is not None:
        job.fail("DomainError", f"{_FAILED.get(action, 'VM snapshot failed')}: {error}")
    elif action == "create":
        job.succeed(vm_snapshot_result(snapshot.id))
    elif action == "revert":
        job.succeed(vm_result(snapshot.vm_id))
    else:
        job.succeed({"success": True})


RESULT_HANDLERS = {action: on_vm_snapshot_result for action in ACTIONS.values()}


def vm_snapshot_routes(box: Any, prefix: str = DEFAULT_PREFIX) -> dict[str, Route]:
    """Each request goes to the host holding the VM, naming the VM and the snapshot there."""

    def outgoing(e: Any, action: str, params: dict[str, Any]) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "snapshot_name": e.snapshot_name,
                **params,
            },
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    snapshot: Any = VMSnapshot  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(snapshot.CreateRequested): lambda e: outgoing(
            e,
            ACTIONS["create"],
            {
                "memory": e.memory,
                "description": e.description,
                "quiesce": getattr(e, "quiesce", False),  # absent from older events
            },
        ),
        get_topic(snapshot.RevertRequested): lambda e: outgoing(e, ACTIONS["revert"], {}),
        get_topic(snapshot.DeleteRequested): lambda e: outgoing(e, ACTIONS["delete"], {}),
    }


OUTBOX_ROUTES = vm_snapshot_routes
