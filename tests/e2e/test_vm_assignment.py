"""assignVirtualMachine moving a stopped VM's networks and security groups to its new account:
in an advanced zone its NICs go to the networks named (the new account's), else to the new
account's isolated network, made for it when it has none; in a zone with security groups the
VM joins the groups named (the new account's), else the new account's default group. Bad
input and other accounts' networks and groups are refused and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_network_rules import tenant_with_network
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _offering
from tests.e2e.test_security_groups_vpn import _basic_place
from tests.e2e.test_vms import _deploy, _host, _vm


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _nics(client: CloudStack, vm_id: str) -> list[tuple[str, bool]]:
    return [(n["networkid"], n["isdefault"]) for n in _vm(client, vm_id)["nic"]]


def _held(admin: CloudStack, network_id: str) -> set[str]:
    """The addresses of the network's VMs, as its NICs show them."""
    vms = admin.listVirtualMachines(networkid=network_id, listall=True).get("virtualmachine", [])
    return {n["ipaddress"] for vm in vms for n in vm["nic"] if n["networkid"] == network_id}


def test_a_vm_moves_to_the_new_accounts_network_made_for_it_or_named(sandbox) -> None:
    admin, alice, bob, network, (vm, other) = tenant_with_network(sandbox)
    for each in (vm, other):
        alice.client.stopVirtualMachine(id=each["id"], fetch_result=True)
    to_bob = {"virtualmachineid": vm["id"], "account": bob.username, "domainid": bob.domain_id}
    before = _vm(alice.client, vm["id"])["nic"][0]["ipaddress"]

    # Refused, changing nothing: security groups where the zone has none, alice's network, a
    # network that is not there.
    assert "security group feature is not enabled" in _refused(
        admin.assignVirtualMachine, 431, securitygroupids=network["id"], **to_bob
    )
    _refused(admin.assignVirtualMachine, 531, networkids=network["id"], **to_bob)
    _refused(
        admin.assignVirtualMachine, 431, networkids=admin.listZones()["zone"][0]["id"], **to_bob
    )
    assert _vm(alice.client, vm["id"])["account"] == alice.username
    assert _nics(alice.client, vm["id"]) == [(network["id"], True)]
    assert bob.client.listNetworks() == {}

    # Bob has no network: one is made for him, as 4.3 makes it, and the VM's NIC moves there.
    moved = admin.assignVirtualMachine(**to_bob)["virtualmachine"]
    (made,) = bob.client.listNetworks()["network"]
    assert made["name"] == f"{bob.username}-network"
    assert (moved["account"], [(n["networkid"], n["isdefault"]) for n in moved["nic"]]) == (
        bob.username,
        [(made["id"], True)],
    )
    assert before not in _held(admin, network["id"])  # alice's address was given back
    assert alice.client.listVirtualMachines(id=vm["id"]) == {}

    # Named, the network is used; with one isolated network, it is taken; with two, refused.
    physical = admin.listPhysicalNetworks(zoneid=network["zoneid"])["physicalnetwork"][0]
    admin.updatePhysicalNetwork(id=physical["id"], vlan="5000-5009", fetch_result=True)
    carol = make_tenant(sandbox, admin)
    offering = _offering(carol.client, SOURCE_NAT_OFFERING)["id"]
    own = carol.client.createNetwork(
        name="own", displaytext="own", zoneid=network["zoneid"], networkofferingid=offering
    )["network"]
    to_carol = {"account": carol.username, "domainid": carol.domain_id}
    admin.assignVirtualMachine(virtualmachineid=other["id"], networkids=own["id"], **to_carol)
    assert _nics(carol.client, other["id"]) == [(own["id"], True)]
    admin.assignVirtualMachine(**to_bob | {"virtualmachineid": other["id"]})
    assert _nics(bob.client, other["id"]) == [(made["id"], True)]
    assert len(bob.client.listNetworks()["network"]) == 1
    carol.client.createNetwork(
        name="more", displaytext="more", zoneid=network["zoneid"], networkofferingid=offering
    )
    back = {"virtualmachineid": other["id"], **to_carol}
    assert "More than 1" in _refused(admin.assignVirtualMachine, 431, **back)
    assert _vm(bob.client, other["id"])["account"] == bob.username

    # The new owner starts it on its new network; alice reaches it no more.
    started = bob.client.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running" and started["nic"][0]["networkid"] == made["id"]
    _refused(alice.client.assignVirtualMachine, 432, **to_bob)


def test_a_vm_in_a_zone_with_security_groups_joins_the_new_accounts_groups(sandbox) -> None:
    admin = sandbox.client()
    place = _basic_place(admin)
    _host(admin, place, "sg-host")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    web = alice.client.createSecurityGroup(name="web")["securitygroup"]
    vm = _deploy(alice.client, place, place.small, securitygroupids=web["id"])
    other = _deploy(alice.client, place, place.small, securitygroupids=web["id"])
    for each in (vm, other):
        alice.client.stopVirtualMachine(id=each["id"], fetch_result=True)
    to_bob = {"virtualmachineid": vm["id"], "account": bob.username, "domainid": bob.domain_id}

    # Refused, changing nothing: networks in a basic zone, alice's group.
    assert "basic zone" in _refused(admin.assignVirtualMachine, 431, networkids=web["id"], **to_bob)
    assert "does not belong" in _refused(
        admin.assignVirtualMachine, 431, securitygroupids=web["id"], **to_bob
    )
    assert [g["name"] for g in _vm(alice.client, vm["id"])["securitygroup"]] == ["web"]

    # None named: bob's default group (made for him).
    moved = admin.assignVirtualMachine(**to_bob)["virtualmachine"]
    assert [(g["name"]) for g in moved["securitygroup"]] == ["default"]
    (default,) = bob.client.listSecurityGroups(virtualmachineid=vm["id"])["securitygroup"]
    assert default["account"] == bob.username
    assert alice.client.listSecurityGroups(virtualmachineid=vm["id"]) == {}

    # Named: bob's own group.
    db = bob.client.createSecurityGroup(name="db")["securitygroup"]
    admin.assignVirtualMachine(
        virtualmachineid=other["id"], securitygroupids=db["id"],
        account=bob.username, domainid=bob.domain_id,
    )  # fmt: skip
    assert [g["id"] for g in _vm(bob.client, other["id"])["securitygroup"]] == [db["id"]]
    # Alice's group has no members left: she may delete it.
    alice.client.deleteSecurityGroup(id=web["id"])
    started = bob.client.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"
