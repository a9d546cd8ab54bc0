"""Ranges dedicated to a project and a project's service instance, through the `cs` client on
every leg: with `projectid` (and no `account`) a guest VLAN range, a public IP range and a new
public range are dedicated to the project's own account, answered with the project, and found
by `projectid`; naming an account beside the project is refused and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.factories import make_tenant
from tests.e2e.test_network_rules import refused
from tests.e2e.test_vms import _host, _place

PUBLIC = {
    "vlan": "120",
    "gateway": "198.51.100.1",
    "netmask": "255.255.255.0",
    "forvirtualnetwork": "true",
}


def _ids(answer: dict[str, Any], key: str) -> list[str]:
    return [item["id"] for item in answer.get(key, [])]


def test_ranges_are_dedicated_to_a_project_and_listed_by_it(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    project = alice.client.createProject(name="ops", displaytext="ops", fetch_result=True)[
        "project"
    ]
    pid = project["id"]
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone, name=f"pn-{uuid.uuid4().hex[:6]}", vlan="500-510", fetch_result=True
    )["physicalnetwork"]["id"]

    # Guest VLANs: the project's, not alongside an account, and found by the project
    vlans = {"physicalnetworkid": physical, "vlanrange": "505-507"}
    text = refused(admin.dedicateGuestVlanRange, 431, projectid=pid, account=bob.username, **vlans)
    assert "can't be specified together" in text
    missing = refused(admin.dedicateGuestVlanRange, 431, domainid=bob.domain_id, **vlans)
    assert missing.endswith("due to missing parameter account")
    assert admin.listDedicatedGuestVlanRanges(physicalnetworkid=physical) == {}
    vlan = admin.dedicateGuestVlanRange(projectid=pid, **vlans)["dedicatedguestvlanrange"]
    assert (vlan["projectid"], vlan["project"], vlan["domainid"]) == (
        pid,
        "ops",
        alice.domain_id,
    )
    theirs = admin.dedicateGuestVlanRange(
        physicalnetworkid=physical,
        vlanrange="508-509",
        account=bob.username,
        domainid=bob.domain_id,
    )["dedicatedguestvlanrange"]
    assert "projectid" not in theirs
    assert _ids(admin.listDedicatedGuestVlanRanges(projectid=pid), "dedicatedguestvlanrange") == [
        vlan["id"]
    ]
    (listed,) = admin.listDedicatedGuestVlanRanges(id=vlan["id"])["dedicatedguestvlanrange"]
    assert (listed["projectid"], listed["project"]) == (pid, "ops")

    # Public ranges: one made for the project, one dedicated to it afterwards
    made = admin.createVlanIpRange(
        zoneid=place.zone, startip="198.51.100.10", endip="198.51.100.12", projectid=pid, **PUBLIC
    )["vlan"]
    assert (made["projectid"], made["project"]) == (pid, "ops")
    plain = admin.createVlanIpRange(
        zoneid=place.zone, startip="198.51.100.20", endip="198.51.100.22", **PUBLIC
    )["vlan"]
    refused(admin.dedicatePublicIpRange, 431, id=plain["id"], projectid=pid, account="x")
    assert "projectid" not in admin.listVlanIpRanges(id=plain["id"])["vlaniprange"][0]
    dedicated = admin.dedicatePublicIpRange(id=plain["id"], projectid=pid)["vlan"]
    assert (dedicated["projectid"], dedicated["project"]) == (pid, "ops")
    assert sorted(_ids(admin.listVlanIpRanges(projectid=pid), "vlaniprange")) == sorted(
        [made["id"], plain["id"]]
    )
    other = admin.createProject(name="idle", displaytext="idle", fetch_result=True)["project"]
    assert admin.listVlanIpRanges(projectid=other["id"]) == {}
    # Only root administrators dedicate and list ranges, a project's as any other
    refused(alice.client.listVlanIpRanges, 432, projectid=pid)
    refused(alice.client.listDedicatedGuestVlanRanges, 432, projectid=pid)


def test_a_service_instance_is_made_for_a_project(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone, name=f"pn-{uuid.uuid4().hex[:6]}", vlan="500-510", fetch_result=True
    )["physicalnetwork"]["id"]
    admin.updatePhysicalNetwork(id=physical, state="Enabled", fetch_result=True)
    alice = make_tenant(sandbox, admin)
    project = alice.client.createProject(name="edge", displaytext="edge", fetch_result=True)[
        "project"
    ]
    (offering,) = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")[
        "networkoffering"
    ]

    def network(name: str) -> str:
        return alice.client.createNetwork(
            name=name,
            displaytext=name,
            zoneid=place.zone,
            networkofferingid=offering["id"],
            projectid=project["id"],
        )["network"]["id"]

    given = {
        "zoneid": place.zone,
        "name": "firewall",
        "leftnetworkid": network("inside"),
        "rightnetworkid": network("outside"),
        "templateid": place.template,
        "serviceofferingid": place.small["id"],
    }
    # The project's networks are not the administrator's own
    refused(admin.createServiceInstance, 431, **given)
    made = admin.createServiceInstance(projectid=project["id"], **given, fetch_result=True)[
        "serviceinstance"
    ]
    assert (made["name"], made["projectid"], made["project"]) == (
        "firewall",
        project["id"],
        "edge",
    )
