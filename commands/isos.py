"""Attaching an ISO to a VM's CD drive and detaching it, through the adapter of the VM's host.

The VM records the request (`IsoAttachRequested`, `IsoDetachRequested`) with its host's access;
the relay sends `attach_iso` / `detach_iso` to that host's adapter, and the result, handled as
every other VM result (`commands.vms.on_vm_result`), confirms it (`IsoAttached`,
`IsoDetached`) or puts the VM back as it was, and finishes the job in the same save. A VM that
has never had a host has no drive to put an ISO in yet: it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.vms import host_access, request_id
from domain.errors import InvalidParameter
from domain.template import Template
from domain.vm import VirtualMachine

ACTIONS = {"attach_iso": "attach_iso", "detach_iso": "detach_iso"}


@dataclass(frozen=True)
class AttachIso:
    vm_id: UUID
    iso_id: UUID
    job_id: UUID | None = None


def _host_of(store: Any, vm: VirtualMachine) -> Any:
    host_id = vm.placed_host
    if host_id is None:
        raise InvalidParameter(
            f"Virtual machine {vm.name} has never run on a host: start it before attaching an ISO"
        )
    return host_access(store, host_id)


def attach_iso(store: Any, command: AttachIso) -> Outcome:
    """Ask the VM's host to put the ISO, ready in the VM's zone, in its CD drive."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        iso = store.get(Template, command.iso_id, what="ISO")
        facts = iso.drive_facts(vm.zone_id)
        vm.request_iso_attach(facts, request_id(), command.job_id, _host_of(store, vm))
        return Outcome(store.last_position(store.save(vm)), vm.id)

    result: Outcome = store.run(attempt)
    return result


def detach_iso(store: Any, vm_id: UUID, job_id: UUID | None) -> Outcome:
    """Ask the VM's host to empty its CD drive."""

    def attempt() -> Outcome:
        vm = store.get(VirtualMachine, vm_id, what="virtual machine")
        if vm.iso_in_drive is None:
            raise InvalidParameter(f"No ISO is attached to virtual machine {vm.name}")
        vm.request_iso_detach(request_id(), job_id, _host_of(store, vm))
        return Outcome(store.last_position(store.save(vm)), vm.id)

    result: Outcome = store.run(attempt)
    return result


def iso_routes(box: Any, prefix: str) -> dict[str, Any]:
    """`attach_iso` names the ISO (id, URL and zone: where the host's image store keeps it)."""
    from eventsourcing.utils import get_topic

    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, origin, work

    def outgoing(e: Any, action: str, params: dict[str, Any]) -> Outgoing:
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={"host_id": str(e.host_id), "name": e.instance_name, **params},
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    def attach(e: Any) -> Outgoing:
        iso = e.iso
        wanted = {"iso_id": iso["id"], "iso_url": iso["url"], "zone_id": iso["zone_id"]}
        return outgoing(e, "attach_iso", wanted)

    vm: Any = VirtualMachine  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(vm.IsoAttachRequested): attach,
        get_topic(vm.IsoDetachRequested): lambda e: outgoing(e, "detach_iso", {}),
    }


OUTBOX_ROUTES = iso_routes
