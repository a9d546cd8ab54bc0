"""Hypervisor jobs that no adapter answered: the request in flight fails as if its adapter had
said so, so each aggregate applies its own failure rule (a VM goes back to its state before or to
Error, a connecting host to Alert) and gives back what it held; the job fails with the reason."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.jobs import fail_job
from commands.snapshots import ACTION as SNAPSHOT_ACTION
from commands.vm_snapshots import ACTIONS as VM_SNAPSHOT_ACTIONS
from commands.volume_work import ACTIONS as VOLUME_ACTIONS
from commands.vpn import APPLY_ACTION as VPN_ACTION
from domain.errors import NotFound, ResourceUnavailable
from domain.host import Host
from domain.job import Job, JobStatus
from domain.snapshot import Snapshot
from domain.vm import VirtualMachine
from domain.vm_snapshot import VMSnapshot
from domain.volume import Volume
from domain.vpn import RemoteAccessVpn
from stratus.messages import WorkResult

Handlers = Mapping[str, Callable[[Any, WorkResult], Any]]

# The action a VM's pending work was sent as; the result handler is the same for all of them.
_VM_ACTIONS = {
    "start": "start_vm",
    "stop": "stop_vm",
    "reboot": "reboot_vm",
    "destroy": "stop_vm",
    "expunge": "destroy_vm",
    "scale": "scale_vm",
}


def timed_out(seconds: float) -> str:
    return f"no hypervisor adapter answered within {seconds:g} seconds"


def stuck_hypervisor_jobs(store: Any, pending: list[UUID], cutoff: datetime) -> list[UUID]:
    """Of the pending jobs, the hypervisor ones submitted before `cutoff`."""
    stuck = []
    for job_id in pending:
        try:
            job = store.get(Job, job_id, what="job")
        except NotFound:
            continue
        waiting = job.executor == "hypervisor" and job.status == JobStatus.PENDING
        if waiting and job.created_on < cutoff:
            stuck.append(job.id)
    return stuck


def fail_stuck_job(store: Any, job_id: UUID, reason: str, handlers: Handlers) -> int:
    """Fail the job's request in flight through its result handler, then the job if still
    pending; returns the last position written (0: nothing changed)."""
    job = store.get(Job, job_id, what="job")
    if job.status != JobStatus.PENDING:
        return 0
    position = 0
    result = _in_flight(store, job, reason)
    handler = handlers.get(result.action) if result is not None else None
    if result is not None and handler is not None:
        outcome = handler(store, result)
        position = outcome.position if isinstance(outcome, Outcome) else 0
    failed = fail_job(store, job_id, ResourceUnavailable(reason))
    return max(position, failed.position)


def _in_flight(store: Any, job: Job, reason: str) -> WorkResult | None:
    """A failed result for the request the job waits on, if its resource still waits on it."""
    if job.instance_id is None:
        return None
    target: Any = None
    action = None
    try:
        if job.instance_type == "VirtualMachine":
            target = store.get(VirtualMachine, job.instance_id, what="virtual machine")
            action = _VM_ACTIONS.get(target.pending or "")
        elif job.instance_type == "Host":
            target = store.get(Host, job.instance_id, what="host")
            action = "connect_host"
        elif job.instance_type == "Volume":
            target = store.get(Volume, job.instance_id, what="volume")
            action = VOLUME_ACTIONS.get(target.pending or "")
        elif job.instance_type == "Snapshot":
            target = store.get(Snapshot, job.instance_id, what="snapshot")
            action = SNAPSHOT_ACTION
        elif job.instance_type == "VMSnapshot":
            target = store.get(VMSnapshot, job.instance_id, what="vm snapshot")
            action = VM_SNAPSHOT_ACTIONS.get(target.pending or "")
        elif job.instance_type == "RemoteAccessVpn":
            target = store.get(RemoteAccessVpn, job.instance_id, what="remote access VPN")
            action = VPN_ACTION
    except NotFound:
        return None
    if target is None or action is None or target.job_id != job.id or not target.request_id:
        return None
    return WorkResult(
        request_id=target.request_id,
        hypervisor="",
        action=action,
        target_id=str(target.id),
        ok=False,
        error=reason,
    )
