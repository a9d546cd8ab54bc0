"""Rules on public addresses, given-when-then on values and the rule set aggregate, no I/O."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState, NetworkRuleConflict, ResourceInUse
from domain.network_public_ip import PublicIp
from domain.network_rule_checks import (
    Member,
    Rule,
    RuleKind,
    RuleState,
    check_conflicts,
    cidr_list,
    icmp_values,
    port_range,
    protocol,
)
from domain.network_rules import ApplyTarget, NetworkRules, static_nat_rule_id
from domain.values import Secret
from domain.vm import HostAccess

IP, OTHER_IP = uuid4(), uuid4()
ACCOUNT, DOMAIN, ZONE = uuid4(), uuid4(), uuid4()
TARGET = ApplyTarget(
    uuid4(), "r-4-VM", HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")
)


def rule(kind: str = RuleKind.PORT_FORWARDING, ip: UUID = IP, **values: object) -> Rule:
    base = Rule(uuid4(), kind, ip, "203.0.113.5", ACCOUNT, DOMAIN, ZONE, "tcp")
    return replace(base, **values)  # type: ignore[arg-type]


def pf(start: int, end: int | None = None, proto: str = "tcp", ip: UUID = IP) -> Rule:
    return rule(start_port=start, end_port=end or start, protocol=proto, ip=ip, vm_ip="10.1.1.5")


def firewall(start: int | None, end: int | None = None, **values: object) -> Rule:
    cidrs = values.pop("cidrs", ("0.0.0.0/0",))
    return rule(RuleKind.FIREWALL, start_port=start, end_port=end, cidrs=cidrs, **values)


def rule_set() -> NetworkRules:
    return NetworkRules(uuid4(), ZONE, ACCOUNT, DOMAIN)


# Values ---------------------------------------------------------------------------------


def test_ports_are_1_to_65535_and_a_range_may_not_run_backwards() -> None:
    assert port_range(22, None, "public") == (22, 22)
    assert port_range(1, 65535, "") == (1, 65535)
    for start, end in ((0, None), (65536, None), (10, 70000), (None, 5)):
        with pytest.raises(InvalidParameter):
            port_range(start, end, "public")
    with pytest.raises(InvalidParameter, match="Start port can't be bigger than end port"):
        port_range(90, 80, "private")


def test_protocols_depend_on_the_kind_of_rule() -> None:
    assert protocol(RuleKind.PORT_FORWARDING, "TCP") == "tcp"
    assert protocol(RuleKind.FIREWALL, "icmp") == "icmp"
    with pytest.raises(InvalidParameter):
        protocol(RuleKind.PORT_FORWARDING, "icmp")
    with pytest.raises(InvalidParameter):
        protocol(RuleKind.FIREWALL, "gre")


def test_cidrs_are_normalised_and_default_to_everywhere() -> None:
    assert cidr_list(None) == ("0.0.0.0/0",)
    assert cidr_list("10.0.0.7/24, 192.168.1.0/24") == ("10.0.0.0/24", "192.168.1.0/24")
    with pytest.raises(InvalidParameter, match="Source cidrs formatting error"):
        cidr_list("10.0.0.0/33")


def test_icmp_type_and_code_only_for_icmp() -> None:
    assert icmp_values("icmp", None, None) == (-1, -1)
    assert icmp_values("icmp", 8, 0) == (8, 0)
    with pytest.raises(InvalidParameter):
        icmp_values("tcp", 8, None)
    with pytest.raises(InvalidParameter):
        icmp_values("icmp", 256, 0)


# Conflicts ------------------------------------------------------------------------------


def test_overlapping_forwarding_ranges_on_one_address_conflict() -> None:
    existing = [pf(20, 30)]
    with pytest.raises(NetworkRuleConflict, match="The range specified, 25-40, conflicts"):
        check_conflicts(pf(25, 40), existing)
    check_conflicts(pf(31, 40), existing)  # next to it
    check_conflicts(pf(25, 40, proto="udp"), existing)  # another protocol
    check_conflicts(pf(25, 40, ip=OTHER_IP), existing)  # another address


def test_a_load_balancer_conflicts_with_forwarding_on_its_port_whatever_the_protocol() -> None:
    balancer = rule(RuleKind.LOAD_BALANCING, start_port=80, end_port=80, protocol="udp")
    with pytest.raises(NetworkRuleConflict):
        check_conflicts(balancer, [pf(80)])


def test_firewall_rules_are_weighed_only_against_firewall_rules() -> None:
    check_conflicts(firewall(22), [pf(22)])
    check_conflicts(pf(22), [firewall(22)])
    with pytest.raises(NetworkRuleConflict):
        check_conflicts(firewall(1, 100), [firewall(22)])
    check_conflicts(firewall(22, cidrs=("10.0.0.0/8",)), [firewall(22)])  # other sources
    ping = firewall(None, protocol="icmp", icmp_type=8, icmp_code=0)
    with pytest.raises(InvalidParameter, match="New rule conflicts with existing rule"):
        check_conflicts(replace(ping, id=uuid4()), [ping])


def test_static_nat_excludes_forwarding_and_balancing_on_the_address() -> None:
    nat = rule(RuleKind.STATIC_NAT, protocol="all", vm_id=uuid4(), vm_ip="10.1.1.9")
    with pytest.raises(NetworkRuleConflict, match="1 to 1 Nat rule"):
        check_conflicts(pf(22), [nat])
    with pytest.raises(NetworkRuleConflict, match="already firewall rule"):
        check_conflicts(nat, [pf(22)])
    check_conflicts(firewall(22), [nat])  # a static NAT address is opened by firewall rules


def test_rules_being_revoked_do_not_stand_in_the_way() -> None:
    check_conflicts(pf(22), [pf(22).with_state(RuleState.REVOKE)])


# The rule set ---------------------------------------------------------------------------


def test_a_rule_is_added_then_active_once_the_router_applied_the_set() -> None:
    rules = rule_set()
    first = pf(22)
    key = rules.add(first)
    rules.request_apply("req-1", None, TARGET, ((key,), ()), {"success": True})
    assert rules.rules[first.id].state == RuleState.ADD
    assert [r["start_port"] for r in rules.applied_set()] == [22]
    assert rules.applied("req-1") is not None
    assert rules.rules[first.id].state == RuleState.ACTIVE
    assert rules.applied("req-1") is None  # a repeated answer changes nothing


def test_a_failed_apply_drops_the_new_rule_and_frees_its_ports() -> None:
    rules = rule_set()
    key = rules.add(pf(22))
    rules.request_apply("req-1", None, TARGET, ((key,), ()), {})
    rules.apply_failed("req-1", "the router is down")
    assert rules.rules == {} and rules.pending == {}
    rules.add(pf(22))  # the port is free again
    removed = [e for e in rules.collect_events() if type(e).__name__ == "RuleRemoved"]
    assert [e.reason for e in removed] == ["the router is down"]  # type: ignore[attr-defined]


def test_deleting_revokes_until_confirmed_and_a_failure_keeps_the_rule_active() -> None:
    rules = rule_set()
    forward = pf(22)
    rules.request_apply("add", None, TARGET, ((rules.add(forward),), ()), {})
    rules.applied("add")
    keys = rules.revoke(forward.id, RuleKind.PORT_FORWARDING)
    assert rules.applied_set() == ()  # the router is asked for a set without it
    rules.request_apply("del", None, TARGET, ((), tuple(keys)), {})
    rules.apply_failed("del", "timeout")
    assert rules.rules[forward.id].state == RuleState.ACTIVE
    keys = rules.revoke(forward.id, RuleKind.PORT_FORWARDING)
    rules.request_apply("del-2", None, TARGET, ((), tuple(keys)), {})
    rules.applied("del-2")
    assert forward.id not in rules.rules


def test_a_rule_still_being_applied_cannot_be_deleted_and_the_wrong_kind_is_not_found() -> None:
    rules = rule_set()
    forward = pf(22)
    rules.add(forward)
    with pytest.raises(InvalidState):
        rules.revoke(forward.id, RuleKind.PORT_FORWARDING)
    with pytest.raises(InvalidParameter):
        rules.revoke(forward.id, RuleKind.FIREWALL)


def test_the_firewall_rule_opened_for_a_forwarding_rule_goes_with_it() -> None:
    rules = rule_set()
    forward = pf(22)
    opened = firewall(22, related=forward.id)
    rules.request_apply("add", None, TARGET, ((rules.add(forward), rules.add(opened)), ()), {})
    rules.applied("add")
    assert sorted(rules.revoke(forward.id, RuleKind.PORT_FORWARDING)) == sorted(
        [str(forward.id), str(opened.id)]
    )


def test_one_static_nat_per_address_and_per_vm() -> None:
    rules = rule_set()
    vm = uuid4()
    nat = rule(RuleKind.STATIC_NAT, protocol="all", vm_id=vm, id=static_nat_rule_id(IP))
    rules.add(nat)
    with pytest.raises(NetworkRuleConflict):
        rules.add(replace(nat, id=uuid4(), vm_id=uuid4()))
    with pytest.raises(InvalidParameter, match="already has static nat"):
        rules.add(replace(nat, id=static_nat_rule_id(OTHER_IP), public_ip_id=OTHER_IP))


def ip_forwarding(start: int, end: int | None = None, proto: str = "tcp") -> Rule:
    return rule(RuleKind.IP_FORWARDING, start_port=start, end_port=end or start, protocol=proto)


def test_ip_forwarding_needs_static_nat_and_forwards_its_ports_to_the_nat_vm() -> None:
    rules, vm = rule_set(), uuid4()
    with pytest.raises(InvalidParameter, match="Static nat is not enabled"):
        rules.add(ip_forwarding(80))
    nat = rule(
        RuleKind.STATIC_NAT, protocol="all", vm_id=vm, vm_ip="10.1.1.9", id=static_nat_rule_id(IP)
    )
    rules.add(nat)
    web = ip_forwarding(80, 90)
    rules.add(web)
    held = rules.rules[web.id]
    assert (held.vm_id, held.vm_ip, held.related) == (vm, "10.1.1.9", nat.id)
    assert (held.private_start, held.private_end) == (80, 90)
    with pytest.raises(NetworkRuleConflict):
        rules.add(ip_forwarding(85, 100))
    rules.add(ip_forwarding(85, 100, "udp"))  # another protocol may share the ports
    with pytest.raises(NetworkRuleConflict, match="1 to 1 Nat"):
        rules.add(pf(2222))


def test_disabling_static_nat_revokes_its_forwarding_rules_and_what_they_opened() -> None:
    rules = rule_set()
    nat = rule(RuleKind.STATIC_NAT, protocol="all", vm_id=uuid4(), id=static_nat_rule_id(IP))
    forward = ip_forwarding(80)
    opened = firewall(80, related=forward.id)
    keys = (rules.add(nat), rules.add(forward), rules.add(opened))
    rules.request_apply("add", None, TARGET, (keys, ()), {})
    rules.applied("add")
    assert sorted(rules.revoke(nat.id, RuleKind.STATIC_NAT)) == sorted(
        map(str, (nat.id, *keys[1:]))
    )
    rules.request_apply("del", None, TARGET, ((), keys), {})
    rules.applied("del")
    assert rules.rules == {}


def test_a_forwarding_rule_changes_port_and_vm_and_a_failed_apply_puts_them_back() -> None:
    rules, web, db = rule_set(), uuid4(), uuid4()
    forward = replace(pf(2222), private_start=22, private_end=23, vm_id=web)
    rules.request_apply("add", None, TARGET, ((rules.add(forward),), ()), {})
    rules.applied("add")
    keys = rules.change_forwarding(forward.id, 8022, db, "10.1.1.6")
    changed = rules.rules[forward.id]
    assert (changed.private_start, changed.private_end, changed.vm_id) == (8022, 8023, db)
    with pytest.raises(InvalidState):  # one change at a time
        rules.change_forwarding(forward.id, 9022, db, "10.1.1.6")
    rules.request_apply("change", None, TARGET, (tuple(keys), ()), {})
    rules.apply_failed("change", "router down")
    back = rules.rules[forward.id]
    assert (back.private_start, back.vm_id, back.vm_ip, back.state) == (
        22,
        web,
        "10.1.1.5",
        "Active",
    )
    keys = rules.change_forwarding(forward.id, 8022, db, "10.1.1.6")
    rules.request_apply("again", None, TARGET, (tuple(keys), ()), {})
    rules.applied("again")
    assert rules.rules[forward.id].vm_ip == "10.1.1.6"
    with pytest.raises(InvalidParameter):  # the range would run past the last port
        rules.change_forwarding(forward.id, 65535, db, "10.1.1.6")


def test_load_balancer_members_follow_the_router_too() -> None:
    rules = rule_set()
    balancer = rule(RuleKind.LOAD_BALANCING, start_port=80, end_port=80, name="web")
    rules.request_apply("add", None, TARGET, ((rules.add(balancer),), ()), {})
    rules.applied("add")
    vm_a, vm_b = uuid4(), uuid4()
    keys = rules.assign(balancer.id, [Member(vm_a, "10.1.1.5"), Member(vm_b, "10.1.1.6")])
    with pytest.raises(InvalidParameter, match="already assigned"):
        rules.assign(balancer.id, [Member(vm_a, "10.1.1.5")])
    rules.request_apply("assign", None, TARGET, (tuple(keys), ()), {})
    rules.applied("assign")
    assert {m.state for m in rules.rules[balancer.id].members} == {RuleState.ACTIVE}
    keys = rules.unassign(balancer.id, [vm_a])
    assert [m["vm_ip"] for m in rules.applied_set()[0]["members"]] == ["10.1.1.6"]
    rules.request_apply("remove", None, TARGET, ((), tuple(keys)), {})
    rules.apply_failed("remove", "down")
    assert len(rules.rules[balancer.id].members) == 2  # still behind it
    with pytest.raises(InvalidParameter, match="is not assigned"):
        rules.unassign(balancer.id, [uuid4()])


def test_a_vm_sits_behind_a_balancer_by_each_address_named_and_leaves_by_one() -> None:
    rules = rule_set()
    balancer = rule(RuleKind.LOAD_BALANCING, start_port=80, end_port=80, name="web")
    rules.request_apply("add", None, TARGET, ((rules.add(balancer),), ()), {})
    rules.applied("add")
    vm = uuid4()
    keys = rules.assign(balancer.id, [Member(vm, "10.1.1.5"), Member(vm, "10.1.1.50")])
    with pytest.raises(InvalidParameter, match="already assigned"):
        rules.assign(balancer.id, [Member(vm, "10.1.1.50")])
    rules.request_apply("assign", None, TARGET, (tuple(keys), ()), {})
    rules.applied("assign")
    sent = rules.applied_set()[0]["members"]
    assert sorted(m["vm_ip"] for m in sent) == ["10.1.1.5", "10.1.1.50"]
    with pytest.raises(InvalidParameter, match=r"with ip 10\.1\.1\.99 is not assigned"):
        rules.unassign(balancer.id, [(vm, "10.1.1.99")])
    keys = rules.unassign(balancer.id, [(vm, "10.1.1.50")])
    rules.request_apply("remove", None, TARGET, ((), tuple(keys)), {})
    rules.applied("remove")
    assert [m.vm_ip for m in rules.rules[balancer.id].members] == ["10.1.1.5"]
    keys = rules.unassign(balancer.id, [vm])  # named alone: by every address it has
    rules.request_apply("all", None, TARGET, ((), tuple(keys)), {})
    rules.applied("all")
    assert rules.rules[balancer.id].members == ()


def test_an_expunged_vm_takes_its_rules_and_places_and_leaves_the_others() -> None:
    rules = rule_set()
    gone, stays = uuid4(), uuid4()
    forward = replace(pf(22), vm_id=gone)
    opened = firewall(22, related=forward.id)
    other = replace(pf(80), vm_id=stays)
    nat = rule(
        RuleKind.STATIC_NAT, OTHER_IP, protocol="all", vm_id=gone, id=static_nat_rule_id(OTHER_IP)
    )
    balancer = rule(RuleKind.LOAD_BALANCING, start_port=443, end_port=443, name="web")
    keys = [rules.add(r) for r in (forward, opened, other, nat, balancer)]
    rules.request_apply("add", None, TARGET, (tuple(keys), ()), {})
    rules.applied("add")
    keys = rules.assign(balancer.id, [Member(gone, "10.1.1.5"), Member(stays, "10.1.1.6")])
    rules.request_apply("assign", None, TARGET, (tuple(keys), ()), {})  # still in flight

    assert rules.drop_vm(gone, "expunged") == sorted([IP, OTHER_IP], key=str)
    assert set(rules.rules) == {other.id, balancer.id}
    assert [m.vm_id for m in rules.rules[balancer.id].members] == [stays]
    rules.applied("assign")  # the answer for the VM that left finds nothing to settle
    assert [m.state for m in rules.rules[balancer.id].members] == [RuleState.ACTIVE]
    assert rules.drop_vm(gone, "expunged") == []  # nothing left of it


def test_generations_grow_with_every_request_and_the_set_is_sent_whole() -> None:
    rules = rule_set()
    rules.request_apply("a", None, TARGET, ((rules.add(pf(22)),), ()), {})
    rules.request_apply("b", None, TARGET, ((rules.add(pf(80)),), ()), {})
    requested = [e for e in rules.collect_events() if type(e).__name__ == "ApplyRequested"]
    assert [e.generation for e in requested] == [1, 2]  # type: ignore[attr-defined]
    assert [r["start_port"] for r in requested[1].rules] == [22, 80]  # type: ignore[attr-defined]


def test_an_address_with_rules_cannot_be_released_but_goes_with_its_network() -> None:
    public = PublicIp(ZONE, "203.0.113.5", uuid4())
    public.associate(ACCOUNT, DOMAIN, uuid4())
    public.rules_changed(2)
    with pytest.raises(ResourceInUse):
        public.disassociate()
    public.disassociate(with_network=True)
    assert public.rule_count == 0


def test_a_routers_request_carries_its_networks_balancer_limits() -> None:
    rules = rule_set()
    limited = replace(TARGET, balancer={"max_connections": 250, "keep_alive": True})
    rules.request_apply("req-1", None, limited, ((rules.add(pf(22)),), ()), {})
    rules.request_apply("req-2", None, TARGET, ((rules.add(pf(80)),), ()), {})
    requested = [e for e in rules.collect_events() if type(e).__name__ == "ApplyRequested"]
    assert [e.balancer for e in requested] == [{"max_connections": 250, "keep_alive": True}, None]
