"""A network's terms through the `cs` client: its DNS domain, IP reservation (guestvmcidr),
a shared network kept from subdomains, a private VLAN, forced deletes; a physical network's
speed, tag (chosen by offerings' tags), dedication and broadcast range; a basic zone's pod
ranges."""

from __future__ import annotations

from uuid import UUID

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template
from tests.e2e.test_vms import _deploy, _host, _place


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code
    return refused.value.error["errortext"]


def _network(client: CloudStack, zone: str, offering: dict, **extra) -> dict:
    return client.createNetwork(
        name="n", displaytext="n", networkofferingid=offering["id"], zoneid=zone, **extra
    )["network"]


def test_a_network_has_a_dns_domain_its_owner_may_change(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)

    default = _network(alice.client, place.zone, offering)
    assert default["networkdomain"] == f"cs{UUID(alice.account_id).hex[:8]}.cloud.internal"
    named = _network(alice.client, place.zone, offering, networkdomain="web.example.org")
    assert named["networkdomain"] == "web.example.org"
    _refused(_network, 431, client=alice.client, zone=place.zone, offering=offering,
             networkdomain="-bad-.example.org")  # fmt: skip

    changed = alice.client.updateNetwork(
        id=named["id"], networkdomain="shop.example.org", fetch_result=True
    )["network"]
    assert changed["networkdomain"] == "shop.example.org"
    listed = alice.client.listNetworks(id=named["id"])["network"][0]
    assert listed["networkdomain"] == "shop.example.org"
    alice.client.deleteNetwork(id=default["id"], fetch_result=True)  # the fabric has two ids

    admin.updateAccount(
        id=alice.account_id, newname=alice.username, networkdomain="alice.example.org"
    )
    inherited = _network(alice.client, place.zone, offering)
    assert inherited["networkdomain"] == "alice.example.org"
    alice.client.deleteNetwork(id=inherited["id"], fetch_result=True)

    no_dns = admin.createNetworkOffering(
        name="nodns", displaytext="nodns", guestiptype="Isolated", traffictype="Guest",
        supportedservices="Dhcp",
    )["networkoffering"]  # fmt: skip
    admin.updateNetworkOffering(id=no_dns["id"], state="Enabled")
    text = _refused(_network, 431, client=alice.client, zone=place.zone, offering=no_dns,
                    networkdomain="x.example.org")  # fmt: skip
    assert "Domain name change is not supported" in text
    assert "networkdomain" not in _network(alice.client, place.zone, no_dns)


def test_ip_reservation_keeps_vms_inside_the_guest_vm_cidr(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    network = _network(alice.client, place.zone, _offering(alice.client, SOURCE_NAT_OFFERING))
    reserve = alice.client.updateNetwork
    text = _refused(reserve, 431, id=network["id"], guestvmcidr="10.1.1.0/25", fetch_result=True)
    assert "Implemented state" in text  # no VM has used it yet

    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    assert vm["nic"][0]["ipaddress"] == "10.1.1.2"
    text = _refused(reserve, 431, id=network["id"], guestvmcidr="10.1.1.128/25", fetch_result=True)
    assert "Active IPs like 10.1.1.2 exist outside the Guest VM CIDR" in text
    _refused(reserve, 431, id=network["id"], guestvmcidr="10.1.2.0/25", fetch_result=True)
    _refused(
        bob.client.updateNetwork, 531, id=network["id"], guestvmcidr="10.1.1.0/25",
        fetch_result=True,
    )  # fmt: skip

    reserved = reserve(id=network["id"], guestvmcidr="10.1.1.0/25", fetch_result=True)["network"]
    assert (reserved["cidr"], reserved["networkcidr"], reserved["netmask"]) == (
        "10.1.1.0/25",
        "10.1.1.0/24",
        "255.255.255.0",
    )
    # 4.3 reserves what its VMs' hosts leave: the /25's broadcast address on.
    assert reserved["reservediprange"] == "10.1.1.127-10.1.1.254"
    text = _refused(
        _deploy, 431, client=alice.client, place=place, offering=place.small,
        networkids=network["id"], ipaddress="10.1.1.200",
    )  # fmt: skip
    assert "not in the range" in text
    inside = _deploy(alice.client, place, place.small, networkids=network["id"])
    assert inside["nic"][0]["ipaddress"] == "10.1.1.3"
    assert inside["nic"][0]["netmask"] == "255.255.255.0"

    whole = reserve(id=network["id"], guestvmcidr="10.1.1.0/24", fetch_result=True)["network"]
    assert whole["cidr"] == "10.1.1.0/24"
    assert "networkcidr" not in whole and "reservediprange" not in whole


def test_a_shared_network_may_be_kept_from_subdomains_and_ride_a_private_vlan(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    admin.createPhysicalNetwork(zoneid=place.zone, name="lan", fetch_result=True)
    child = admin.createDomain(name="child", parentdomainid=sandbox.domain_id)["domain"]
    parent_user = make_tenant(sandbox, admin)
    child_user = make_tenant(sandbox, admin, domain_id=child["id"])
    shared_offering = _offering(admin, "DefaultSharedNetworkOffering")
    plan = dict(gateway="192.168.60.1", netmask="255.255.255.0", startip="192.168.60.10")

    kept = _network(
        admin, place.zone, shared_offering, vlan="300", domainid=sandbox.domain_id,
        subdomainaccess="false", isolatedpvlan="301", **plan,
    )  # fmt: skip
    assert kept["subdomainaccess"] is False
    assert (kept["broadcasturi"], kept["broadcastdomaintype"]) == ("pvlan://300-i301", "Pvlan")
    open_to_all = _network(
        admin, place.zone, shared_offering, vlan="310", domainid=sandbox.domain_id,
        gateway="192.168.61.1", netmask="255.255.255.0", startip="192.168.61.10",
    )  # fmt: skip
    assert open_to_all["subdomainaccess"] is True

    def shared_ids(client: CloudStack) -> set[str]:
        return {n["id"] for n in client.listNetworks(type="Shared").get("network", [])}

    assert shared_ids(parent_user.client) == {kept["id"], open_to_all["id"]}
    assert shared_ids(child_user.client) == {open_to_all["id"]}
    assert child_user.client.listNetworks(id=kept["id"]) == {}
    _refused(
        child_user.client.deployVirtualMachine, 531, zoneid=place.zone,
        serviceofferingid=place.small["id"], templateid=place.template, networkids=kept["id"],
    )  # fmt: skip

    text = _refused(
        _network, 431, client=admin, zone=place.zone, offering=shared_offering, vlan="320",
        isolatedpvlan="320", **plan,
    )  # fmt: skip
    assert "same isolated or primary vlan" in text
    isolated = _offering(admin, SOURCE_NAT_OFFERING)
    text = _refused(_network, 431, client=parent_user.client, zone=place.zone,
                    offering=isolated, subdomainaccess="false")  # fmt: skip
    assert "aclType=Domain" in text


def test_only_a_root_admin_forces_a_network_delete(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    network = _network(alice.client, place.zone, _offering(alice.client, SOURCE_NAT_OFFERING))
    text = _refused(
        alice.client.deleteNetwork, 431, id=network["id"], forced="true", fetch_result=True
    )
    assert "root admins" in text
    admin.deleteNetwork(id=network["id"], forced="true", fetch_result=True)
    assert alice.client.listNetworks() == {}


def test_a_physical_network_has_a_speed_a_tag_a_domain_and_a_broadcast_range(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _fabric(admin, place.zone)  # untagged, for every domain
    other = admin.createDomain(name="other", parentdomainid=sandbox.domain_id)["domain"]
    alice = make_tenant(sandbox, admin)
    text = _refused(
        admin.createPhysicalNetwork, 431, zoneid=place.zone, name="x",
        broadcastdomainrange="POD", fetch_result=True,
    )  # fmt: skip
    assert "ZONE only in Advanced zone" in text
    _refused(
        admin.createPhysicalNetwork, 431, zoneid=place.zone, name="x", tags="a,b",
        fetch_result=True,
    )  # fmt: skip

    gold = admin.createPhysicalNetwork(
        zoneid=place.zone, name="gold", vlan="700-701", networkspeed="10G", tags="gold",
        fetch_result=True,
    )["physicalnetwork"]  # fmt: skip
    assert (gold["networkspeed"], gold["tags"], gold["broadcastdomainrange"]) == (
        "10G",
        "gold",
        "ZONE",
    )
    admin.updatePhysicalNetwork(id=gold["id"], state="Enabled", fetch_result=True)
    changed = admin.updatePhysicalNetwork(
        id=gold["id"], networkspeed="40G", tags="gold", fetch_result=True
    )["physicalnetwork"]
    assert changed["networkspeed"] == "40G"
    dedicated = admin.createPhysicalNetwork(
        zoneid=place.zone, name="theirs", vlan="800-801", domainid=other["id"],
        fetch_result=True,
    )["physicalnetwork"]  # fmt: skip
    assert dedicated["domainid"] == other["id"]
    listed = admin.listPhysicalNetworks(id=dedicated["id"])["physicalnetwork"][0]
    assert listed["domainid"] == other["id"]

    tagged = admin.createNetworkOffering(
        name="goldnet", displaytext="gold", guestiptype="Isolated", traffictype="Guest",
        supportedservices="Dhcp,Dns", tags="gold",
    )["networkoffering"]  # fmt: skip
    admin.updateNetworkOffering(id=tagged["id"], state="Enabled")
    network = _network(alice.client, place.zone, tagged)
    assert (network["physicalnetworkid"], network["vlan"]) == (gold["id"], "700")
    first = _network(alice.client, place.zone, _offering(alice.client, SOURCE_NAT_OFFERING))
    assert first["physicalnetworkid"] != dedicated["id"]
    text = _refused(
        _network, 431, client=admin, zone=place.zone, offering=tagged,
        physicalnetworkid=dedicated["id"], account=alice.username, domainid=alice.domain_id,
    )  # fmt: skip
    assert "dedicated to another domain" in text

    platinum = admin.createNetworkOffering(
        name="platnet", displaytext="platinum", guestiptype="Isolated", traffictype="Guest",
        supportedservices="Dhcp,Dns", tags="platinum",
    )["networkoffering"]  # fmt: skip
    admin.updateNetworkOffering(id=platinum["id"], state="Enabled")
    text = _refused(_network, 431, client=alice.client, zone=place.zone, offering=platinum)
    assert "match the tags platinum" in text


def test_a_basic_zone_pod_has_its_own_guest_range(sandbox) -> None:
    admin = sandbox.client()
    zone = admin.createZone(name="basic", networktype="Basic", dns1="8.8.8.8",
                            internaldns1="10.0.0.1")["zone"]  # fmt: skip
    pod = admin.createPod(
        name="rack", zoneid=zone["id"], gateway="10.2.0.1", netmask="255.255.255.0",
        startip="10.2.0.10", endip="10.2.0.50",
    )["pod"]  # fmt: skip
    physical = admin.createPhysicalNetwork(zoneid=zone["id"], name="flat", fetch_result=True)
    assert physical["physicalnetwork"]["broadcastdomainrange"] == "POD"
    guest = dict(gateway="10.2.0.1", netmask="255.255.255.0", forvirtualnetwork="false")
    text = _refused(admin.createVlanIpRange, 431, zoneid=zone["id"], podid=pod["id"],
                    startip="10.2.0.40", endip="10.2.0.60", **guest)  # fmt: skip
    assert "private ip range" in text
    made = admin.createVlanIpRange(
        zoneid=zone["id"], podid=pod["id"], startip="10.2.0.100", endip="10.2.0.150", **guest
    )["vlan"]
    assert (made["podid"], made["podname"], made["forvirtualnetwork"]) == (
        pod["id"],
        "rack",
        False,
    )
    zone_wide = admin.createVlanIpRange(
        zoneid=zone["id"], startip="10.2.0.200", endip="10.2.0.210", **guest
    )["vlan"]
    by_pod = admin.listVlanIpRanges(zoneid=zone["id"], podid=pod["id"])["vlaniprange"]
    assert [r["id"] for r in by_pod] == [made["id"]]
    assert "podid" not in zone_wide

    advanced = _place(admin)
    text = _refused(
        admin.createVlanIpRange, 431, zoneid=advanced.zone, podid=advanced.pod,
        gateway="198.51.100.1", netmask="255.255.255.0", startip="198.51.100.5",
        forvirtualnetwork="false",
    )  # fmt: skip
    assert "zone of type Basic" in text
    _refused(
        admin.createVlanIpRange, 431, zoneid=zone["id"], podid=advanced.pod, startip="10.2.0.220",
        **guest,
    )  # fmt: skip


def test_a_vpc_tier_takes_its_vpc_network_domain(sandbox) -> None:
    from tests.e2e.test_vpcs import _tier, _zone

    admin = sandbox.client()
    place = _zone(admin)
    alice = make_tenant(sandbox, admin)
    (offering,) = alice.client.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    vpc = alice.client.createVPC(
        name="shop", displaytext="shop", cidr="10.50.0.0/16", vpcofferingid=offering["id"],
        zoneid=place.zone, networkdomain="shop.example.org", fetch_result=True,
    )["vpc"]  # fmt: skip
    assert _tier(alice.client, place, vpc, 1)["networkdomain"] == "shop.example.org"
