"""Hypervisor jobs that no adapter answered: the request in flight fails as if its adapter had
said so, so each aggregate applies its own failure rule (a VM goes back to its state before or to
Error, a connecting host to Alert) and gives back what it held; the job fails with the reason.

A job is stuck only when it is old enough *and* the adapter side has been quiet about the host
its request went to (`Quiet`, from the heartbeats): work queued behind a busy host, or being
done on it, is not stuck. The failure is marked as given up on (`ABANDONED`), so an answer that
comes later after all still counts where it must (a VM's start that ran is undone)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.jobs import fail_job
from commands.routers import ACTIONS as SYSTEM_VM_ACTIONS
from commands.simulator_mocks import ACTION as MOCK_ACTION
from commands.snapshots import ACTION as SNAPSHOT_ACTION
from commands.template_captures import ACTION as CAPTURE_ACTION
from commands.vcenter_clusters import ACTION as DISCOVERY_ACTION
from commands.vm_snapshots import ACTIONS as VM_SNAPSHOT_ACTIONS
from commands.vmware_datacenters import ACTIONS as DATACENTER_ACTIONS
from commands.volume_work import ACTIONS as VOLUME_ACTIONS
from commands.vpn import APPLY_ACTION as VPN_ACTION
from domain.errors import NotFound, ResourceUnavailable
from domain.host import Host
from domain.infrastructure import Cluster
from domain.job import Job, JobStatus
from domain.simulator_mock import SimulatorMock
from domain.snapshot import Snapshot
from domain.system_vm import SystemVm
from domain.template import Template
from domain.vm import VirtualMachine
from domain.vm_snapshot import VMSnapshot
from domain.vmware_datacenter import VmwareDatacenter
from domain.volume import Volume, root_volume_id
from domain.vpn import RemoteAccessVpn
from stratus.messages import ABANDONED, WorkResult

Handlers = Mapping[str, Callable[[Any, WorkResult], Any]]
# Whether the adapters have been silent long enough about a host (or, for work bound to no
# host, about a hypervisor kind) for work sent there to count as lost.
Quiet = Callable[[UUID | None, str], bool]

# The action a VM's pending work was sent as; the result handler is the same for all of them.
_VM_ACTIONS = {
    "start": "start_vm",
    "stop": "stop_vm",
    "reboot": "reboot_vm",
    "destroy": "stop_vm",
    "expunge": "destroy_vm",
    "scale": "scale_vm",
    "attach_iso": "attach_iso",
    "detach_iso": "detach_iso",
    "plug_nic": "plug_nic",
    "unplug_nic": "unplug_nic",
    "migrate": "migrate_vm",
}
_RECENT_EVENTS = 20  # a request is among the last events of its aggregate


def timed_out(seconds: float) -> str:
    return f"no hypervisor adapter answered within {seconds:g} seconds"


def always_quiet(host_id: UUID | None, kind: str) -> bool:
    return True


@dataclass(frozen=True)
class InFlight:
    """The request a pending job waits on: the event that asked for it and the result that
    gives up on it."""

    event: Any
    action: str
    request_id: str
    target_id: UUID

    @property
    def host_id(self) -> UUID | None:
        host_id = getattr(self.event, "host_id", None)
        return UUID(str(host_id)) if host_id else None

    @property
    def kind(self) -> str:
        return str(getattr(self.event, "hypervisor", "")).lower()

    def given_up(self, reason: str) -> WorkResult:
        return WorkResult(
            request_id=self.request_id,
            hypervisor=self.kind,
            action=self.action,
            target_id=str(self.target_id),
            ok=False,
            data={ABANDONED: True},
            error=reason,
        )


def stuck_hypervisor_jobs(
    store: Any, pending: list[UUID], cutoff: datetime, quiet: Quiet = always_quiet
) -> list[UUID]:
    """Of the pending jobs, the hypervisor ones submitted before `cutoff` whose request went
    where the adapters have been quiet."""
    stuck = []
    for job_id in pending:
        try:
            job = store.get(Job, job_id, what="job")
        except NotFound:
            continue
        waiting = job.executor == "hypervisor" and job.status == JobStatus.PENDING
        if not waiting or job.created_on >= cutoff:
            continue
        flight = in_flight(store, job)
        if flight is None or quiet(flight.host_id, flight.kind):
            stuck.append(job.id)
    return stuck


def fail_stuck_job(store: Any, job_id: UUID, reason: str, handlers: Handlers) -> int:
    """Fail the job's request in flight through its result handler, then the job if still
    pending; returns the last position written (0: nothing changed)."""
    job = store.get(Job, job_id, what="job")
    if job.status != JobStatus.PENDING:
        return 0
    position = 0
    flight = in_flight(store, job)
    handler = handlers.get(flight.action) if flight is not None else None
    if flight is not None and handler is not None:
        outcome = handler(store, flight.given_up(reason))
        position = outcome.position if isinstance(outcome, Outcome) else 0
    failed = fail_job(store, job_id, ResourceUnavailable(reason))
    return max(position, failed.position)


def in_flight(store: Any, job: Job) -> InFlight | None:
    """The request the job waits on, if its resource still waits on it."""
    found = _waiting_target(store, job)
    if found is None:
        return None
    target, action = found
    if target.job_id != job.id or not target.request_id:
        return None
    event = request_event(store, target.id, target.request_id)
    if event is None:
        return None
    return InFlight(event, action, target.request_id, target.id)


def requests_in_flight(
    store: Any, pending: list[UUID], downloads: list[tuple[str, str]]
) -> list[Any]:
    """The events that asked for the work the pending jobs and the template downloads in flight
    (template, zone) still wait on, to send again."""
    events = []
    for job_id in pending:
        job = store.get(Job, job_id, what="job")
        flight = in_flight(store, job) if job.executor == "hypervisor" else None
        if flight is not None and job.status == JobStatus.PENDING:
            events.append(flight.event)
    for template_id, zone_id in downloads:
        template = store.get(Template, UUID(template_id), what="template")
        request = template.request_in(UUID(zone_id))
        event = request_event(store, template.id, request) if request else None
        if event is not None:
            events.append(event)
    return events


def request_event(store: Any, aggregate_id: UUID, request_id: str) -> Any:
    """The event that asked for `request_id` (it names the host, the kind, the credentials)."""
    for event in store.events.get(aggregate_id, desc=True, limit=_RECENT_EVENTS):
        if getattr(event, "request_id", None) == request_id:
            return event
    return None


def _waiting_target(store: Any, job: Job) -> tuple[Any, str] | None:
    if job.instance_id is None:
        return None
    target: Any = None
    action = None
    try:
        if job.instance_type == "VirtualMachine":
            target = store.get(VirtualMachine, job.instance_id, what="virtual machine")
            action = _VM_ACTIONS.get(target.pending or "")
            if action is None:  # a VM's job may wait on its ROOT disk's move instead
                target = store.get(Volume, root_volume_id(job.instance_id), what="volume")
                action = (
                    VOLUME_ACTIONS.get(target.pending or "") if target.job_id == job.id else None
                )
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
        elif job.instance_type in ("SystemVm", "DomainRouter"):
            target = store.get(SystemVm, job.instance_id, what="system vm")
            action = SYSTEM_VM_ACTIONS.get(target.pending or "")
        elif job.instance_type == "Template":
            target = store.get(Template, job.instance_id, what="template")
            action = CAPTURE_ACTION
        elif job.instance_type == "RemoteAccessVpn":
            target = store.get(RemoteAccessVpn, job.instance_id, what="remote access VPN")
            action = VPN_ACTION
        elif job.instance_type == "VmwareDatacenter":
            target = store.get(VmwareDatacenter, job.instance_id, what="VMware datacenter")
            action = DATACENTER_ACTIONS.get(target.state)
        elif job.instance_type == "Cluster":
            target = store.get(Cluster, job.instance_id, what="cluster")
            action = DISCOVERY_ACTION
        elif job.instance_type == "SimulatorMock":
            target = store.get(SimulatorMock, job.instance_id, what="simulator setting")
            action = MOCK_ACTION
    except NotFound:
        return None
    if target is None or action is None:
        return None
    return target, action
