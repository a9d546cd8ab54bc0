"""What a new zone offers with nothing registered by hand, through the `cs` client: once it has
a cluster of a hypervisor, that hypervisor's built-in template is listed as featured and ready
for every tenant and VMs deploy from it, and its system VM template lets routers start.

Tests fetch no image from the internet: their servers name an image mirror that never resolves
(tests/conftest.py OFFLINE_MIRROR), and the simulator's adapter fetches nothing anyway.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import ensure_router, wait_for

NATS_ADAPTERS = ("simulator",)
BUILTIN = "CentOS 5.3(64-bit) no GUI (Simulator)"
SYSTEM = "SystemVM Template (Simulator)"
SIM = "simulator://{name}?sockets=1&cores=8&mhz=2000&memory_gb=16"


def _new_zone(admin: CloudStack, third: int) -> str:
    """A zone with one pod, one Simulator cluster and one host; no template registered."""
    zone = admin.createZone(
        name=f"new-{uuid.uuid4().hex[:6]}",
        networktype="Advanced",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
    )["zone"]["id"]
    pod = admin.createPod(
        name="p1",
        zoneid=zone,
        gateway=f"10.{third}.0.1",
        netmask="255.255.255.0",
        startip=f"10.{third}.0.10",
        endip=f"10.{third}.0.200",
    )["pod"]["id"]
    cluster = admin.addCluster(
        clustername="c1", podid=pod, zoneid=zone, hypervisor="Simulator", clustertype="CloudManaged"
    )["cluster"][0]["id"]
    admin.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="Simulator",
        url=SIM.format(name=f"h-{uuid.uuid4().hex[:6]}"),
        username="root",
        password="sim-password",
    )
    return zone


def _ready(client: CloudStack, name: str, zone: str, which: str) -> dict[str, Any] | None:
    listed = client.listTemplates(templatefilter=which, zoneid=zone).get("template", [])
    return next((t for t in listed if t["name"] == name and t.get("isready")), None)


def test_a_new_zone_offers_its_builtin_template_deploys_from_it_and_starts_routers(
    sandbox,
) -> None:
    admin = sandbox.client()
    zone = _new_zone(admin, 61)
    tenant = make_tenant(sandbox, admin)
    user = tenant.client

    builtin = wait_for(lambda: _ready(user, BUILTIN, zone, "featured"), 30)
    assert builtin, "the built-in template never became ready in the new zone"
    assert (builtin["templatetype"], builtin["format"], builtin["hypervisor"]) == (
        "BUILTIN",
        "VHD",
        "Simulator",
    )
    assert builtin["ostypename"] == "CentOS 5.3 (64-bit)"
    assert builtin["ispublic"] and builtin["isfeatured"] and builtin["crossZones"]
    names = {t["name"] for t in user.listTemplates(templatefilter="executable")["template"]}
    assert BUILTIN in names and SYSTEM not in names  # appliances' images are not for tenants
    system = wait_for(lambda: _ready(admin, SYSTEM, zone, "all"), 30)
    assert system and system["templatetype"] == "SYSTEM"

    small = next(
        o for o in user.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    vm = user.deployVirtualMachine(
        zoneid=zone, serviceofferingid=small["id"], templateid=builtin["id"], fetch_result=True
    )["virtualmachine"]
    assert (vm["state"], vm["templatename"]) == ("Running", BUILTIN)

    router = ensure_router(admin, zone, tenant)
    assert (router["state"], router["templateid"]) == ("Running", system["id"])

    with pytest.raises(CloudStackApiException) as refused:
        user.deleteTemplate(id=builtin["id"])
    assert refused.value.error["errorcode"] == 531


def test_every_zone_gets_the_same_builtin_template_once(sandbox) -> None:
    admin = sandbox.client()
    first, second = _new_zone(admin, 62), _new_zone(admin, 63)
    in_first = wait_for(lambda: _ready(admin, BUILTIN, first, "featured"), 30)
    in_second = wait_for(lambda: _ready(admin, BUILTIN, second, "featured"), 30)
    assert in_first and in_second and in_first["id"] == in_second["id"]
    # Another cluster in a zone that has the template asks for no second copy.
    pod = admin.listPods(zoneid=first)["pod"][0]["id"]
    admin.addCluster(
        clustername="c2",
        podid=pod,
        zoneid=first,
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )
    copies = admin.listTemplates(templatefilter="featured", id=in_first["id"], zoneid=first)
    assert copies["count"] == 1
