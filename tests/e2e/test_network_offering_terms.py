"""A network offering's terms through the `cs` client: its load balancers' connection limit and
keep-alive (which the network's simulated router runs in its haproxy configuration, read from
the file STRATUS_SIMULATOR_RULES names), persistent networks implemented when created, the
system offering its routers start with, its details, its place in listings, and the offerings
a network may change to. Bad input is refused as 4.3 refuses it and changes nothing."""

from __future__ import annotations

from typing import Any

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_load_balancer_policies import balancer_config
from tests.e2e.test_network_rules import refused
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import _deploy, _host, _place

BALANCED = "Dhcp,Dns,SourceNat,Firewall,Lb,PortForwarding,StaticNat"


def _router_offering(admin: CloudStack) -> dict[str, Any]:
    return admin.createServiceOffering(
        name="roomy-router",
        displaytext="roomy router",
        cpunumber=1,
        cpuspeed=500,
        memory=384,
        issystem="true",
        systemvmtype="domainrouter",
    )["serviceoffering"]


def _create(admin: CloudStack, name: str, **terms: Any) -> dict[str, Any]:
    terms.setdefault("guestiptype", "Isolated")
    terms.setdefault("supportedservices", BALANCED)
    return admin.createNetworkOffering(name=name, displaytext=name, traffictype="Guest", **terms)[
        "networkoffering"
    ]


def _names(client: CloudStack, **filters: Any) -> list[str]:
    return [o["name"] for o in client.listNetworkOfferings(**filters).get("networkoffering", [])]


def test_offering_terms_are_kept_answered_and_checked_as_4_3(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    routing = _router_offering(admin)
    made = _create(
        admin,
        "balanced",
        maxconnections=200,
        keepaliveenabled="true",
        ispersistent="true",
        serviceofferingid=routing["id"],
        **{"details[0].publiclbprovider": "virtualrouter"},
    )
    assert (made["maxconnections"], made["ispersistent"]) == (200, True)
    assert made["serviceofferingid"] == routing["id"]
    assert made["details"] == {"PublicLbProvider": "VirtualRouter"}
    listed = admin.listNetworkOfferings(id=made["id"])["networkoffering"][0]
    assert {k: listed[k] for k in ("maxconnections", "details", "serviceofferingid")} == {
        "maxconnections": 200,
        "details": {"PublicLbProvider": "VirtualRouter"},
        "serviceofferingid": routing["id"],
    }
    # An offering of the seeded ones names the router offering its routers start with
    (default,) = admin.listServiceOfferings(
        issystem="true", name="System Offering For Software Router"
    )["serviceoffering"]
    (isolated,) = admin.listNetworkOfferings(name=SOURCE_NAT_OFFERING)["networkoffering"]
    assert isolated["serviceofferingid"] == default["id"]

    # With the Lb service and no limit, the limit in force when it is made; without it, none
    assert _create(admin, "lb-default")["maxconnections"] == 4096
    admin.updateConfiguration(name="network.loadbalancer.haproxy.max.conn", value="1000")
    assert _create(admin, "lb-later")["maxconnections"] == 1000
    assert "maxconnections" not in _create(admin, "no-lb", supportedservices="Dhcp,Dns")

    before = admin.listNetworkOfferings()["count"]
    small = next(o for o in admin.listServiceOfferings()["serviceoffering"])
    shared = {"ispersistent": "true", "guestiptype": "Shared", "supportedservices": "Dhcp,Dns"}
    for text, bad in (
        ("Unsupported detail", {"details[0].colour": "red"}),
        ("not supported by the network offering", {"details[0].PublicLbProvider": "Netscaler"}),
        ("scheme Internal", {"details[0].InternalLbProvider": "VirtualRouter"}),
        ("cannot be used by virtual router", {"serviceofferingid": small["id"]}),
        ("Cannot find specified service offering", {"serviceofferingid": made["id"]}),
        ("isPersistent should be false", shared),
        ("maxconnections", {"maxconnections": 0}),
    ):
        terms = {"guestiptype": "Isolated", "supportedservices": BALANCED, **bad}
        assert text in refused(
            admin.createNetworkOffering,
            431,
            name="bad",
            displaytext="bad",
            traffictype="Guest",
            **terms,
        )
    assert admin.listNetworkOfferings()["count"] == before

    # Updates: the limits and the place in listings (ascending sort key, as 4.3)
    tenant = make_tenant(sandbox, admin)
    refused(tenant.client.updateNetworkOffering, 432, id=made["id"], maxconnections=5)
    changed = admin.updateNetworkOffering(
        id=made["id"], maxconnections=300, keepaliveenabled="false", sortkey=2
    )["networkoffering"]
    assert changed["maxconnections"] == 300
    refused(admin.updateNetworkOffering, 431, id=made["id"], maxconnections=-1)
    admin.updateNetworkOffering(id=_offering(admin, "lb-default")["id"], sortkey=1)
    assert _names(admin)[-2:] == ["lb-default", "balanced"]
    admin.updateNetworkOffering(id=made["id"], sortkey=-1)
    assert _names(admin)[0] == "balanced"


def test_a_network_lists_the_offerings_it_may_change_to(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _fabric(admin, place.zone)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    current = _offering(alice.client, SOURCE_NAT_OFFERING)
    network = alice.client.createNetwork(
        name="web", displaytext="web", networkofferingid=current["id"], zoneid=place.zone
    )["network"]
    enabled = _create(admin, "enabled-isolated")
    admin.updateNetworkOffering(id=enabled["id"], state="Enabled")
    _create(admin, "still-disabled")
    vlan = _create(admin, "own-vlan", specifyvlan="true")
    admin.updateNetworkOffering(id=vlan["id"], state="Enabled")

    names = _names(alice.client, networkid=network["id"])
    # Enabled, isolated, the same specifyvlan, not for VPC tiers, not its own
    assert sorted(names) == ["DefaultIsolatedNetworkOffering", "enabled-isolated"]
    assert _names(alice.client, networkid=network["id"], name="enabled-isolated") == [
        "enabled-isolated"
    ]
    refused(bob.client.listNetworkOfferings, 531, networkid=network["id"])
    refused(alice.client.listNetworkOfferings, 431, networkid=place.zone)

    # A persistent network is not made when no host could run its router
    persistent = _create(admin, "persistent", ispersistent="true")
    admin.updateNetworkOffering(id=persistent["id"], state="Enabled")
    refused(
        alice.client.createNetwork,
        534,
        name="p",
        displaytext="p",
        networkofferingid=persistent["id"],
        zoneid=place.zone,
    )
    assert [n["id"] for n in alice.client.listNetworks()["network"]] == [network["id"]]


def _running_router(admin: CloudStack, network_id: str) -> dict[str, Any] | None:
    found = routers(admin, networkid=network_id)
    return found[0] if found and found[0]["state"] == "Running" else None


def test_a_persistent_network_comes_up_and_balances_with_its_offerings_limits(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    routing = _router_offering(admin)
    offering = _create(
        admin,
        "persistent-lb",
        maxconnections=250,
        keepaliveenabled="true",
        ispersistent="true",
        serviceofferingid=routing["id"],
    )
    admin.updateNetworkOffering(id=offering["id"], state="Enabled")

    # Implemented when created: its router started with the offering's system offering
    network = alice.client.createNetwork(
        name="web", displaytext="web", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    assert (network["state"], network["ispersistent"]) == ("Implemented", True)
    (source_nat,) = alice.client.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    assert source_nat["associatednetworkid"] == network["id"]
    router = wait_for(lambda: _running_router(admin, network["id"]), 30)
    assert router, "the persistent network's router did not come up"
    assert router["serviceofferingid"] == routing["id"]
    plain = alice.client.createNetwork(
        name="plain",
        displaytext="plain",
        networkofferingid=_offering(alice.client, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]
    assert (plain["state"], plain["ispersistent"]) == ("Allocated", False)
    changed = alice.client.updateNetwork(
        id=plain["id"], networkofferingid=offering["id"], fetch_result=True
    )["network"]
    assert changed["state"] == "Implemented"  # changing to a persistent offering brings it up
    assert wait_for(lambda: _running_router(admin, plain["id"]), 30)

    # openfirewall=false opens nothing; by default a balancer's port is opened
    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    user = alice.client
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    closed = user.createLoadBalancerRule(
        publicipid=ip["id"], name="closed", algorithm="roundrobin", publicport=80,
        privateport=8080, openfirewall="false", fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    assert user.listFirewallRules(ipaddressid=ip["id"]) == {}
    user.assignToLoadBalancerRule(id=closed["id"], virtualmachineids=vm["id"], fetch_result=True)
    opened = user.createLoadBalancerRule(
        publicipid=ip["id"], name="opened", algorithm="roundrobin", publicport=443,
        privateport=8443, protocol="ssl", fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    (rule,) = user.listFirewallRules(ipaddressid=ip["id"])["firewallrule"]
    assert (rule["protocol"], rule["startport"], rule["cidrlist"]) == ("tcp", "443", "0.0.0.0/0")
    user.createPortForwardingRule(
        ipaddressid=ip["id"], privateport=22, publicport=2222, protocol="tcp",
        virtualmachineid=vm["id"], openfirewall="false", fetch_result=True,
    )  # fmt: skip
    assert len(user.listFirewallRules(ipaddressid=ip["id"])["firewallrule"]) == 1

    # The router's haproxy runs with the offering's limit and keep-alive
    def config() -> str:
        return balancer_config(sandbox, router)[0]

    assert wait_for(lambda: "\tmaxconn 250\n" in config(), 10), config()
    assert "\toption http-keep-alive" in config()
    assert f"\tserver {ip['ipaddress'].replace('.', '_')}-80_0 " in config()

    # A changed offering reaches the router with the network's next change of rules
    admin.updateNetworkOffering(id=offering["id"], maxconnections=300, keepaliveenabled="false")
    user.deleteLoadBalancerRule(id=opened["id"], fetch_result=True)
    assert user.listFirewallRules(ipaddressid=ip["id"]) == {}  # it went with its balancer
    assert wait_for(lambda: "\tmaxconn 300\n" in config(), 10), config()
    assert "keep-alive" not in config()
