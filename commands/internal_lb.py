"""Commands on a VPC tier's internal load balancers (scheme Internal) and the VM that runs them.

A tier whose offering has Lb by InternalLbVm balances inside the tier: each source address
has a rule set of its own (`domain.network_rules.internal_rule_set_id`) and an internal load
balancer VM (a `SystemVm` of role INTERNAL_LB_VM, keyed by the set as a router is by its
network) running haproxy with that set. The first rule on an address makes and starts the VM
(the change waits in the set until it runs); the rules reach it by the rule-apply path of
every rule set (`apply_network_rules`); when the last rule is deleted nothing is applied, the
VM is destroyed and the address given back, as 4.3 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.network_claims import claim_exact, load_claim, released
from commands.network_rules import APPLY_FAILED, Applying, JobSpec, rule_job
from commands.placement import RESERVATION_ATTEMPTS, Candidate
from commands.routers import current_router, free_router_id, router_compute
from commands.system_vms import (
    CreateSystemVm,
    host_access,
    live_access,
    new_system_vm,
    placed,
    request_id,
)
from domain.errors import InvalidParameter, InvalidState, NotFound, ResourceUnavailable
from domain.internal_lb import InternalBalancers, balancers_id
from domain.job import Job, JobStatus
from domain.network import Network
from domain.network_addressing import address
from domain.network_claims import Claim, ClaimKind
from domain.network_offering import NetworkOffering
from domain.network_rule_checks import Rule
from domain.network_rules import ApplyTarget, NetworkRules, internal_rule_set_id
from domain.system_vm import Role, State, SystemVm
from domain.vm import VirtualMachine
from stratus.messages import WorkResult

# A finished create answers the rule under `loadbalancer`, rendered as an internal one.
RESULT = {"object": "loadbalancer", "kind": "internalloadbalancer"}


@dataclass(frozen=True)
class Appliance:
    """What a new internal load balancer VM runs on: the zone's router template for the
    hypervisor, and the hosts that may take it."""

    hypervisor: str
    template_id: UUID
    candidates: Sequence[Candidate]


@dataclass(frozen=True)
class AddInternalBalancer:
    """A rule balancing `rule.start_port` of `source_ip` (None: a free address of the tier)
    over the tier's VMs on `rule.private_start`; owner and zone come from the tier."""

    network_id: UUID
    source_ip: str | None
    rule: Rule
    job: JobSpec
    appliance: Appliance


def add_internal_balancer(store: Any, command: AddInternalBalancer) -> Applying:
    """Record the rule on its address's set and have the address's VM hold the set (made and
    started when the address has none running)."""

    def attempt() -> Applying:
        network: Network = store.get(Network, command.network_id, what="network")
        check_internal_tier(store, network)
        claim = _source_claim(store, network, command.source_ip)
        rules = _internal_set(store, network, claim.value)
        rule = replace(
            command.rule,
            address=claim.value,
            account_id=network.account_id,
            domain_id=network.domain_id,
            zone_id=network.zone_id,
        )
        keys = (rules.add(rule),)
        job = rule_job(command.job, rule.id)
        result = {**RESULT, "id": str(rule.id)}
        others = deliver(store, rules, job, (keys, ()), result, command.appliance)
        index = _index(store, network.id)
        index.open(claim.value)
        indexed = [index] if index.pending_events else []
        recordings = store.save(rules, job, claim, *indexed, *others)
        return Applying(store.last_position(recordings), rule.id, job.id)

    outcome: Applying = store.run(attempt, attempts=RESERVATION_ATTEMPTS)
    return outcome


def check_internal_tier(store: Any, network: Network) -> None:
    """A live VPC tier whose offering balances by InternalLbVm (4.3's refusals)."""
    if network.removed:
        raise InvalidState(f"Network {network.name} has been deleted")
    offering: NetworkOffering = store.get(
        NetworkOffering, network.offering_id, what="network offering"
    )
    if network.vpc_id is None or not offering.internal_lb:
        raise InvalidParameter(
            f"Scheme Internal is not supported by the network offering {offering.name} of "
            f"network {network.name}: its Lb service is not provided by InternalLbVm"
        )


def _source_claim(store: Any, network: Network, wanted: str | None) -> Claim:
    """The source address, held for its set: the one asked for (in the tier's range, not a
    VM's) or the first free one of the tier, as 4.3 allocates one for each such rule."""
    pool = network.addressing.pool()
    gateway = network.addressing.gateway
    if wanted:
        wanted = wanted.strip()
        if address(wanted, "sourceipaddress") not in pool or wanted == gateway:
            raise InvalidParameter(
                f"The source ip address {wanted} is not in the range of network {network.name}"
            )
        holder = internal_rule_set_id(network.id, wanted)
        return claim_exact(store, ClaimKind.GUEST_IP, network.id, wanted, holder, "ip address")
    for candidate in pool.probe(0):
        value = str(candidate)
        if value == gateway:
            continue
        found = load_claim(store, ClaimKind.GUEST_IP, network.id, value)
        holder = internal_rule_set_id(network.id, value)
        if found is None:
            return Claim(ClaimKind.GUEST_IP, network.id, value, holder)
        if found.free:
            found.take(holder)
            return found
    raise ResourceUnavailable(f"No free ip address is left in network {network.name}")


def _index(store: Any, network_id: UUID) -> InternalBalancers:
    try:
        found: InternalBalancers = store.repository.get(balancers_id(network_id))
    except AggregateNotFoundError:
        return InternalBalancers(network_id)
    return found


def _internal_set(store: Any, network: Network, source_ip: str) -> NetworkRules:
    try:
        found: NetworkRules = store.repository.get(internal_rule_set_id(network.id, source_ip))
    except AggregateNotFoundError:
        return NetworkRules(
            network.id, network.zone_id, network.account_id, network.domain_id, source_ip
        )
    return found


# Delivering a change to the address's VM ------------------------------------------------------


def deliver(
    store: Any,
    rules: NetworkRules,
    job: Job,
    changes: tuple[tuple[str, ...], tuple[str, ...]],
    result: dict[str, Any],
    appliance: Appliance | None = None,
) -> list[Any]:
    """Have the set's VM hold the set after a change; returns what else to save. A running
    VM is asked now; a starting one gets it when it runs; with no rule left nothing is asked
    (the change settles, the VM goes, the address is given back); a VM that is not there or
    stopped is made and started when `appliance` says how, else the change is refused (534)."""
    vm = current_router(store, rules.id)
    if not rules.has_live_rules:
        pending = rules.settle_at_once(request_id(), job.id, changes)
        if pending is not None:
            job.succeed(pending.result)
        return retired(store, rules, vm)
    if vm is not None and vm.state == State.RUNNING and vm.host_id is not None:
        rules.request_apply(request_id(), job.id, _target(store, vm), changes, result)
        return []
    if vm is not None and vm.state == State.STARTING:
        rules.defer_apply(request_id(), job.id, changes, result)
        return []
    if appliance is None:
        raise ResourceUnavailable(
            f"The internal load balancer VM of {rules.internal_address} is not running: start "
            "it (startInternalLoadBalancerVM) before changing its rules"
        )
    if vm is None:
        vm = _new_vm(store, rules, appliance)
    rules.defer_apply(request_id(), job.id, changes, result)
    return [vm, *placed(store, vm, appliance.candidates, None, refuse=True)]


def _target(store: Any, vm: SystemVm) -> ApplyTarget:
    if vm.host_id is None:
        raise InvalidState(f"The internal load balancer VM {vm.name} is not on a host")
    return ApplyTarget(vm.id, vm.instance_name, host_access(store, vm.host_id)[0])


def _new_vm(store: Any, rules: NetworkRules, appliance: Appliance) -> SystemVm:
    """The address's VM: the router's system offering and template, on the tier with the
    source address as its own."""
    compute = router_compute(store, appliance.template_id, appliance.hypervisor)
    tier: Network = store.get(Network, rules.network_id, what="network")
    vm_id = free_router_id(store, rules.id)
    return new_system_vm(
        CreateSystemVm(
            vm_id,
            Role.INTERNAL_LB,
            f"b-{vm_id.hex[:12]}-VM",
            rules.zone_id,
            rules.account_id,
            rules.domain_id,
            compute,
            network_ids=(rules.network_id,),
            vpc_id=tier.vpc_id,
            services=("ssh", "haproxy"),
            guest_ip=rules.internal_address,
        )
    )


def retired(store: Any, rules: NetworkRules, vm: SystemVm | None) -> list[Any]:
    """No rule is left on the address: its VM is destroyed and the address given back."""
    others: list[Any] = []
    if vm is not None and vm.state != State.DESTROYED:
        vm.destroy(request_id(), None, live_access(store, vm.host_id))
        others.append(vm)
    claim = released(store, ClaimKind.GUEST_IP, rules.network_id, rules.internal_address, rules.id)
    return [*others, *([claim] if claim is not None else [])]


def internal_addresses(store: Any, network_id: UUID) -> list[str]:
    """The tier's source addresses that have internal load balancers."""
    return sorted(_index(store, network_id).addresses)


def drop_with_network(store: Any, network_id: UUID, source_ip: str) -> None:
    """A deleted tier's internal load balancers on `source_ip` go with it, and their VM."""

    def attempt() -> None:
        try:
            rules: NetworkRules = store.repository.get(internal_rule_set_id(network_id, source_ip))
        except AggregateNotFoundError:
            return
        rules.drop_all("the network was deleted")
        store.save(rules, *retired(store, rules, current_router(store, rules.id)))

    store.run(attempt)


def follow_vm_members(store: Any, vm: VirtualMachine) -> list[Any]:
    """An expunged VM leaves the internal load balancers of its tiers (saved beside it); a
    running VM of an address is asked to hold the new set, with no job waiting."""
    changed: list[Any] = []
    for nic in getattr(vm, "nics", ()):
        network_id = UUID(str(nic["network_id"]))
        for source in internal_addresses(store, network_id):
            rules: NetworkRules = store.get(
                NetworkRules, internal_rule_set_id(network_id, source), what="network rules"
            )
            rules.drop_vm(vm.id, "the virtual machine was expunged")
            if not rules.pending_events:
                continue
            balancer = current_router(store, rules.id)
            if balancer is not None and balancer.state == State.RUNNING and balancer.host_id:
                rules.request_apply(request_id(), None, _target(store, balancer), ((), ()), {})
            changed.append(rules)
    return changed


# The VM's boot --------------------------------------------------------------------------------


def after_boot(store: Any, result: WorkResult) -> None:
    """An internal load balancer VM that started holds its set (the changes waiting for it,
    or the whole set again after a restart); one that could not start fails the waiting
    changes, and with no rule left it goes."""
    try:
        vm: SystemVm = store.get(SystemVm, UUID(result.target_id), what="system vm")
    except NotFound:
        return
    if vm.role != Role.INTERNAL_LB or not vm.network_ids or vm.pending is not None:
        return

    def attempt() -> None:
        fresh: SystemVm = store.get(SystemVm, vm.id, what="system vm")
        set_id = internal_rule_set_id(fresh.network_ids[0], fresh.guest_ip)
        try:
            rules: NetworkRules = store.repository.get(set_id)
        except AggregateNotFoundError:
            return
        if fresh.state == State.RUNNING and fresh.host_id is not None:
            target = _target(store, fresh)
            if rules.waiting:
                rules.send_waiting(target)
            elif rules.applied_set():
                rules.request_apply(request_id(), None, target, ((), ()), {})
            store.save(rules)
            return
        jobs = _fail_waiting(store, rules, result.error or "the VM did not start")
        others = [] if rules.has_live_rules else retired(store, rules, fresh)
        store.save(rules, *jobs, *others)

    store.run(attempt)


def _fail_waiting(store: Any, rules: NetworkRules, reason: str) -> list[Job]:
    jobs = []
    for waiting in sorted(rules.waiting):
        pending = rules.apply_failed(waiting, reason)
        if pending is None or pending.job_id is None:
            continue
        job: Job = store.get(Job, pending.job_id, what="job")
        if job.status == JobStatus.PENDING:
            job.fail("ResourceUnavailable", f"{APPLY_FAILED}: {reason}")
            jobs.append(job)
    return jobs


# Work that follows another family's result, in its own save (commands/results.py).
FOLLOW_UPS = {"start_system_vm": after_boot}
