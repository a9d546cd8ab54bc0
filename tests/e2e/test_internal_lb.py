"""Internal load balancing in a VPC tier through the `cs` client, on every leg: the InternalLbVm
provider enabled through its element, a tier on 4.3's internal LB offering, rules on a source
address that an internal load balancer VM (a system VM) runs in haproxy (read from the file
STRATUS_SIMULATOR_RULES), members, the VM stopped and started again, another tenant refused,
bad input refused with nothing changed, and the VM gone with the address's last rule."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from cs import CloudStack

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.hiding import assert_hidden, refused_flag
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import refused
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, wait_for
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.e2e.zones import enable_router_provider

ILB_OFFERING = "DefaultIsolatedNetworkOfferingForVpcNetworksWithInternalLB"
PLAIN_OFFERING = "DefaultIsolatedNetworkOfferingForVpcNetworks"


def held(sandbox: Sandbox, vm: dict[str, Any]) -> dict[str, Any]:
    """What the internal LB VM holds (generation, rules, haproxy), as the simulator reports."""
    path = Path(sandbox.env["STRATUS_SIMULATOR_RULES"])
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get(vm["name"], {}))


def enable_internal_lb(admin: CloudStack, physical_id: str) -> None:
    """The guide's order: the provider's element first, then the provider."""
    (provider,) = admin.listNetworkServiceProviders(
        physicalnetworkid=physical_id, name="InternalLbVm"
    )["networkserviceprovider"]
    assert "configureInternalLoadBalancerElement" in refused(
        admin.updateNetworkServiceProvider,
        431,
        id=provider["id"],
        state="Enabled",
        fetch_result=True,
    )
    (element,) = admin.listInternalLoadBalancerElements(nspid=provider["id"])[
        "internalloadbalancerelement"
    ]
    assert element == {"id": element["id"], "nspid": provider["id"], "enabled": False}
    assert "already has" in refused(
        admin.createInternalLoadBalancerElement, 431, nspid=provider["id"], fetch_result=True
    )
    configured = admin.configureInternalLoadBalancerElement(
        id=element["id"], enabled="true", fetch_result=True
    )["internalloadbalancerelement"]
    assert configured["enabled"] is True
    # A router's element is not an internal load balancer's, nor the other way round.
    routers = admin.listVirtualRouterElements()["virtualrouterelement"]
    assert element["id"] not in {r["id"] for r in routers}
    refused(admin.configureVirtualRouterElement, 431, id=element["id"], enabled="false")
    refused(admin.configureInternalLoadBalancerElement, 431, id=routers[0]["id"], enabled="false")
    admin.updateNetworkServiceProvider(id=provider["id"], state="Enabled", fetch_result=True)


def _zone(admin: CloudStack) -> Place:
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    physical = admin.createPhysicalNetwork(
        zoneid=place.zone, name="fabric", isolationmethods="VXLAN", vlan="7100-7109",
        fetch_result=True,
    )["physicalnetwork"]  # fmt: skip
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    enable_router_provider(admin, physical["id"], "VpcVirtualRouter")
    enable_internal_lb(admin, physical["id"])
    admin.createVlanIpRange(  # a VPC takes its source NAT address from it when it starts
        zoneid=place.zone,
        vlan="101",
        gateway="203.0.114.1",
        netmask="255.255.255.0",
        startip="203.0.114.10",
        endip="203.0.114.14",
        forvirtualnetwork="true",
    )
    return place


def _tier(client: CloudStack, place: Place, vpc: dict, offering: str, third: int) -> dict:
    (found,) = client.listNetworkOfferings(name=offering)["networkoffering"]
    return client.createNetwork(
        name=f"tier{third}",
        displaytext=f"tier {third}",
        networkofferingid=found["id"],
        zoneid=place.zone,
        vpcid=vpc["id"],
        gateway=f"10.70.{third}.1",
        netmask="255.255.255.0",
    )["network"]


def _balancing(tier: dict[str, Any]) -> dict[str, Any]:
    """An internal load balancer of the tier's guests: port 80 to their 8080."""
    return {
        "name": "app",
        "sourceport": 80,
        "instanceport": 8080,
        "algorithm": "roundrobin",
        "scheme": "Internal",
        "sourceipaddressnetworkid": tier["id"],
        "networkid": tier["id"],
    }


def _fields(command: str, items: list[dict[str, Any]]) -> None:
    expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
    assert expected <= set().union(*(set(item) for item in items)), command


def test_internal_load_balancers_run_on_a_vm_per_source_address(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    user = alice.client
    (offering,) = user.listNetworkOfferings(name=ILB_OFFERING)["networkoffering"]
    services = {s["name"]: [p["name"] for p in s["provider"]] for s in offering["service"]}
    assert services["Lb"] == ["InternalLbVm"] and offering["forvpc"] is True
    assert services["NetworkACL"] == ["VpcVirtualRouter"]
    (vpc_offering,) = user.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    vpc = user.createVPC(
        name="shop",
        displaytext="shop",
        cidr="10.70.0.0/16",
        vpcofferingid=vpc_offering["id"],
        zoneid=place.zone,
        fetch_result=True,
    )["vpc"]
    web = _tier(user, place, vpc, ILB_OFFERING, 1)
    plain = _tier(user, place, vpc, PLAIN_OFFERING, 2)
    vms = [_deploy(user, place, place.small, networkids=web["id"]) for _ in range(2)]
    addresses = [vm["nic"][0]["ipaddress"] for vm in vms]

    def create(**extra: Any) -> dict[str, Any]:
        params = {**_balancing(web), **extra}
        return dict(user.createLoadBalancer(fetch_result=True, **params)["loadbalancer"])

    # The first rule makes the address's VM; the rule is active once the VM holds it.
    app = create()
    source = app["sourceipaddress"]
    assert ipaddress.ip_address(source) in ipaddress.ip_network("10.70.1.0/24")
    assert source not in addresses
    assert app["loadbalancerrule"] == [{"sourceport": 80, "instanceport": 8080, "state": "Active"}]
    (vm,) = admin.listInternalLoadBalancerVMs(vpcid=vpc["id"], listall="true")[
        "internalloadbalancervm"
    ]
    assert (vm["state"], vm["role"], vm["guestipaddress"]) == ("Running", "INTERNAL_LB_VM", source)
    assert (vm["guestnetworkid"], vm["account"]) == (web["id"], alice.username)
    # The appliances of a VPC answer its network domain, the load balancer VM as the router.
    (router,) = admin.listRouters(vpcid=vpc["id"], listall="true")["router"]
    assert router["role"] == "VIRTUAL_ROUTER"
    assert vm["networkdomain"] == router["networkdomain"] == vpc["networkdomain"]
    listed_again = admin.listRouters(vpcid=vpc["id"], listall="true")["router"]
    assert [r["networkdomain"] for r in listed_again] == [vpc["networkdomain"]]  # kept JSON

    # Members: the tier's VMs; haproxy on the VM balances them.
    user.assignToLoadBalancerRule(
        id=app["id"], virtualmachineids=",".join(v["id"] for v in vms), fetch_result=True
    )
    (listed,) = user.listLoadBalancers(id=app["id"])["loadbalancer"]
    assert sorted(i["ipaddress"] for i in listed["loadbalancerinstance"]) == sorted(addresses)
    instances = user.listLoadBalancerRuleInstances(id=app["id"])["loadbalancerruleinstance"]
    assert {i["id"] for i in instances} == {v["id"] for v in vms}
    config = held(sandbox, vm)["haproxy"]
    assert f"bind {source}:80" in config
    assert all(f"{address}:8080 check" in config for address in addresses)

    # A second rule on the address joins the same VM; a port in use there is refused.
    tls = create(name="tls", sourceport=443, instanceport=8443, sourceipaddress=source)
    assert tls["sourceipaddress"] == source
    assert (
        len(
            admin.listInternalLoadBalancerVMs(vpcid=vpc["id"], listall="true")[
                "internalloadbalancervm"
            ]
        )
        == 1
    )
    assert "conflicts" in refused(
        user.createLoadBalancer,
        537,
        name="again",
        sourceport=80,
        instanceport=81,
        algorithm="leastconn",
        scheme="Internal",
        sourceipaddressnetworkid=web["id"],
        networkid=web["id"],
        sourceipaddress=source,
    )
    assert f"bind {source}:443" in held(sandbox, vm)["haproxy"]
    _fields("listLoadBalancers", user.listLoadBalancers()["loadbalancer"])
    _fields(
        "listInternalLoadBalancerVMs",
        admin.listInternalLoadBalancerVMs(listall="true")["internalloadbalancervm"],
    )
    _fields(
        "listInternalLoadBalancerElements",
        admin.listInternalLoadBalancerElements()["internalloadbalancerelement"],
    )

    # Bad input answers at once and changes nothing.
    base = {
        "name": "bad",
        "sourceport": 90,
        "instanceport": 90,
        "algorithm": "roundrobin",
        "scheme": "Internal",
        "sourceipaddressnetworkid": web["id"],
        "networkid": web["id"],
    }
    assert "scheme" in refused(user.createLoadBalancer, 431, **{**base, "scheme": "Public"})
    assert "InternalLbVm" in refused(
        user.createLoadBalancer,
        431,
        **{**base, "sourceipaddressnetworkid": plain["id"], "networkid": plain["id"]},
    )
    assert "same network" in refused(
        user.createLoadBalancer, 431, **{**base, "networkid": plain["id"]}
    )
    refused(user.createLoadBalancer, 431, **{**base, "sourceipaddress": "10.70.9.9"})
    refused(user.createLoadBalancer, 431, **{**base, "algorithm": "random"})
    refused(user.createLoadBalancer, 431, **{**base, "sourceport": 70000})
    assert "in use" in refused(
        user.createLoadBalancer, 533, **{**base, "sourceipaddress": addresses[0]}
    )
    assert len(user.listLoadBalancers()["loadbalancer"]) == 2
    assert user.listLoadBalancerRules().get("loadbalancerrule", []) == []

    # Another tenant sees and changes nothing.
    stranger = bob.client
    refused(stranger.createLoadBalancer, 531, **base)
    refused(stranger.deleteLoadBalancer, 531, id=app["id"])
    refused(stranger.assignToLoadBalancerRule, 531, id=app["id"], virtualmachineids=vms[0]["id"])
    assert stranger.listLoadBalancers().get("loadbalancer", []) == []
    assert stranger.listLoadBalancers(listall="true").get("loadbalancer", []) == []
    refused(stranger.listInternalLoadBalancerVMs, 432)

    # Stopped, the VM takes no change; started, it holds its set again.
    admin.stopInternalLoadBalancerVM(id=vm["id"], fetch_result=True)
    assert "not running" in refused(
        user.removeFromLoadBalancerRule, 534, id=app["id"], virtualmachineids=vms[0]["id"]
    )
    before = held(sandbox, vm)["generation"]
    started = admin.startInternalLoadBalancerVM(id=vm["id"], fetch_result=True)
    assert started["internalloadbalancervm"]["state"] == "Running"
    assert wait_for(lambda: held(sandbox, vm)["generation"] > before, 10)
    user.removeFromLoadBalancerRule(id=app["id"], virtualmachineids=vms[0]["id"], fetch_result=True)
    assert f"{addresses[0]}:8080" not in held(sandbox, vm)["haproxy"]

    # An expunged member leaves the balancer, on the VM too.
    admin.destroyVirtualMachine(id=vms[1]["id"], expunge="true", fetch_result=True)
    assert user.listLoadBalancerRuleInstances(id=app["id"]) == {}
    assert wait_for(lambda: f"{addresses[1]}:8080" not in held(sandbox, vm)["haproxy"], 10)

    # The address's last rule takes its VM and gives the address back.
    assert "scheme Internal" in refused(user.updateLoadBalancerRule, 431, id=tls["id"], name="x")
    # 4.3's deleteLoadBalancerRule deletes an internal load balancer too.
    assert user.deleteLoadBalancerRule(id=tls["id"], fetch_result=True) == {"success": True}
    assert f"bind {source}:443" not in held(sandbox, vm)["haproxy"]
    assert user.deleteLoadBalancer(id=app["id"], fetch_result=True) == {"success": True}
    assert user.listLoadBalancers().get("loadbalancer", []) == []

    def gone() -> bool:
        found = admin.listInternalLoadBalancerVMs(vpcid=vpc["id"], listall="true")
        return not found.get("internalloadbalancervm")

    assert wait_for(gone, 10)
    again = create(sourceipaddress=source)
    assert again["sourceipaddress"] == source
    (fresh,) = admin.listInternalLoadBalancerVMs(vpcid=vpc["id"], listall="true")[
        "internalloadbalancervm"
    ]
    assert fresh["id"] != vm["id"] and fresh["state"] == "Running"

    # A deleted tier takes its internal load balancers and their VM.
    spare = _tier(user, place, vpc, ILB_OFFERING, 3)
    create(sourceipaddressnetworkid=spare["id"], networkid=spare["id"])
    assert admin.listInternalLoadBalancerVMs(networkid=spare["id"], listall="true")[
        "internalloadbalancervm"
    ]
    user.deleteNetwork(id=spare["id"], fetch_result=True)
    assert wait_for(
        lambda: (
            not admin.listInternalLoadBalancerVMs(networkid=spare["id"], listall="true").get(
                "internalloadbalancervm"
            )
        ),
        10,
    )
    assert [lb["id"] for lb in user.listLoadBalancers()["loadbalancer"]] == [again["id"]]


def test_a_root_admin_hides_an_internal_load_balancer_and_a_tier(sandbox) -> None:
    admin = sandbox.client()
    place = _zone(admin)
    alice = make_tenant(sandbox, admin)
    user = alice.client
    (vpc_offering,) = user.listVPCOfferings(name="Default VPC offering")["vpcoffering"]
    vpc = user.createVPC(
        name="quiet", displaytext="quiet", cidr="10.70.0.0/16", vpcofferingid=vpc_offering["id"],
        zoneid=place.zone, fetch_result=True,
    )["vpc"]  # fmt: skip
    web = _tier(user, place, vpc, ILB_OFFERING, 1)
    params = _balancing(web)
    refused_flag(user.createLoadBalancer, **params, fordisplay="false")
    app = admin.createLoadBalancer(**params, fordisplay="false", fetch_result=True)["loadbalancer"]
    assert app["fordisplay"] is False
    assert_hidden(admin, user, "listLoadBalancers", "loadbalancer", app["id"])

    # A tier hidden by a root administrator is answered so inside its VPC too
    admin.updateNetwork(id=web["id"], displaynetwork="false", fetch_result=True)
    assert_hidden(admin, user, "listNetworks", "network", web["id"], "displaynetwork")
    (shown,) = admin.listVPCs(id=vpc["id"], listall="true")["vpc"]
    assert [n["displaynetwork"] for n in shown["network"]] == [False]
