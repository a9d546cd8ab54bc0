"""Internal load balancing in VPC tiers: the offering's providers, the InternalLbVm element, and
an address's rule set waiting for its VM (given-when-then, no I/O)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from commands.network_offerings import DEFAULT_NETWORK_OFFERINGS
from domain.errors import InvalidParameter, InvalidState, NetworkRuleConflict
from domain.internal_lb import InternalBalancers, balancers_id
from domain.network_offering import NetworkOffering, OfferingTerms
from domain.network_physical import PhysicalNetwork
from domain.network_rule_checks import Member, Rule, RuleKind, RuleState
from domain.network_rules import (
    ApplyTarget,
    NetworkRules,
    internal_rule_set_id,
    rule_set_id,
)
from domain.values import Secret
from domain.vm import HostAccess

ACCOUNT, DOMAIN, ZONE, TIER = uuid4(), uuid4(), uuid4(), uuid4()
SOURCE = "10.70.1.50"
VM = ApplyTarget(
    uuid4(), "b-1-VM", HostAccess(uuid4(), "simulator://h1", "root", Secret("pw"), "Simulator")
)
VPC = "VpcVirtualRouter"


def balancer(port: int, name: str = "app") -> Rule:
    return Rule(
        uuid4(),
        RuleKind.LOAD_BALANCING,
        None,
        SOURCE,
        ACCOUNT,
        DOMAIN,
        ZONE,
        "tcp",
        start_port=port,
        end_port=port,
        private_start=8080,
        private_end=8080,
        name=name,
        algorithm="roundrobin",
    )


def address_set() -> NetworkRules:
    return NetworkRules(TIER, ZONE, ACCOUNT, DOMAIN, SOURCE)


def test_the_seeded_offering_balances_by_internal_lb_vm_and_is_for_vpc_tiers() -> None:
    (terms,) = [
        t
        for t in DEFAULT_NETWORK_OFFERINGS
        if t.name == "DefaultIsolatedNetworkOfferingForVpcNetworksWithInternalLB"
    ]
    offering = NetworkOffering(terms.checked(), "Enabled", True, id=uuid4())
    assert offering.internal_lb and offering.for_vpc
    assert offering.services["Lb"] == ["InternalLbVm"]
    assert offering.services["NetworkACL"] == [VPC]


def test_internal_lb_vm_serves_only_the_lb_of_vpc_tiers() -> None:
    def terms(services: dict[str, list[str]]) -> OfferingTerms:
        return OfferingTerms("o", "o", "Isolated", services)

    with pytest.raises(InvalidParameter, match="VPC"):
        terms({"Dhcp": ["VirtualRouter"], "Lb": ["InternalLbVm"]}).checked()
    with pytest.raises(InvalidParameter, match="only the Lb service"):
        terms({"Dhcp": [VPC], "Dns": ["InternalLbVm"]}).checked()
    with pytest.raises(InvalidParameter, match="only the Lb service"):
        terms({"Dhcp": [VPC], "Lb": [VPC, "InternalLbVm"]}).checked()
    public = NetworkOffering(
        terms({"Dhcp": [VPC], "Lb": [VPC]}).checked(), "Enabled", False, id=uuid4()
    )
    assert not public.internal_lb


def test_the_internal_lb_provider_is_enabled_only_after_its_element() -> None:
    physical = PhysicalNetwork.create(uuid4(), uuid4(), "fabric", "VLAN", "100-199")
    provider = UUID(next(k for k, p in physical.providers.items() if p["name"] == "InternalLbVm"))
    (element,) = [k for k, x in physical.elements.items() if x["provider_id"] == str(provider)]
    with pytest.raises(InvalidState, match="configureInternalLoadBalancerElement"):
        physical.update_provider(provider, "Enabled", None)
    with pytest.raises(InvalidParameter, match="already has"):
        physical.create_internal_lb_element(uuid4(), provider)
    router = UUID(next(k for k, p in physical.providers.items() if p["name"] == "VirtualRouter"))
    with pytest.raises(InvalidParameter, match="cannot have an internal"):
        physical.create_internal_lb_element(uuid4(), router)
    physical.configure_router_element(UUID(element), True)
    physical.update_provider(provider, "Enabled", None)
    assert physical.providers[str(provider)]["state"] == "Enabled"


def test_an_address_has_a_set_of_its_own() -> None:
    rules = address_set()
    assert rules.id == internal_rule_set_id(TIER, SOURCE) != rule_set_id(TIER)
    assert rules.internal_address == SOURCE
    assert NetworkRules(TIER, ZONE, ACCOUNT, DOMAIN).internal_address == ""


def test_a_change_waits_for_the_starting_vm_then_goes_to_it_with_the_whole_set() -> None:
    rules = address_set()
    web = balancer(80)
    key = rules.add(web)
    job = uuid4()
    rules.defer_apply("req-1", job, ((key,), ()), {"object": "loadbalancer"})
    assert rules.waiting == {"req-1"} and rules.generation == 0
    assert rules.rules[web.id].state == RuleState.ADD
    with pytest.raises(NetworkRuleConflict):
        rules.add(balancer(80, "again"))  # the port is taken while the VM starts
    rules.send_waiting(VM)
    assert rules.waiting == set() and rules.generation == 1
    pending = rules.applied("req-1")
    assert pending is not None and pending.job_id == job
    assert rules.rules[web.id].state == RuleState.ACTIVE


def test_a_vm_that_does_not_start_fails_the_waiting_change() -> None:
    rules = address_set()
    web = balancer(80)
    rules.defer_apply("req-1", None, ((rules.add(web),), ()), {})
    assert rules.apply_failed("req-1", "no room") is not None
    assert rules.rules == {} and rules.waiting == set()
    assert not rules.has_live_rules


def test_the_last_rule_settles_at_once_with_nothing_to_apply() -> None:
    rules = address_set()
    web, tls = balancer(80), balancer(443, "tls")
    keys = (rules.add(web), rules.add(tls))
    rules.request_apply("req-1", None, VM, (keys, ()), {})
    rules.applied("req-1")
    rules.revoke(tls.id, RuleKind.LOAD_BALANCING)
    assert rules.has_live_rules  # the other rule still needs the VM
    rules.request_apply("req-2", None, VM, ((), (str(tls.id),)), {})
    rules.applied("req-2")
    keys = tuple(rules.revoke(web.id, RuleKind.LOAD_BALANCING))
    assert not rules.has_live_rules
    assert rules.settle_at_once("req-3", None, ((), keys)) is not None
    assert rules.rules == {} and rules.pending == {}


def test_a_tier_lists_the_addresses_that_have_internal_load_balancers() -> None:
    index = InternalBalancers(TIER)
    assert index.id == balancers_id(TIER)
    index.open(SOURCE)
    index.open(SOURCE)
    index.open("10.70.1.51")
    assert index.addresses == {SOURCE, "10.70.1.51"}
    index.close(SOURCE)
    index.close(SOURCE)
    assert index.addresses == {"10.70.1.51"}
    assert len(index.collect_events()) == 4  # opened, two addresses, one closed


def test_an_expunged_member_leaves_the_address_set() -> None:
    rules = address_set()
    web = balancer(80)
    rules.add(web)
    gone, kept = uuid4(), uuid4()
    rules.assign(web.id, [Member(gone, "10.70.1.11"), Member(kept, "10.70.1.12")])
    rules.drop_vm(gone, "expunged")
    assert [m.vm_id for m in rules.rules[web.id].members] == [kept]
