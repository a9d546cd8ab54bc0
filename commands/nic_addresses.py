"""Secondary addresses of a VM's NICs (addIpToNic, removeIpFromNic).

An address is a guest IP of the NIC's network, claimed (`domain/network_claims.py`) for the
secondary address's own id, so it is never the VM's primary address nor another secondary one,
and saved with the VM's `SecondaryIpAdded` in one commit. It reaches the router through the
rules that name it (port forwarding and static NAT with `vmguestip`); removing one that a rule
still sends to is refused, as 4.3 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome
from commands.network_claims import ALLOCATION_ATTEMPTS, released
from commands.network_rules import rules_of
from commands.networks import claim_guest_ip, claim_guest_ipv6
from domain.errors import InvalidParameter
from domain.network import Network
from domain.network_claims import Claim, ClaimKind
from domain.network_rule_checks import RuleKind
from domain.vm import VirtualMachine


@dataclass(frozen=True)
class AddIpToNic:
    vm_id: UUID
    network_id: UUID
    ip_id: UUID
    ip_address: str | None = None  # the address asked for; else the first free one
    preferred: Sequence[str] = ()  # addresses the caller read as free
    ipv6: bool = False  # an IPv6 address (asked for, or the network has no IPv4 range)


@dataclass(frozen=True)
class RemoveIpFromNic:
    vm_id: UUID
    ip_id: UUID


def add_ip_to_nic(store: Any, command: AddIpToNic) -> Outcome:
    """Claim a guest address of the NIC's network and record it on the VM, in one save."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        network: Network = store.get(Network, command.network_id, what="network")
        network.check_usable_by(vm.account_id)
        claim = _claimed(store, network, command)
        vm.add_secondary_ip(command.ip_id, network.id, claim.value)
        return Outcome(store.last_position(store.save(vm, claim)), command.ip_id)

    outcome: Outcome = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return outcome


def _claimed(store: Any, network: Network, command: AddIpToNic) -> Claim:
    """The address, through the guest-IP claims of the network (IPv4 and IPv6 alike), so no
    two NICs are ever given one address."""
    if not command.ipv6:
        return claim_guest_ip(store, network, command.ip_address, command.preferred, command.ip_id)
    plan = network.ipv6_pool
    if plan is None:
        raise InvalidParameter(f"Network {network.name} has no IPv6 address range")
    return claim_guest_ipv6(store, network, plan, command.ip_address, command.ip_id)


def remove_ip_from_nic(store: Any, command: RemoveIpFromNic) -> Outcome:
    """Give a secondary address back; refused while a rule sends traffic to it."""

    def attempt() -> Outcome:
        vm: VirtualMachine = store.get(VirtualMachine, command.vm_id, what="virtual machine")
        found = vm.remove_secondary_ip(command.ip_id)
        _refuse_if_ruled(store, vm.id, found["network_id"], found["ip_address"])
        claim = released(
            store, ClaimKind.GUEST_IP, found["network_id"], found["ip_address"], command.ip_id
        )
        others = [claim] if claim is not None else []
        return Outcome(store.last_position(store.save(vm, *others)), command.ip_id)

    outcome: Outcome = store.run(attempt)
    return outcome


_RULE_NAMES = {
    RuleKind.STATIC_NAT: "static nat",
    RuleKind.PORT_FORWARDING: "port forwarding",
    RuleKind.IP_FORWARDING: "ip forwarding",
    RuleKind.LOAD_BALANCING: "load balancing",
}


def _refuse_if_ruled(store: Any, vm_id: UUID, network_id: UUID, ip_address: str) -> None:
    rules = rules_of(store, network_id)
    if rules is None:
        return
    for rule in rules.rules.values():
        if rule.network_id not in (None, network_id):  # another tier of the VPC
            continue
        members = {(m.vm_id, m.vm_ip) for m in rule.members}
        if (rule.vm_id, rule.vm_ip) == (vm_id, ip_address) or (vm_id, ip_address) in members:
            raise InvalidParameter(
                f"Can't remove the secondary ip {ip_address}: it has {_RULE_NAMES[rule.kind]} "
                f"rule {rule.id} on public ip address {rule.address}"
            )
