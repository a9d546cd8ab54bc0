"""Network rules, given-when-then on values and aggregates, no I/O."""

from __future__ import annotations

from ipaddress import IPv4Address
from uuid import uuid4

import pytest

from domain.errors import InsufficientCapacity, InvalidParameter, ResourceInUse
from domain.network import Addressing, Network
from domain.network_addressing import VnetRanges
from domain.network_claims import Claim, ClaimKind, claim_id
from domain.network_offering import BalancerLimits, NetworkOffering, OfferingTerms
from domain.network_physical import PhysicalNetwork
from domain.network_public_ip import PublicIp, VlanIpRange


def test_vlan_ranges_are_parsed_merged_and_bounded_by_the_isolation_method() -> None:
    ranges = VnetRanges.parse("600-700, 500-650,900", "VLAN")
    assert ranges.ranges == ((500, 700), (900, 900))
    assert (ranges.size, ranges.text, 901 in ranges) == (202, "500-700,900", False)
    with pytest.raises(InvalidParameter):
        VnetRanges.parse("4000-4095", "VLAN")
    assert VnetRanges.parse("5000-16777214", "VXLAN").size == 16_777_214 - 4999
    with pytest.raises(InvalidParameter):
        VnetRanges.parse("1-16777215", "VXLAN")
    with pytest.raises(InvalidParameter):
        VnetRanges.parse("10-5", "VLAN")


def test_probing_visits_every_id_once_from_any_start() -> None:
    ranges = VnetRanges.parse("10-12,20-21", "VLAN")
    assert list(ranges.probe(3)) == [20, 21, 10, 11, 12]
    assert sorted(ranges.probe(123456789)) == [10, 11, 12, 20, 21]


def test_a_claim_is_held_by_one_holder_until_that_holder_releases_it() -> None:
    first, second = uuid4(), uuid4()
    scope = uuid4()
    claim = Claim(ClaimKind.GUEST_VNET, scope, "500", first)
    assert claim.id == claim_id(ClaimKind.GUEST_VNET, scope, "500")
    with pytest.raises(InsufficientCapacity):
        claim.take(second)
    claim.release(second)  # not the holder: nothing happens
    assert claim.holder_id == first
    claim.release(first)
    claim.take(second)
    assert claim.holder_id == second
    names = [type(e).__name__ for e in claim.collect_events()]
    assert names == ["Claimed", "Released", "Taken"]


def test_an_isolated_plan_defaults_to_10_1_1_0_24_and_never_hands_out_the_gateway() -> None:
    plan = Addressing.isolated(None, None)
    assert (plan.cidr, plan.gateway, plan.netmask) == ("10.1.1.0/24", "10.1.1.1", "255.255.255.0")
    pool = list(plan.pool().probe(0))
    assert len(pool) == 253 and IPv4Address("10.1.1.1") not in pool
    assert pool[0] == IPv4Address("10.1.1.2") and pool[-1] == IPv4Address("10.1.1.254")
    with pytest.raises(InvalidParameter):
        Addressing.isolated("10.1.1.0/33", None)
    with pytest.raises(InvalidParameter):
        Addressing.isolated("10.1.1.0/24", "10.2.0.1")


def _network() -> Network:
    plan = Addressing.isolated(None, None).facts()
    return Network(
        "n", "n", uuid4(), uuid4(), uuid4(), "Isolated", uuid4(), uuid4(), plan,
        "vxlan://5000", "Allocated", id=uuid4(),
    )  # fmt: skip


def test_a_network_in_use_cannot_be_deleted_and_its_events_carry_usage_facts() -> None:
    network = _network()
    assert network.vnet == 5000
    with pytest.raises(ResourceInUse):
        network.delete(vms_using=2)
    new_offering = uuid4()
    network.change_offering(new_offering, "Isolated")
    with pytest.raises(InvalidParameter):
        network.change_offering(uuid4(), "Shared")
    network.delete(vms_using=0)
    events = {type(e).__name__: e for e in network.collect_events()}
    assert events["OfferingChanged"].offering_id == new_offering
    assert events["Deleted"].offering_id == new_offering


def test_a_physical_network_keeps_the_ids_networks_hold_in_its_ranges() -> None:
    physical = PhysicalNetwork.create(uuid4(), uuid4(), "p", "vlan", "500-600")
    assert physical.isolation == "VLAN" and physical.state == "Disabled"
    with pytest.raises(ResourceInUse):
        physical.update("500-549", None, in_use={550})
    physical.update("500-550", "enabled", in_use={550})
    assert physical.vnets.size == 51 and physical.state == "Enabled"
    with pytest.raises(ResourceInUse):
        physical.delete(networks_using=1)


def test_offerings_refuse_unknown_services_and_source_nat_on_shared_networks() -> None:
    terms = OfferingTerms("o", "", "isolated", {"dhcp": [], "SOURCENAT": ["virtualrouter"]})
    checked = terms.checked()
    assert checked["guest_type"] == "Isolated"
    assert checked["services"] == {"Dhcp": ["VirtualRouter"], "SourceNat": ["VirtualRouter"]}
    with pytest.raises(InvalidParameter):
        OfferingTerms("o", "", "Shared", {"SourceNat": []}).checked()
    with pytest.raises(InvalidParameter):
        OfferingTerms("o", "", "Isolated", {"Teleport": []}).checked()
    default = NetworkOffering(checked, "Enabled", True, id=uuid4())
    with pytest.raises(InvalidParameter):
        default.delete(0)


def test_a_source_nat_address_stays_with_its_network_and_events_carry_usage_facts() -> None:
    account, zone = uuid4(), uuid4()
    public = PublicIp(zone, "203.0.113.10", uuid4())
    public.associate(account, uuid4(), uuid4(), source_nat=True)
    with pytest.raises(InsufficientCapacity):
        public.associate(uuid4(), uuid4(), None)
    with pytest.raises(InvalidParameter):
        public.disassociate()
    public.disassociate(with_network=True)
    events = {type(e).__name__: e for e in public.collect_events()}
    for name in ("Associated", "Disassociated"):
        fact = events[name]
        assert (fact.account_id, fact.zone_id, fact.address) == (account, zone, "203.0.113.10")
        assert (fact.source_nat, fact.is_system) == (True, False)


def test_a_public_range_must_sit_in_its_subnet_beside_its_gateway() -> None:
    def make(start: str, end: str) -> VlanIpRange:
        return VlanIpRange(
            uuid4(), None, "100", "203.0.113.1", "255.255.255.0", start, end, True, id=uuid4()
        )

    assert make("203.0.113.10", "203.0.113.20").vlan == "100"
    for start, end in (("203.0.113.1", "203.0.113.5"), ("203.0.113.9", "203.0.114.2")):
        with pytest.raises(InvalidParameter):
            make(start, end)
    with pytest.raises(ResourceInUse):
        make("203.0.113.10", "203.0.113.20").delete(allocated=1)


def test_an_offerings_balancer_limits_details_and_persistence_are_checked_as_4_3() -> None:
    lb = {"Dhcp": [], "SourceNat": [], "Lb": []}
    terms = OfferingTerms(
        "o",
        "",
        "Isolated",
        lb,
        balancing=BalancerLimits(200, keep_alive=True),
        is_persistent=True,
        details={"publiclbprovider": "virtualrouter"},
    )
    offering = NetworkOffering(terms.checked(), "Enabled", False, id=uuid4())
    assert offering.balancer_limits == BalancerLimits(200, True)
    assert offering.terms["is_persistent"] and offering.router_offering_id is None
    assert offering.terms["details"] == {"PublicLbProvider": "VirtualRouter"}
    offering.update({"max_connections": 300, "keep_alive": False, "sort_key": 4})
    assert offering.balancer_limits == BalancerLimits(300, False)
    with pytest.raises(InvalidParameter, match="positive"):
        offering.update({"max_connections": 0})

    for bad, text in (
        ({"details": {"Colour": "red"}}, "Unsupported detail"),
        ({"details": {"InternalLbProvider": "VirtualRouter"}}, "scheme Internal"),
        ({"details": {"PublicLbProvider": "Netscaler"}}, "not supported by the network"),
        ({"balancing": BalancerLimits(0)}, "positive"),
    ):
        with pytest.raises(InvalidParameter, match=text):
            OfferingTerms("o", "", "Isolated", lb, **bad).checked()  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="isPersistent should be false"):
        OfferingTerms("o", "", "Shared", {"Dhcp": []}, is_persistent=True).checked()
    recorded = {k: v for k, v in terms.checked().items() if k not in ("keep_alive",)}
    recorded.pop("max_connections")
    before = NetworkOffering(recorded, "Enabled", False, id=uuid4())
    assert before.balancer_limits == BalancerLimits(None, False)  # the router's defaults
