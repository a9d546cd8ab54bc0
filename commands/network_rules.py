"""Commands on the rules of public addresses (port forwarding, firewall, load balancing, static
NAT and its IP forwarding rules), on a network's egress firewall rules, and the handler of the
router's answers.

A change loads the address, the network's rule set (domain/network_rules.py) and, for rules
that send traffic to VMs, the VMs; checks them; records the change with a request to apply the
network's whole set on its running router and the job that waits for it, in one save. The
address is saved too (its count of rules), so releasing it cannot slip past a new rule. The
router's answer settles the rules, finishes the job and updates the addresses' counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.autoscale import check_rule_without_group
from commands.balancer_limits import balancer_limits
from commands.gslb import forget_balancer
from commands.network_devices import device_target, device_targets, router_kinds
from commands.routers import current_router
from commands.system_vms import host_access, request_id
from domain.errors import (
    InvalidParameter,
    InvalidState,
    NotFound,
    PermissionDenied,
    ResourceUnavailable,
)
from domain.job import Job, JobStatus
from domain.network import Network
from domain.network_offering import NetworkOffering
from domain.network_public_ip import PublicIp
from domain.network_rule_checks import Member, Rule, RuleKind, StickinessPolicy
from domain.network_rules import (
    ApplyTarget,
    Certificate,
    MemberTarget,
    NetworkRules,
    internal_rule_set_id,
    rule_set_id,
)
from domain.ssl_cert import SslCert
from domain.system_vm import Role, State, SystemVm
from domain.vm import HostAccess, VirtualMachine, VmState
from stratus.messages import WorkResult

APPLY_FAILED = "Failed to apply network rules on the virtual router"
DEVICE_APPLY_FAILED = "Failed to apply network rules on the network device"


@dataclass(frozen=True)
class JobSpec:
    """The job a rule change runs as (CloudStack's command class, who, what it says)."""

    command: str
    account_id: UUID
    user_id: UUID
    instance_type: str
    event_type: str
    description: str


@dataclass(frozen=True)
class Applying:
    """What a change leaves: the log position, the rule it is about, the job applying it."""

    position: int
    rule_id: UUID
    job_id: UUID


@dataclass(frozen=True)
class AddRule:
    """A new rule on `rule.public_ip_id`; owner, zone and address are taken from the address.
    `vm_id`: the VM of a port forwarding or static NAT rule (`vm_guest_ip`: which of its NIC's
    addresses; its own by default). `open_firewall`: CIDRs a firewall
    rule opened for the public ports of a port forwarding rule admits (None: no such rule)."""

    rule: Rule
    job: JobSpec
    vm_id: UUID | None = None
    open_firewall: tuple[str, ...] | None = None
    vm_guest_ip: str | None = None  # a secondary address of the VM's NIC to send to
    network_id: UUID | None = None  # static NAT: the VM's network (a portable address moves)


@dataclass(frozen=True)
class AddEgressRule:
    """A new egress firewall rule of `network_id` (the rule names no address)."""

    network_id: UUID
    rule: Rule
    job: JobSpec


@dataclass(frozen=True)
class RevokeRule:
    network_id: UUID
    rule_id: UUID
    kind: str
    job: JobSpec
    source_ip: str = ""  # an internal load balancer's address (its own set)
    gslb_ids: tuple[UUID, ...] = ()  # global load balancer rules a load balancer is behind


@dataclass(frozen=True)
class ChangeForwarding:
    """A port forwarding rule sent to another private port or VM (None: unchanged)."""

    network_id: UUID
    rule_id: UUID
    private_start: int | None
    vm_id: UUID | None
    private_ip: str | None  # when given, the VM's address on the network or a secondary one
    job: JobSpec


@dataclass(frozen=True)
class ChangeMembers:
    """VMs put behind (`assign`) or taken from a load balancer rule: by their address on the
    network (`vm_ids`), or by one named address each, their own or a secondary one
    (`vm_ips`, 4.3's `vmidipmap`)."""

    network_id: UUID
    rule_id: UUID
    vm_ids: tuple[UUID, ...]
    assign: bool
    job: JobSpec
    source_ip: str = ""  # an internal load balancer's address (its own set)
    vm_ips: tuple[tuple[UUID, str], ...] = ()


@dataclass(frozen=True)
class ChangeBalancer:
    """A load balancer renamed, described or given another algorithm (None: unchanged)."""

    network_id: UUID
    rule_id: UUID
    name: str | None
    description: str | None
    algorithm: str | None
    job: JobSpec


@dataclass(frozen=True)
class AddStickiness:
    network_id: UUID
    rule_id: UUID
    policy: StickinessPolicy
    job: JobSpec


@dataclass(frozen=True)
class RemoveStickiness:
    network_id: UUID
    policy_id: UUID
    job: JobSpec


@dataclass(frozen=True)
class BindCert:
    """A certificate bound to (`cert_id`) or taken from (None) an ssl load balancer."""

    network_id: UUID
    rule_id: UUID
    cert_id: UUID | None
    job: JobSpec


# Loading and checking -----------------------------------------------------------------------


def rule_job(spec: JobSpec, instance_id: UUID) -> Job:
    return Job(
        spec.command,
        spec.account_id,
        spec.user_id,
        spec.instance_type,
        instance_id,
        spec.event_type,
        spec.description,
        "hypervisor",
    )


def _address(
    store: Any, public_ip_id: UUID, moving_to: UUID | None = None, *, may_move: bool = True
) -> tuple[PublicIp, Network]:
    """An allocated address of a live isolated network; a portable one is first moved to
    `moving_to` when that is another network (4.3 moves it for static NAT), and a VPC's is
    placed on the tier `moving_to` names when it serves none yet."""
    public: PublicIp = store.get(PublicIp, public_ip_id, what="public ip address")
    if may_move and moving_to is not None and public.allocated and _moves(public, moving_to, store):
        _transfer(store, public, moving_to)
    if public.allocated and public.in_vpc is not None:
        return _vpc_address(store, public, moving_to)
    if not public.allocated:
        raise InvalidParameter(f"Ip address {public.address} is not allocated")
    if public.network_id is None:
        raise InvalidParameter(
            f"Ip address {public.address} is not associated with any network; associate it "
            "with a network first"
        )
    network: Network = store.get(Network, public.network_id, what="network")
    if network.removed:
        raise InvalidState(f"Network {network.name} has been deleted")
    return public, network


def _moves(public: PublicIp, moving_to: UUID, store: Any) -> bool:
    """Whether the address is asked to move to `moving_to`: another network, for an
    address of an isolated network (only a portable one may); another VPC's tier or a network
    outside its VPC, for a portable address of a VPC (a VPC's other addresses serve its tiers)."""
    if public.in_vpc is None:
        return public.network_id != moving_to
    if public.portable_region is None:
        return False
    target: Network = store.get(Network, moving_to, what="network")
    return target.vpc_id != public.in_vpc


def _transfer(store: Any, public: PublicIp, moving_to: UUID) -> None:
    """Move a portable address to a network (or VPC tier) of its account, in any zone of its
    region, as 4.3 does for static NAT; it joins or leaves VPCs as the network does."""
    target: Network = store.get(Network, moving_to, what="network")
    if target.removed:
        raise InvalidState(f"Network {target.name} has been deleted")
    if target.account_id != public.account_id:
        raise PermissionDenied(
            f"Network {target.name} and ip address {public.address} belong to different accounts"
        )
    public.transfer(target.zone_id, target.id)
    if target.vpc_id is None:
        public.leave_vpc()
    elif target.vpc_id != public.in_vpc:
        public.join_vpc(target.vpc_id)


def _vpc_address(store: Any, public: PublicIp, tier_id: UUID | None) -> tuple[PublicIp, Network]:
    """A VPC's address and the tier it serves: the one it serves already, or `tier_id`, a
    live tier of its VPC, when it serves none (4.3: the first rule associates it)."""
    wanted = tier_id or public.network_id
    if wanted is None:
        raise InvalidParameter(
            f"Ip address {public.address} belongs to a VPC and serves no tier yet: name the "
            "tier with networkid"
        )
    tier: Network = store.get(Network, wanted, what="network")
    if tier.removed:
        raise InvalidState(f"Network {tier.name} has been deleted")
    if tier.vpc_id != public.in_vpc:
        raise InvalidParameter(
            f"Network {tier.name} is not a tier of the VPC of ip address {public.address}"
        )
    public.serve_tier(tier.id)
    return public, tier


def set_owner(network: Network) -> UUID:
    """Whose rule set a network's rules are in: its own, or its VPC's (one router)."""
    return network.vpc_id or network.id


def rules_of(store: Any, network_id: UUID) -> NetworkRules | None:
    """The rule set holding the rules of a network (its VPC's, for a tier), if any."""
    try:
        network: Network = store.repository.get(network_id)
        found: NetworkRules = store.repository.get(rule_set_id(set_owner(network)))
    except AggregateNotFoundError:
        return None
    return found


def refuse_if_ruled(store: Any, vm: VirtualMachine, network_id: UUID, what: str) -> None:
    """4.3 refuses to take a VM's NIC off a network (removing it, or moving the VM to another
    account) while port forwarding, load balancing or static NAT rules send traffic to it."""
    rules = rules_of(store, network_id)
    if rules is None:
        return
    for rule in rules.rules.values():
        if rule.network_id not in (None, network_id):  # another tier of the VPC
            continue
        if rule.vm_id == vm.id or any(m.vm_id == vm.id for m in rule.members):
            raise InvalidParameter(
                f"Unable to {what} virtual machine {vm.name} in network {network_id}: "
                "the nic has port forwarding, load balancing or static nat rules"
            )


def _rule_set(store: Any, network: Network) -> NetworkRules:
    found = rules_of(store, network.id)
    if found is None:
        owner = set_owner(network)
        return NetworkRules(owner, network.zone_id, network.account_id, network.domain_id)
    return found


def _existing_set(store: Any, network: Network) -> NetworkRules:
    found: NetworkRules = store.get(
        NetworkRules, rule_set_id(set_owner(network)), what="network rules"
    )
    return found


def _target(store: Any, network_id: UUID, kind: str | None = None) -> ApplyTarget:
    """What applies the network's rules of `kind`: the external device its offering names
    for that kind's service, else the running router of the network (of its VPC, for a
    tier); rules cannot be applied without one."""
    network: Network = store.get(Network, network_id, what="network")
    if kind is not None:
        device = device_target(store, network, kind)
        if device is not None:
            return device
    router = current_router(store, set_owner(network))
    if router is None or router.state != State.RUNNING or router.host_id is None:
        raise ResourceUnavailable(
            "The virtual router of the network is not running: start a virtual machine in the "
            "network (or restart the network) before changing its rules"
        )
    access = host_access(store, router.host_id)[0]
    return _router_target(store, router, access, router_kinds(store, network), network)


def _router_target(
    store: Any,
    router: SystemVm,
    access: HostAccess,
    kinds: tuple[str, ...],
    network: Network | None,
) -> ApplyTarget:
    """A router's target; a network's own router (not a VPC's) balances with the limits of
    the network's offering."""
    balancer = None if network is None or network.vpc_id else balancer_limits(store, network)
    return ApplyTarget(router.id, router.instance_name, access, kinds, balancer=balancer)


def _kind_of(rules: NetworkRules, changes: tuple[tuple[str, ...], tuple[str, ...]]) -> str | None:
    """The kind of rule a change is about (its first key's)."""
    for key in (*changes[0], *changes[1]):
        rule = rules.rules.get(UUID(key.partition("/")[0]))
        if rule is not None:
            return str(rule.kind)
    return None


@dataclass(frozen=True)
class Destination:
    """Where a rule sends traffic: a network, the account whose VMs may receive it, and the
    address the rule is on (as refusals name it)."""

    network_id: UUID | None
    account_id: UUID | None
    what: str


def guest_address(store: Any, vm_id: UUID, public: PublicIp, wanted: str | None = None) -> str:
    """The VM's address on the network of `public` (see `nic_address`)."""
    return nic_address(store, vm_id, _public_destination(public), wanted)


def _public_destination(public: PublicIp) -> Destination:
    return Destination(public.network_id, public.account_id, f"ip address {public.address}")


def nic_address(store: Any, vm_id: UUID, place: Destination, wanted: str | None = None) -> str:
    """The VM's address on the network of `place` (`wanted`, when given, is that address or
    one of the NIC's secondary ones), refused unless the VM lives, has a NIC on that network
    and belongs to the account."""
    vm: VirtualMachine = store.get(VirtualMachine, vm_id, what="virtual machine")
    if vm.removed or vm.state in (VmState.DESTROYED, VmState.EXPUNGING):
        raise InvalidParameter(f"Invalid virtual machine id {vm_id}: it is destroyed")
    if vm.account_id != place.account_id:
        raise PermissionDenied(
            f"Virtual machine {vm.name} and {place.what} belong to different accounts"
        )
    nic = vm.nic_on(place.network_id) if place.network_id else None
    if nic is None:
        raise InvalidParameter(
            f"Virtual machine {vm.name} doesn't belong to the network associated with {place.what}"
        )
    if not wanted or wanted == nic["ip_address"]:
        return str(nic["ip_address"])
    for secondary in vm.secondary_ips.values():
        if secondary["network_id"] == place.network_id and secondary["ip_address"] == wanted:
            return wanted
    raise InvalidParameter(
        f"Vm ip {wanted} is neither the address nor a secondary address of virtual machine "
        f"{vm.name}'s nic on the network"
    )


def _counted(store: Any, rules: NetworkRules, addresses: Sequence[UUID], *more: Any) -> list[Any]:
    """The addresses whose count of rules changed, recounted (loaded unless given)."""
    given = {a.id: a for a in more if isinstance(a, PublicIp)}
    changed = []
    for public_id in dict.fromkeys(addresses):
        public = given.get(public_id) or store.get(PublicIp, public_id, what="public ip address")
        count = rules.count_on(public_id)
        if public.allocated and public.rule_count != count:
            public.rules_changed(count)
            changed.append(public)
        if public.allocated and not count and public.in_vpc and public.network_id:
            public.serve_tier(None)  # back to its VPC, as 4.3 unassigns it from the tier
            if public not in changed:
                changed.append(public)
    return changed


@dataclass(frozen=True)
class Abandoned:
    """What giving up unanswered requests touched: addresses to recount, certificates whose
    binding ended (to save with the set)."""

    addresses: list[UUID]
    certs: list[Any]


def _give_up_abandoned(store: Any, rules: NetworkRules) -> Abandoned:
    """Requests whose job ended unanswered (the stuck-job sweeper failed it) fail as if the
    router had said so, so their rules do not wait for ever."""
    touched: list[UUID] = []
    before = rules.bindings()
    for request, pending in list(rules.pending.items()):
        if pending.job_id is None:
            continue
        job = store.get(Job, pending.job_id, what="job")
        if job.status != JobStatus.PENDING:
            touched += _addresses_of(rules, (*pending.adds, *pending.revokes))
            rules.apply_failed(request, "the router did not answer before the job ended")
    return Abandoned(touched, released_certs(store, before, rules))


def _saved(store: Any, rules: NetworkRules, job: Job, rule_id: UUID, *others: Any) -> Applying:
    recordings = store.save(rules, job, *others)
    return Applying(store.last_position(recordings), rule_id, job.id)


# Changes ------------------------------------------------------------------------------------


def add_rule(store: Any, command: AddRule) -> Applying:
    """Record a rule (and the firewall rule it opens) and ask the router to apply the set."""

    public_ip_id = command.rule.public_ip_id
    if public_ip_id is None:
        raise InvalidParameter("A rule on a public address needs the address")

    def attempt() -> Applying:
        public, network = _address(
            store,
            public_ip_id,
            command.network_id,
            may_move=command.rule.kind == RuleKind.STATIC_NAT,  # 4.3 moves only for static NAT
        )
        rule = replace(
            command.rule,
            address=public.address,
            account_id=network.account_id,
            domain_id=network.domain_id,
            zone_id=network.zone_id,
            network_id=network.id if network.vpc_id else None,
        )
        if command.vm_id is not None:
            rule = replace(
                rule,
                vm_id=command.vm_id,
                vm_ip=guest_address(store, command.vm_id, public, command.vm_guest_ip),
            )
        if rule.kind == RuleKind.STATIC_NAT and public.source_nat:
            raise InvalidParameter(
                f"Can't enable static nat for ip address {public.address}: it is the source "
                "nat ip address of its network"
            )
        rules = _rule_set(store, network)
        abandoned = _give_up_abandoned(store, rules)
        keys = [rules.add(rule)]
        if command.open_firewall is not None:
            keys.append(rules.add(_opened_firewall(rule, command.open_firewall)))
        job = rule_job(command.job, rule.id)
        result = {"object": _RESULT_OBJECTS[rule.kind], "id": str(rule.id)}
        target = _target(store, network.id, rule.kind)
        rules.request_apply(request_id(), job.id, target, (tuple(keys), ()), result)
        if command.open_firewall is not None:  # the firewall rule it opens, where it is held
            opener = _target(store, network.id, RuleKind.FIREWALL)
            if opener.router_id != target.router_id:
                rules.request_apply(request_id(), None, opener, ((), ()), {})
        counted = _counted(store, rules, [public.id, *abandoned.addresses], public)
        if public.pending_events and public not in counted:  # moved, count unchanged
            counted.append(public)
        return _saved(store, rules, job, rule.id, *counted, *abandoned.certs)

    outcome: Applying = store.run(attempt)
    return outcome


def add_egress_rule(store: Any, command: AddEgressRule) -> Applying:
    """Record an egress rule of an isolated network with its offering's egress policy, and ask
    the router to apply the set."""

    def attempt() -> Applying:
        network: Network = store.get(Network, command.network_id, what="network")
        if network.removed:
            raise InvalidState(f"Network {network.name} has been deleted")
        offering: NetworkOffering = store.get(
            NetworkOffering, network.offering_id, what="network offering"
        )
        rule = replace(
            command.rule,
            account_id=network.account_id,
            domain_id=network.domain_id,
            zone_id=network.zone_id,
        )
        rules = _rule_set(store, network)
        abandoned = _give_up_abandoned(store, rules)
        rules.choose_egress_policy(offering.egress_allow)
        keys = (rules.add(rule),)
        job = rule_job(command.job, rule.id)
        result = {"object": _RESULT_OBJECTS[rule.kind], "id": str(rule.id)}
        target = _target(store, network.id, RuleKind.EGRESS)
        rules.request_apply(request_id(), job.id, target, (keys, ()), result)
        counted = _counted(store, rules, abandoned.addresses)
        return _saved(store, rules, job, rule.id, *counted, *abandoned.certs)

    outcome: Applying = store.run(attempt)
    return outcome


# The firewall protocol of a load balancer's protocol: its proxy and ssl modes are tcp.
_FIREWALL_PROTOCOL = {"tcp-proxy": "tcp", "ssl": "tcp"}


def _opened_firewall(rule: Rule, cidrs: tuple[str, ...]) -> Rule:
    """The firewall rule that opens `rule`'s public ports to `cidrs`, going with it."""
    return Rule(
        id=uuid.uuid4(),
        kind=RuleKind.FIREWALL,
        public_ip_id=rule.public_ip_id,
        address=rule.address,
        account_id=rule.account_id,
        domain_id=rule.domain_id,
        zone_id=rule.zone_id,
        protocol=_FIREWALL_PROTOCOL.get(rule.protocol, rule.protocol),
        start_port=rule.start_port,
        end_port=rule.end_port,
        cidrs=cidrs,
        icmp_type=-1,
        icmp_code=-1,
        related=rule.id,
    )


_RESULT_OBJECTS = {
    RuleKind.PORT_FORWARDING: "portforwardingrule",
    RuleKind.FIREWALL: "firewallrule",
    RuleKind.LOAD_BALANCING: "loadbalancer",
    RuleKind.STATIC_NAT: "staticnat",
    RuleKind.IP_FORWARDING: "ipforwardingrule",
    RuleKind.EGRESS: "firewallrule",
}


def revoke_rule(store: Any, command: RevokeRule) -> Applying:
    """Mark the rule (and firewall rules opened for it) Revoke; the router's answer removes it."""

    def attempt() -> Applying:
        if command.kind == RuleKind.LOAD_BALANCING:
            check_rule_without_group(store, command.rule_id)
        network = store.get(Network, command.network_id, what="network")
        rules = _set_of(store, network, command.source_ip)
        abandoned = _give_up_abandoned(store, rules)
        keys = rules.revoke(command.rule_id, command.kind)
        job = rule_job(command.job, command.rule_id)
        delivered = _deliver(store, rules, network, job, ((), tuple(keys)), {"success": True})
        return _saved(
            store,
            rules,
            job,
            command.rule_id,
            *delivered,
            *forget_balancer(store, command.rule_id, command.gslb_ids),
            *_counted(store, rules, abandoned.addresses),
            *abandoned.certs,
        )

    outcome: Applying = store.run(attempt)
    return outcome


def change_forwarding(store: Any, command: ChangeForwarding) -> Applying:
    """Change where a port forwarding rule sends traffic; the router applies the set."""

    def attempt() -> Applying:
        network = store.get(Network, command.network_id, what="network")
        rules = _existing_set(store, network)
        abandoned = _give_up_abandoned(store, rules)
        rule = rules.rule(command.rule_id, RuleKind.PORT_FORWARDING)
        public = store.get(PublicIp, rule.public_ip_id, what="public ip address")
        vm_id = command.vm_id or rule.vm_id
        if vm_id is None:
            raise InvalidState(f"The port forwarding rule {rule.id} sends to no virtual machine")
        kept = rule.vm_ip if vm_id == rule.vm_id else None  # the same VM keeps its address
        vm_ip = guest_address(store, vm_id, public, command.private_ip or kept)
        private = rule.private_start if command.private_start is None else command.private_start
        keys = rules.change_forwarding(rule.id, private or 0, vm_id, vm_ip)
        job = rule_job(command.job, rule.id)
        result = {"object": _RESULT_OBJECTS[rule.kind], "id": str(rule.id)}
        target = _target(store, network.id, RuleKind.PORT_FORWARDING)
        rules.request_apply(request_id(), job.id, target, (tuple(keys), ()), result)
        return _saved(
            store,
            rules,
            job,
            rule.id,
            *_counted(store, rules, abandoned.addresses),
            *abandoned.certs,
        )

    outcome: Applying = store.run(attempt)
    return outcome


def change_members(store: Any, command: ChangeMembers) -> Applying:
    """Put VMs behind a load balancer rule, or take them away; the router applies the set."""

    def attempt() -> Applying:
        network = store.get(Network, command.network_id, what="network")
        rules = _set_of(store, network, command.source_ip)
        abandoned = _give_up_abandoned(store, rules)
        rule = rules.rule(command.rule_id, RuleKind.LOAD_BALANCING)
        keys: tuple[tuple[str, ...], tuple[str, ...]]
        if command.assign:
            place = _destination(store, rules, rule)
            members = [Member(vm, nic_address(store, vm, place)) for vm in command.vm_ids]
            members += [Member(vm, nic_address(store, vm, place, ip)) for vm, ip in command.vm_ips]
            keys = (tuple(rules.assign(rule.id, members)), ())
        else:
            targets: list[MemberTarget] = [*command.vm_ids, *command.vm_ips]
            keys = ((), tuple(rules.unassign(rule.id, targets)))
        job = rule_job(command.job, rule.id)
        delivered = _deliver(store, rules, network, job, keys, {"success": True})
        return _saved(
            store,
            rules,
            job,
            rule.id,
            *delivered,
            *_counted(store, rules, abandoned.addresses),
            *abandoned.certs,
        )

    outcome: Applying = store.run(attempt)
    return outcome


def _set_of(store: Any, network: Network, source_ip: str) -> NetworkRules:
    """The network's rule set (its VPC's, for a tier), or that of its internal load
    balancers on `source_ip`."""
    if not source_ip:
        return _existing_set(store, network)
    set_id = internal_rule_set_id(network.id, source_ip)
    found: NetworkRules = store.get(NetworkRules, set_id, what="network rules")
    return found


def _destination(store: Any, rules: NetworkRules, rule: Rule) -> Destination:
    """Where a load balancer's members are: the network of its public address, or the tier
    of an internal one."""
    if rule.public_ip_id is None:
        what = f"load balancer source ip {rule.address}"
        return Destination(rules.network_id, rule.account_id, what)
    return _public_destination(store.get(PublicIp, rule.public_ip_id, what="public ip address"))


def _deliver(
    store: Any,
    rules: NetworkRules,
    network: Network,
    job: Job,
    changes: tuple[tuple[str, ...], tuple[str, ...]],
    result: dict[str, Any],
) -> list[Any]:
    """Ask the appliance of the set to hold it: the router of `network` (its VPC's, for a
    tier), or for internal load balancers their VM (commands/internal_lb.py). Returns what
    else to save."""
    if rules.internal_address:
        from commands.internal_lb import deliver

        return deliver(store, rules, job, changes, result)
    target = _target(store, network.id, _kind_of(rules, changes))
    rules.request_apply(request_id(), job.id, target, changes, result)
    return []


def _on_balancer(
    store: Any,
    network_id: UUID,
    rule_id: UUID,
    job_spec: JobSpec,
    change: Any,
    answer: str = "",
) -> Applying:
    """A change of a load balancer's own settings (`change(rules)` returns the keys it adds
    and revokes and what else to save), applied by the router under a job whose answer is the
    rule as `answer` renders it (success alone without one)."""

    def attempt() -> Applying:
        network = store.get(Network, network_id, what="network")
        rules = _existing_set(store, network)
        abandoned = _give_up_abandoned(store, rules)
        keys, others = change(rules)
        job = rule_job(job_spec, rule_id)
        result: dict[str, Any] = {"success": True}
        if answer:
            result = {"object": answer, "id": str(rule_id)}
        target = _target(store, network.id, RuleKind.LOAD_BALANCING)
        rules.request_apply(request_id(), job.id, target, keys, result)
        return _saved(
            store,
            rules,
            job,
            rule_id,
            *others,
            *_counted(store, rules, abandoned.addresses),
            *abandoned.certs,
        )

    outcome: Applying = store.run(attempt)
    return outcome


def change_balancer(store: Any, command: ChangeBalancer) -> Applying:
    """updateLoadBalancerRule: the router applies the new algorithm; a failure undoes it."""

    def change(rules: NetworkRules) -> tuple[Any, list[Any]]:
        keys = rules.change_balancer(
            command.rule_id, command.name, command.description, command.algorithm
        )
        return (tuple(keys), ()), []

    return _on_balancer(
        store, command.network_id, command.rule_id, command.job, change, "loadbalancer"
    )


def add_stickiness(store: Any, command: AddStickiness) -> Applying:
    def change(rules: NetworkRules) -> tuple[Any, list[Any]]:
        return (tuple(rules.add_stickiness(command.rule_id, command.policy)), ()), []

    return _on_balancer(
        store, command.network_id, command.rule_id, command.job, change, "stickinesspolicies"
    )


def remove_stickiness(store: Any, command: RemoveStickiness) -> Applying:
    def change(rules: NetworkRules) -> tuple[Any, list[Any]]:
        return ((), tuple(rules.remove_stickiness(command.policy_id))), []

    network = store.get(Network, command.network_id, what="network")
    with_rule = _existing_set(store, network)
    rule_id = with_rule.policy_rule(command.policy_id).id
    return _on_balancer(store, command.network_id, rule_id, command.job, change)


def bind_cert(store: Any, command: BindCert) -> Applying:
    """Bind a certificate of the rule's account to an ssl load balancer, or take it off; the
    certificate records the binding in the same save, so it cannot be deleted meanwhile."""

    def change(rules: NetworkRules) -> tuple[Any, list[Any]]:
        rule = rules.rule(command.rule_id, RuleKind.LOAD_BALANCING)
        if command.cert_id is None:
            return ((), tuple(rules.remove_cert(rule.id))), []
        cert: SslCert = store.get(SslCert, command.cert_id, what="certificate")
        cert.check_live()
        if cert.account_id != rule.account_id:
            raise PermissionDenied(f"Access denied for account {cert.account_id}")
        material = Certificate(cert.id, cert.certificate, cert.chain, cert.private_key)
        keys = rules.assign_cert(rule.id, material)
        cert.bind(rule.id)
        return (tuple(keys), ()), [cert]

    return _on_balancer(store, command.network_id, command.rule_id, command.job, change)


def released_certs(store: Any, before: set[tuple[UUID, UUID]], rules: NetworkRules) -> list[Any]:
    """Certificates whose binding to a rule of the set ended (removed, failed to apply, or the
    rule gone): each forgets the rule, saved with the set."""
    changed = []
    for rule_id, cert_id in sorted(before - rules.bindings(), key=str):
        try:
            cert: SslCert = store.get(SslCert, cert_id, what="certificate")
        except NotFound:
            continue
        cert.unbind(rule_id)
        changed.append(cert)
    return changed


def dropped_with_network(store: Any, network_id: UUID, network: Network | None = None) -> list[Any]:
    """A deleted network's rules go with it (its router goes too): the rule set, changed, to
    save with the network (nothing when it never had rules). Its addresses are released in
    the same save, which forgets their counts. A VPC's tier takes its rules from the VPC's
    set, and the VPC's addresses they were on go back to the VPC. The devices of `network`
    (deleted) that held its rules are asked to hold none, with no job waiting."""
    rules = rules_of(store, network_id)
    devices = device_targets(store, network) if network is not None else []
    if rules is None or not (rules.rules or (devices and rules.generation)):
        return []
    before = rules.bindings()
    tier = network_id if rules.network_id != network_id else None
    touched = rules.drop_all("the network was deleted", tier)
    if tier is None:
        for target in devices:
            rules.request_apply(request_id(), None, target, ((), ()), {})
        return [rules, *released_certs(store, before, rules)]
    if not rules.pending_events:
        return []
    return [rules, *released_certs(store, before, rules), *_counted(store, rules, touched)]


def follow_vm_rules(store: Any, aggregates: Sequence[Any]) -> list[Any]:
    """An expunged VM's rules go with it (saved beside the VM): the rule sets of its networks
    drop what sends traffic to it, and the addresses are recounted. A running router is asked
    to hold the new set, with no job waiting; a router that is down gets it when it boots."""
    vm = aggregates[0] if aggregates else None
    if not isinstance(vm, VirtualMachine) or not vm.removed:
        return []
    changed: list[Any] = []
    networks = dict.fromkeys(UUID(str(nic["network_id"])) for nic in getattr(vm, "nics", ()))
    sets: set[UUID] = set()
    for network_id in networks:
        rules = rules_of(store, network_id)
        if rules is None or rules.id in sets:  # a VPC's tiers share one set
            continue
        sets.add(rules.id)
        touched = rules.drop_vm(vm.id, "the virtual machine was expunged")
        if not touched:
            continue
        _hold_anew(store, rules, network_id)
        changed += [rules, *_counted(store, rules, touched)]
    from commands.internal_lb import follow_vm_members  # it imports this module

    return [*changed, *follow_vm_members(store, vm)]


def dropped_with_address(store: Any, public: PublicIp) -> list[Any]:
    """A released address takes its rules, as 4.3 revokes them before it releases an address:
    the set drops them, the address is recounted and certificates bound to its load balancers
    are freed, all to save with the release. A running router (and the network's devices) is
    asked to hold the new set, with no job waiting; a router that is down gets it when it
    boots."""
    if not public.rule_count or public.network_id is None:
        return []
    rules = rules_of(store, public.network_id)
    if rules is None:
        return []
    bound = rules.bindings()
    if not rules.drop_address(public.id, "its public ip address was released"):
        return []
    _hold_anew(store, rules, public.network_id)
    counted = _counted(store, rules, [public.id], public)
    return [rules, *counted, *released_certs(store, bound, rules)]


def _hold_anew(store: Any, rules: NetworkRules, network_id: UUID) -> None:
    """Ask what applies the network's rules (its running router, its devices) to hold the set
    as it now is, with no job waiting; a router that is down gets it when it boots."""
    try:
        targets = [_target(store, network_id)]
    except (ResourceUnavailable, NotFound):  # no running router, or its host is gone
        targets = []
    targets += device_targets(store, store.get(Network, network_id, what="network"))
    for target in targets:
        rules.request_apply(request_id(), None, target, ((), ()), {})


# Results ------------------------------------------------------------------------------------


def on_rules_result(store: Any, result: WorkResult) -> Any:
    """The router's answer to an apply request: settle its rules, finish its job."""

    def attempt() -> Any:
        rules = store.get(NetworkRules, UUID(result.target_id), what="network rules")
        pending = rules.pending.get(result.request_id)
        if pending is None:
            return None  # answered already: a redelivered result changes nothing
        touched = _addresses_of(rules, (*pending.adds, *pending.revokes))
        before = rules.bindings()
        reason = result.error or "the router did not answer"
        if result.ok:
            rules.applied(result.request_id)
        else:
            rules.apply_failed(result.request_id, reason)
        job = store.get(Job, pending.job_id, what="job") if pending.job_id else None
        if job is not None and job.status == JobStatus.PENDING:
            if result.ok:
                job.succeed(pending.result)
            else:
                failed = DEVICE_APPLY_FAILED if result.action == DEVICE_ACTION else APPLY_FAILED
                job.fail("ResourceUnavailable", f"{failed}: {reason}")
        others = [a for a in (job,) if a is not None]
        others += released_certs(store, before, rules)
        return store.save(rules, *others, *_counted(store, rules, touched))

    return store.run(attempt)


def _addresses_of(rules: NetworkRules, keys: Sequence[str]) -> list[UUID]:
    found = []
    for key in keys:
        rule = rules.rules.get(UUID(key.partition("/")[0]))
        if rule is not None and rule.public_ip_id is not None:
            found.append(rule.public_ip_id)
    return found


DEVICE_ACTION = "apply_device_rules"  # a set held by an external device, not a router
RESULT_HANDLERS = {"apply_network_rules": on_rules_result, DEVICE_ACTION: on_rules_result}


def reapply_after_boot(store: Any, result: WorkResult) -> None:
    """A router that booted from its image (started, upgraded) may hold no rules: its
    networks' sets go to it again (an older generation it still holds changes nothing)."""
    if not result.ok:
        return
    try:
        router = store.get(SystemVm, UUID(result.target_id), what="router")
    except NotFound:
        return
    if router.role != Role.ROUTER or router.state != State.RUNNING or router.host_id is None:
        return
    owners = (router.vpc_id,) if getattr(router, "vpc_id", None) else router.network_ids
    for network_id in owners:

        def attempt(network_id: UUID = network_id) -> None:
            try:
                rules: NetworkRules = store.repository.get(rule_set_id(network_id))
            except AggregateNotFoundError:
                return
            kinds = _router_kinds_of(store, network_id, router)
            if rules.applied_set(kinds):
                access = host_access(store, router.host_id)[0]
                network = (
                    None
                    if getattr(router, "vpc_id", None)
                    else store.get(Network, network_id, what="network")
                )
                target = _router_target(store, router, access, kinds, network)
                rules.request_apply(request_id(), None, target, ((), ()), {})
                store.save(rules)

        store.run(attempt)


def _router_kinds_of(store: Any, owner_id: UUID, router: SystemVm) -> tuple[str, ...]:
    """The kinds of rule a router holds for the network it serves (a VPC's: every kind)."""
    if getattr(router, "vpc_id", None):
        return ()
    network: Network = store.get(Network, owner_id, what="network")
    return router_kinds(store, network)


# Work that follows another family's result, in its own save (commands/results.py).
FOLLOW_UPS = {"start_system_vm": reapply_after_boot, "upgrade_router": reapply_after_boot}


# Outbox routes ------------------------------------------------------------------------------


def router_set_route(box: Any, prefix: str, action: str, key: str) -> Any:
    """The route of a request asking a router (by its instance name on its host) to hold a
    whole set (`key`: the set's name in the event and the request)."""
    from stratus.messages import WorkRequest, seal_credentials
    from stratus.outbox import Outgoing, origin, work

    def apply(e: Any) -> Outgoing:
        # The certificates' keys travel only inside the seal, never in the request's params.
        certificates = getattr(e, "certificates", ())
        secrets = (
            {"ssl_keys": {c["id"]: c["private_key"].reveal() for c in certificates}}
            if certificates
            else None
        )
        # A set for an external device goes to its device adapter, with what it needs to
        # know of the network.
        device = getattr(e, "device", None)
        balancer = getattr(e, "balancer", None)  # its load balancers' limits
        request = WorkRequest(
            request_id=e.request_id,
            hypervisor=e.hypervisor.lower(),
            action=DEVICE_ACTION if device is not None else action,
            target_id=str(e.originator_id),
            params={
                **({"network": device} if device is not None else {}),
                "host_id": str(e.host_id),
                "name": e.instance_name,
                "generation": e.generation,
                key: list(getattr(e, key)),
                **(
                    {
                        "certificates": [
                            {"id": c["id"], "certificate": c["certificate"], "chain": c["chain"]}
                            for c in certificates
                        ]
                    }
                    if key == "rules"
                    else {}
                ),
                **({"balancer": dict(balancer)} if balancer else {}),
            },
            sealed_credentials=seal_credentials(
                box, e.url, e.username, e.password.reveal(), secrets=secrets
            ),
            **origin(e),
        )
        return work(request, prefix)

    return apply


def rule_routes(box: Any, prefix: str) -> dict[str, Any]:
    from eventsourcing.utils import get_topic

    rule_set: Any = NetworkRules  # events made by the library's decorator: mypy cannot see them
    route = router_set_route(box, prefix, "apply_network_rules", "rules")
    return {get_topic(rule_set.ApplyRequested): route}


OUTBOX_ROUTES = rule_routes
