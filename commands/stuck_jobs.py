"""Hypervisor jobs that no adapter answered: the request in flight fails as if its adapter had
said so, so each aggregate applies its own failure rule (a VM goes back to its state before or to
Error, a connecting host to Alert) and gives back what it held; the job fails with the reason.

A job is stuck only when it is old enough *and* the adapter side has been quiet about the host
its request went to (`Quiet`, from the heartbeats): work queued behind a busy host, or being
done on it, is not stuck. The failure is marked as given up on (`ABANDONED`), so an answer that
comes later after all still counts where it must (a VM's start that ran is undone)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from commands import Outcome
from commands.jobs import fail_job
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
from stratus.outbox import Route

Handlers = Mapping[str, Callable[[Any, WorkResult], Any]]
Routes = Mapping[str, Route]
# Whether the adapters have been silent long enough about a host (or, for work bound to no
# host, about a hypervisor kind) for work sent there to count as lost.
Quiet = Callable[[UUID | None, str], bool]

# The aggregate a job waits on, by the job's instance type. The action of its request is not
# kept here: it is what the request event's own outbox route sent.
_TARGETS: dict[str, tuple[type, str]] = {
    "VirtualMachine": (VirtualMachine, "virtual machine"),
    "Host": (Host, "host"),
    "Volume": (Volume, "volume"),
    "Snapshot": (Snapshot, "snapshot"),
    "VMSnapshot": (VMSnapshot, "vm snapshot"),
    "SystemVm": (SystemVm, "system vm"),
    "DomainRouter": (SystemVm, "system vm"),
    "Template": (Template, "template"),
    "RemoteAccessVpn": (RemoteAccessVpn, "remote access VPN"),
    "VmwareDatacenter": (VmwareDatacenter, "VMware datacenter"),
    "SimulatorMock": (SimulatorMock, "simulator setting"),
    "Cluster": (Cluster, "cluster"),  # a vCenter cluster's hosts being discovered
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
    store: Any, routes: Routes, pending: list[UUID], cutoff: datetime, quiet: Quiet = always_quiet
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
        flight = in_flight(store, routes, job)
        if flight is None or quiet(flight.host_id, flight.kind):
            stuck.append(job.id)
    return stuck


def fail_stuck_job(
    store: Any, routes: Routes, job_id: UUID, reason: str, handlers: Handlers
) -> int:
    """Fail the job's request in flight through its result handler, then the job if still
    pending; returns the last position written (0: nothing changed)."""
    job = store.get(Job, job_id, what="job")
    if job.status != JobStatus.PENDING:
        return 0
    position = 0
    flight = in_flight(store, routes, job)
    handler = handlers.get(flight.action) if flight is not None else None
    if flight is not None and handler is not None:
        outcome = handler(store, flight.given_up(reason))
        position = outcome.position if isinstance(outcome, Outcome) else 0
    failed = fail_job(store, job_id, ResourceUnavailable(reason))
    return max(position, failed.position)


def in_flight(store: Any, routes: Routes, job: Job) -> InFlight | None:
    """The request the job waits on, if its resource still waits on it, with the action its
    outbox route sent it as."""
    for target in _waiting_targets(store, job):
        if target.job_id != job.id or not target.request_id:
            continue
        event = request_event(store, target.id, target.request_id)
        action = _sent_as(routes, event) if event is not None else None
        if action is not None:
            return InFlight(event, action, target.request_id, target.id)
    return None


def _sent_as(routes: Routes, event: Any) -> str | None:
    """The action the event asked an adapter for, as its outbox route sends it (a request the
    route turns into a failure at once, for a hypervisor that lacks the action, names it too)."""
    route = routes.get(get_topic(type(event)))
    outgoing = route(event) if route is not None else None
    if outgoing is None:
        return None
    action = orjson.loads(outgoing.payload).get("action")
    return str(action) if action else None


def requests_in_flight(
    store: Any, routes: Routes, pending: list[UUID], downloads: list[tuple[str, str]]
) -> list[Any]:
    """The events that asked for the work the pending jobs and the template downloads in flight
    (template, zone) still wait on, to send again."""
    events = []
    for job_id in pending:
        job = store.get(Job, job_id, what="job")
        flight = in_flight(store, routes, job) if job.executor == "hypervisor" else None
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


def _waiting_targets(store: Any, job: Job) -> Iterator[Any]:
    """The aggregate the job is about, then (for a VM) its ROOT disk, whose move a VM's job may
    wait on instead."""
    known = _TARGETS.get(job.instance_type or "")
    if job.instance_id is None or known is None:
        return
    kind, what = known
    try:
        yield store.get(kind, job.instance_id, what=what)
        if kind is VirtualMachine:
            yield store.get(Volume, root_volume_id(job.instance_id), what="volume")
    except NotFound:
        return
