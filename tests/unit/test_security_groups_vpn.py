"""Security group rules and VPN users, given-when-then on the aggregates, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter, NetworkRuleConflict, ResourceInUse
from domain.security_group import (
    EGRESS,
    INGRESS,
    RuleSpec,
    RulesTarget,
    SecurityGroup,
    VmRules,
    expand_rules,
)
from domain.values import Secret
from domain.vpn import RemoteAccessVpn, VpnState, VpnUser, check_credentials, parse_ip_range


def _group(name: str = "web") -> SecurityGroup:
    return SecurityGroup(uuid4(), name, "", uuid4(), uuid4())


def _ids(n: int = 4) -> list:
    return [uuid4() for _ in range(n)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RuleSpec("gre", 1, 2, cidrs=("0.0.0.0/0",)), "Invalid protocol gre"),
        (RuleSpec("tcp", None, 22, cidrs=("0.0.0.0/0",)), "Invalid port range specified"),
        (RuleSpec("tcp", 80, 22, cidrs=("0.0.0.0/0",)), "Invalid port range 80:22"),
        (RuleSpec("udp", 1, 70000, cidrs=("0.0.0.0/0",)), "Invalid port numbers 1:70000"),
        (RuleSpec("tcp", -1, 5, cidrs=("0.0.0.0/0",)), "Invalid port range -1:5"),
        (RuleSpec("icmp", icmp_type=8, cidrs=("0.0.0.0/0",)), "Invalid ICMP type/code"),
        (RuleSpec("icmp", icmp_type=-1, icmp_code=0, cidrs=("0.0.0.0/0",)), "Invalid icmp code"),
        (RuleSpec("icmp", icmp_type=8, icmp_code=-1, cidrs=("0.0.0.0/0",)), "non-negative"),
        (RuleSpec("icmp", icmp_type=300, icmp_code=0, cidrs=("0.0.0.0/0",)), "Invalid icmp type"),
        (RuleSpec("all", 1, 2, cidrs=("0.0.0.0/0",)), "Cannot specify startPort"),
        (RuleSpec("tcp", 22, 22, cidrs=("10.0.0.300/8",)), "Invalid cidr 10.0.0.300/8"),
        (RuleSpec("tcp", 22, 22), "At least one cidr or at least one security group"),
    ],
)
def test_rules_are_checked_as_cloudstack_checks_them(spec: RuleSpec, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        expand_rules(spec)


def test_a_rule_is_made_per_cidr_and_per_group_and_zero_ports_mean_all() -> None:
    spec = RuleSpec(
        "TCP", 0, 0, cidrs=("10.1.1.7/24", "192.168.0.0/16"), groups=(("g", "db", "a"),)
    )
    rules = expand_rules(spec)
    assert [(r["cidr"], r["group"]) for r in rules] == [
        ("10.1.1.0/24", None),
        ("192.168.0.0/16", None),
        (None, "db"),
    ]
    assert {(r["protocol"], r["start"], r["end"]) for r in rules} == {("tcp", 0, 65535)}
    icmp = expand_rules(RuleSpec("icmp", icmp_type=-1, icmp_code=-1, cidrs=("0.0.0.0/0",)))
    assert (icmp[0]["start"], icmp[0]["end"]) == (-1, -1)


def test_authorizing_skips_rules_that_exist_and_refuses_when_nothing_is_new() -> None:
    group = _group()
    ssh = RuleSpec("tcp", 22, 22, cidrs=("0.0.0.0/0",))
    assert len(group.authorize(INGRESS, _ids(), ssh)) == 1
    added = group.authorize(
        INGRESS, _ids(), RuleSpec("tcp", 22, 22, cidrs=("0.0.0.0/0", "1.0.0.0/8"))
    )
    assert len(added) == 1 and len(group.rules) == 2
    with pytest.raises(NetworkRuleConflict):
        group.authorize(INGRESS, _ids(), ssh)
    assert len(group.authorize(EGRESS, _ids(), ssh)) == 1  # egress is a list of its own


def test_revoking_needs_a_rule_of_that_direction() -> None:
    group = _group()
    [rule_id] = group.authorize(INGRESS, _ids(), RuleSpec("udp", 53, 53, cidrs=("0.0.0.0/0",)))
    with pytest.raises(InvalidParameter):
        group.revoke(rule_id, EGRESS)
    group.revoke(rule_id, INGRESS)
    assert group.rules == {}


def test_a_group_with_vms_or_the_default_group_cannot_be_deleted() -> None:
    group, vm = _group(), uuid4()
    group.join(vm, "vm-1", uuid4())
    with pytest.raises(ResourceInUse, match="vms in it"):
        group.delete(allowed_by_others=False)
    group.leave(vm)
    with pytest.raises(ResourceInUse, match="allow this group"):
        group.delete(allowed_by_others=True)
    group.delete(allowed_by_others=False)
    assert group.removed
    with pytest.raises(InvalidParameter, match="reserved"):
        _group("default").delete(allowed_by_others=False)


def test_a_removed_accounts_default_group_is_taken_away_once_no_vm_is_in_it() -> None:
    group, vm = _group("default"), uuid4()
    group.join(vm, "vm-1", uuid4())
    with pytest.raises(ResourceInUse, match="vms in it"):
        group.remove_with_owner()
    group.leave(vm)
    group.remove_with_owner()
    assert group.removed


def test_only_the_answer_to_the_latest_rule_set_counts() -> None:
    rules, host = VmRules(uuid4(), [uuid4()]), uuid4()
    target = RulesTarget(host, "sim://h", "root", Secret("pw"), "Simulator", "i-1-VM")
    assert rules.needs_apply(host)
    rules.request_apply("first", target, [])
    assert not rules.needs_apply(host)
    rules.request_apply("second", target, [])
    assert not rules.settle("first", None, 0)
    assert rules.settle("second", None, 3)
    assert rules.applied_host == host and not rules.needs_apply(host)
    rules.forget_host()
    assert rules.needs_apply(host)


def test_a_vm_moved_to_another_account_is_regrouped_once() -> None:
    old, new = uuid4(), uuid4()
    rules = VmRules(uuid4(), [old])
    rules.collect_events()
    rules.regroup([new])
    rules.regroup([new])  # the same groups again: nothing more
    assert [type(e).__name__ for e in rules.collect_events()] == ["Regrouped"]
    assert rules.group_ids == [new]


def test_vpn_user_names_and_passwords_follow_cloudstacks_rules() -> None:
    check_credentials("alice", "s3cret+pass")
    with pytest.raises(InvalidParameter, match="Username"):
        check_credentials("al", "s3cret")
    with pytest.raises(InvalidParameter, match="Password") as refused:
        check_credentials("alice", "has space")
    assert "has space" not in str(refused.value)


def test_a_removed_vpn_user_can_be_added_again_but_not_twice() -> None:
    user = VpnUser(uuid4(), "alice", Secret("pass1"), uuid4(), uuid4())
    with pytest.raises(InvalidParameter, match="already added"):
        user.add_again(Secret("pass2"))
    user.revoke()
    user.drop()
    user.add_again(Secret("pass2"))
    assert not user.removed and user.password.reveal() == "pass2"
    assert "pass2" not in repr(user.password)


def test_a_vpn_that_never_ran_is_removed_when_its_router_fails() -> None:
    vpn = RemoteAccessVpn(
        uuid4(), uuid4(), "203.0.113.5", uuid4(), uuid4(), uuid4(), uuid4(),
        "10.1.2.1-10.1.2.8", Secret("k" * 24),
    )  # fmt: skip
    target = {
        "host_id": uuid4(), "url": "sim://h", "username": "root", "password": Secret("pw"),
        "hypervisor": "Simulator", "instance_name": "r-1-VM",
    }  # fmt: skip
    vpn.request_apply("r1", None, target, [])
    vpn.request_apply("r2", None, target, [])  # the whole state again: supersedes r1
    assert not vpn.is_current("r1")
    vpn.fail("r2", "router refused")
    assert vpn.state == VpnState.REMOVED
    assert vpn.local_ip == "10.1.2.1"
    with pytest.raises(InvalidParameter):
        parse_ip_range("10.1.2.9-10.1.2.1")
