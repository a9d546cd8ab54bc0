"""A VM's guest NICs after its deploy: addNicToVirtualMachine, removeNicFromVirtualMachine,
updateDefaultNicForVirtualMachine.

A NIC on another network takes its guest address (a claim held by the VM, as a deploy's NICs)
in the save that records it. A stopped VM gains or loses the NIC at once and starts with what
it has; a running VM's host is asked to plug it in or out (`NicPlugRequested`,
`NicUnplugRequested`), the adapter's answer confirms it (`NicHotPlugged`, `NicUnplugged`) or
puts the VM back as it was, giving the address back, and finishes the job in the same save.
Removing a NIC gives back its address and its secondary ones; changing the default NIC is the
VM's record alone, as in 4.3 (the guest takes the new gateway at its next DHCP lease).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.network_claims import ALLOCATION_ATTEMPTS, released
from commands.network_rules import refuse_if_ruled
from commands.networks import Holders, NicRequest, PrepareGuestNics, guest_addresses, guest_nics
from commands.vms import host_access, request_id, vm_result
from domain.job import Job, JobStatus
from domain.network_claims import ClaimKind
from domain.vm import VirtualMachine, VmState
from stratus.messages import ABANDONED, WorkResult


@dataclass(frozen=True)
class AddNic:
    vm_id: UUID
    request: NicRequest  # the network, and the address asked for (else the first free one)
    job_id: UUID | None = None


@dataclass(frozen=True)
class RemoveNic:
    vm_id: UUID
    network_id: UUID
    job_id: UUID | None = None


def _access(store: Any, vm: VirtualMachine) -> Any:
    """The running VM's host; a stopped VM needs none."""
    if vm.state != VmState.RUNNING or vm.host_id is None:
        return None
    return host_access(store, vm.host_id)


def _succeeded(store: Any, job_id: UUID | None, vm: VirtualMachine) -> list[Job]:
    """The job finished at once (no hypervisor work): saved beside the VM."""
    if job_id is None:
        return []
    job: Job = store.get(Job, job_id, what="job")
    if job.status == JobStatus.PENDING:
        job.succeed(vm_result(vm.id))
    return [job]


def add_nic(store: Any, command: AddNic) -> Outcome:
    """Give the VM a NIC on another network of its zone, with a guest address of it."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        asked = PrepareGuestNics(vm.id, vm.account_id, vm.zone_id, [command.request])
        (nic,), changed = guest_nics(store, asked)
        facts = replace(nic, is_default=False).facts()
        if vm.request_nic_plug(facts, request_id(), command.job_id, _access(store, vm)):
            return Outcome(store.last_position(store.save(vm, *changed)), vm.id)
        done = _succeeded(store, command.job_id, vm)
        return Outcome(store.last_position(store.save(vm, *changed, *done)), vm.id)

    outcome: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return outcome


def remove_nic(store: Any, command: RemoveNic) -> Outcome:
    """Take the VM's NIC off a network; refused for its default NIC and while a rule sends
    traffic to one of the NIC's addresses."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        refuse_if_ruled(store, vm, command.network_id, "remove nic from")
        before = guest_addresses(vm)
        if vm.request_nic_unplug(
            command.network_id, request_id(), command.job_id, _access(store, vm)
        ):
            return Outcome(store.last_position(store.save(vm)), vm.id)
        claims = _released(store, command.network_id, before)
        done = _succeeded(store, command.job_id, vm)
        return Outcome(store.last_position(store.save(vm, *claims, *done)), vm.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def change_default_nic(store: Any, vm_id: UUID, network_id: UUID, job_id: UUID | None) -> Outcome:
    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
        vm.change_default_nic(network_id)
        done = _succeeded(store, job_id, vm)
        return Outcome(store.last_position(store.save(vm, *done)), vm.id)

    outcome: Outcome = store.run(attempt)
    return outcome


def _released(store: Any, network_id: UUID, before: Holders) -> list[Any]:
    """The claims of the NIC's addresses on the network, given back."""
    claims = []
    for network, address, holder in before:
        if str(network) == str(network_id):
            claim = released(store, ClaimKind.GUEST_IP, network, address, holder)
            if claim is not None:
                claims.append(claim)
    return claims


# Results ------------------------------------------------------------------------------------

_FAILED = {"plug_nic": "Unable to add a nic to", "unplug_nic": "Unable to remove a nic from"}


def on_nic_result(store: Any, result: WorkResult) -> Outcome:
    """The host's answer to plugging or unplugging: settle the VM, give back the addresses of
    a NIC that is not (or no longer) there, finish the job."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, UUID(result.target_id), what="vm")
        if not vm.is_current(result.request_id) or vm.pending_nic is None:
            return Outcome(0, vm.id)
        action, nic, before = vm.pending, dict(vm.pending_nic), guest_addresses(vm)
        job = store.get(Job, vm.job_id, what="job") if vm.job_id else None
        reason = result.error or "the hypervisor did not answer"
        if result.ok:
            vm.confirm(result.request_id)
        elif result.data.get(ABANDONED):
            vm.abandon(result.request_id, reason)
        else:
            vm.fail(result.request_id, reason)
        network = UUID(str(nic["network_id"]))
        claims: list[Any] = []
        if (action == "plug_nic") != result.ok:  # a NIC that did not come, or that went
            taken = [(network, str(nic["ip_address"]), vm.id)] if not result.ok else before
            claims = _released(store, network, taken)
        if job is not None and job.status == JobStatus.PENDING:
            if result.ok:
                job.succeed(vm_result(vm.id))
            else:
                job.fail(
                    "DomainError", f"{_FAILED[str(action)]} virtual machine {vm.name}: {reason}"
                )
        others = [a for a in (job,) if a is not None]
        return Outcome(store.last_position(store.save(vm, *claims, *others)), vm.id)

    outcome: Outcome = store.run(attempt)
    return outcome


RESULT_HANDLERS = {"plug_nic": on_nic_result, "unplug_nic": on_nic_result}


def nic_routes(box: Any, prefix: str) -> dict[str, Any]:
    """`plug_nic` names the NIC by its MAC, with its network's broadcast URI and its address."""
    from eventsourcing.utils import get_topic

    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, origin, work

    def outgoing(e: Any, action: str) -> Outgoing:
        nic = e.nic
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=action,
            target_id=str(e.originator_id),
            params={
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "mac_address": nic["mac_address"],
                "broadcast_uri": nic.get("broadcast_uri") or "",
                "ip_address": nic["ip_address"],
            },
            sealed_credentials=seal_credentials(box, e.url, e.username, e.password.reveal()),
            **origin(e),
        )
        return work(request, prefix)

    vm: Any = VirtualMachine  # events made by the library's decorator: mypy cannot see them
    return {
        get_topic(vm.NicPlugRequested): lambda e: outgoing(e, "plug_nic"),
        get_topic(vm.NicUnplugRequested): lambda e: outgoing(e, "unplug_nic"),
    }


OUTBOX_ROUTES = nic_routes
