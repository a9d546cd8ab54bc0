"""The VPC aggregate, given-when-then on its events: tiers, ACL items and their settling,
private gateways and static routes; VPC offerings and tier offerings."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.network_acl import DEFAULT_ALLOW, DEFAULT_DENY, AclItem, AclItemInput, checked_item
from domain.network_offering import OfferingTerms
from domain.vpc import PrivateGateway, StaticRoute, Tier, Vpc, vpc_cidr
from domain.vpc_offering import VpcOfferingTerms


def _vpc(cidr: str = "10.10.0.0/16") -> Vpc:
    return Vpc("v", "v", uuid4(), uuid4(), uuid4(), uuid4(), cidr, "cs.internal", {}, id=uuid4())


def _names(vpc: Vpc) -> list[str]:
    return [type(e).__name__ for e in vpc.collect_events()]


def _item(acl: UUID, number: int = 1, protocol: str = "tcp") -> AclItem:
    return checked_item(AclItem(uuid4(), acl, number, protocol), AclItemInput(start_port=22))


def test_a_vpc_cidr_must_be_private_address_space() -> None:
    assert vpc_cidr("172.16.0.0/12") == "172.16.0.0/12"
    with pytest.raises(InvalidParameter, match="RFC 1918"):
        vpc_cidr("8.8.0.0/16")


def test_tiers_must_fit_inside_apart_and_below_the_limit() -> None:
    vpc = _vpc()
    vpc.add_tier(Tier(uuid4(), "a", "10.10.1.0/24", DEFAULT_DENY.id), 2)
    with pytest.raises(InvalidParameter, match="crosses other network cidr"):
        vpc.add_tier(Tier(uuid4(), "b", "10.10.1.128/25", DEFAULT_DENY.id), 2)
    with pytest.raises(InvalidParameter, match="is not within vpc"):
        vpc.add_tier(Tier(uuid4(), "b", "10.11.1.0/24", DEFAULT_DENY.id), 2)
    vpc.add_tier(Tier(uuid4(), "b", "10.10.2.0/24", DEFAULT_ALLOW.id), 2)
    with pytest.raises(InvalidParameter, match="can't extend 2"):
        vpc.add_tier(Tier(uuid4(), "c", "10.10.3.0/24", DEFAULT_DENY.id), 2)
    assert _names(vpc) == ["Created", "TierAdded", "TierAdded"]
    with pytest.raises(InvalidParameter, match="used by 2 networks"):
        vpc.delete()


def test_an_item_is_added_then_activated_or_removed_as_the_router_answers() -> None:
    vpc = _vpc()
    acl = uuid4()
    vpc.create_acl_list(acl, "web", "")
    kept, lost = _item(acl, 1), _item(acl, 2)
    keys = (vpc.add_item(kept), vpc.add_item(lost))
    with pytest.raises(InvalidParameter, match="already exists"):
        vpc.add_item(_item(acl, 1))
    vpc.settle(((keys[0],), ()), ok=True)
    vpc.settle(((keys[1],), ()), ok=False)
    assert [(i.number, i.state) for i in vpc.items_of(acl)] == [(1, "Active")]
    assert _names(vpc)[-2:] == ["ItemActivated", "ItemRemoved"]


def test_a_failed_change_puts_the_item_s_values_back() -> None:
    vpc = _vpc()
    acl = uuid4()
    vpc.create_acl_list(acl, "web", "")
    item = _item(acl)
    vpc.settle(((vpc.add_item(item),), ()), ok=True)
    changed = checked_item(vpc.item(item.id), AclItemInput(cidrs=("192.0.2.0/24",)))
    key = vpc.change_item(changed)
    assert vpc.item(item.id).cidrs == ("192.0.2.0/24",)
    with pytest.raises(InvalidState, match="being applied"):
        vpc.change_item(changed)
    vpc.settle(((key,), ()), ok=False)
    assert vpc.item(item.id).cidrs == ("0.0.0.0/0",)


def test_default_lists_and_lists_in_use_stay() -> None:
    vpc = _vpc()
    with pytest.raises(InvalidParameter, match="Default ACL cannot be modified"):
        vpc.add_item(_item(DEFAULT_ALLOW.id))
    with pytest.raises(InvalidParameter, match="cannot be removed"):
        vpc.delete_acl_list(DEFAULT_DENY.id)
    acl = uuid4()
    vpc.create_acl_list(acl, "web", "")
    vpc.add_tier(Tier(uuid4(), "a", "10.10.1.0/24", acl), 3)
    with pytest.raises(ResourceInUse, match="1 tier"):
        vpc.delete_acl_list(acl)
    tiers = vpc.applied_set()
    assert [(t["kind"], t["acl_id"]) for t in tiers] == [("tier", str(acl))]


def test_routes_go_through_a_ready_gateway_outside_the_vpc() -> None:
    vpc = _vpc()
    gateway = PrivateGateway(
        uuid4(), "500", uuid4(), "172.16.0.5", "172.16.0.1", "255.255.255.0", False, DEFAULT_DENY.id
    )
    key = vpc.add_gateway(gateway)
    route = StaticRoute(uuid4(), gateway.id, "192.168.0.0/24")
    with pytest.raises(InvalidState, match="not ready"):
        vpc.add_route(route)
    vpc.settle(((key,), ()), ok=True)
    with pytest.raises(InvalidParameter, match="outside of VPC cidr"):
        vpc.add_route(StaticRoute(uuid4(), gateway.id, "10.10.0.0/24"))
    vpc.settle(((vpc.add_route(route),), ()), ok=True)
    with pytest.raises(ResourceInUse, match="static route"):
        vpc.remove_gateway(gateway.id)
    with pytest.raises(ResourceInUse, match="private gateway"):
        vpc.delete()
    vpc.settle(((), (vpc.remove_route(route.id),)), ok=True)
    vpc.settle(((), (vpc.remove_gateway(gateway.id),)), ok=True)
    assert vpc.applied_set() == ()
    vpc.delete()


def test_vpc_offerings_and_tier_offerings_speak_4_3() -> None:
    terms = VpcOfferingTerms("o", "", {"Dhcp": [], "networkacl": ["vpcvirtualrouter"]}).checked()
    assert terms["services"] == {"Dhcp": ["VpcVirtualRouter"], "NetworkACL": ["VpcVirtualRouter"]}
    with pytest.raises(InvalidParameter, match="Service Firewall is not supported by VPC"):
        VpcOfferingTerms("o", "", {"Firewall": []}).checked()
    tier = OfferingTerms("t", "", "Isolated", {"Dhcp": ["VpcVirtualRouter"], "NetworkACL": []})
    assert tier.checked()["for_vpc"] is True
    with pytest.raises(InvalidParameter, match="NetworkACL is supported only"):
        OfferingTerms("t", "", "Isolated", {"NetworkACL": []}).checked()
    with pytest.raises(InvalidParameter, match="not supported in VPC"):
        OfferingTerms("t", "", "Isolated", {"Firewall": ["VpcVirtualRouter"]}).checked()
