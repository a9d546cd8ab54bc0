"""Networks whose offering names a device provider, through the `cs` client on every leg (on
NATS with the NetScaler and Palo Alto adapters as processes of their own): the network is placed
on a device of that provider, and the rules of the services that provider serves are applied by
its adapter on the device (stand-ins of NITRO and of the Palo Alto XML API that check every
call), not by the network's router. A device that fails leaves the rule as 4.3 does: a rule
being added is gone, its job failed with the device's reason."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack

from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import applied, job_refused, refused
from tests.e2e.test_networks import _fabric
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.support.certs import issued
from tests.support.network_devices import DeviceStandIn

NATS_ADAPTERS = ("simulator", "netscaler", "paloalto")
INTERFACES = "publicinterface=1/1&privateinterface=1/2"
PALO_OPTIONS = f"{INTERFACES}&publicnetwork=untrust&privatenetwork=trust&pavr=default"
ROUTER_SERVICES = ("Dhcp", "Dns", "UserData")


@pytest.fixture
def device() -> Iterator[DeviceStandIn]:
    stand_in = DeviceStandIn().start()
    yield stand_in
    stand_in.stop()


def _cloud(sandbox: Sandbox) -> tuple[CloudStack, Place, str, Tenant]:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    physical = _fabric(admin, place.zone)["id"]
    admin.updatePhysicalNetwork(id=physical, vlan="5000-5009", fetch_result=True)
    return admin, place, physical, make_tenant(sandbox, admin)


def _enable_provider(admin: CloudStack, physical: str, name: str) -> None:
    provider = admin.addNetworkServiceProvider(
        physicalnetworkid=physical, name=name, fetch_result=True
    )["networkserviceprovider"]
    admin.updateNetworkServiceProvider(id=provider["id"], state="Enabled", fetch_result=True)


def _offering(
    admin: CloudStack, provider: str, services: tuple[str, ...], **capabilities: str
) -> dict[str, Any]:
    """An isolated offering whose `services` are `provider`'s, the rest the router's; with
    `capabilities` (type: value) of its Lb service."""
    every = (*ROUTER_SERVICES, "SourceNat", "Firewall", "PortForwarding", "StaticNat", "Lb")
    params: dict[str, Any] = {}
    for n, (kind, value) in enumerate(capabilities.items()):
        params[f"servicecapabilitylist[{n}].service"] = "Lb"
        params[f"servicecapabilitylist[{n}].capabilitytype"] = kind
        params[f"servicecapabilitylist[{n}].capabilityvalue"] = value
    for n, service in enumerate(services):
        params[f"serviceproviderlist[{n}].service"] = service
        params[f"serviceproviderlist[{n}].provider"] = provider
    made = admin.createNetworkOffering(
        name=f"with-{provider}-{len(capabilities)}",
        displaytext=f"with {provider}",
        guestiptype="Isolated",
        traffictype="GUEST",
        supportedservices=",".join(sorted({*every, *services})),
        **params,
    )["networkoffering"]
    admin.updateNetworkOffering(id=made["id"], state="Enabled")
    return made


def _network(user: CloudStack, place: Place, offering: dict[str, Any], name: str) -> dict:
    return user.createNetwork(
        name=name, displaytext=name, networkofferingid=offering["id"], zoneid=place.zone
    )["network"]


def _running_router(admin: CloudStack, network: dict[str, Any]) -> dict[str, Any]:
    def running() -> dict | None:
        found = routers(admin, networkid=network["id"])
        return found[0] if found and found[0]["state"] == "Running" else None

    router = wait_for(running, 30)
    assert router, "the network's router did not come up"
    return router


def test_a_netscaler_balances_its_network_and_terminates_ssl(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin, place, physical, alice = _cloud(sandbox)
    user = alice.client
    text = refused(
        _offering, 431, admin=admin, provider="Netscaler", services=("Lb", "PortForwarding")
    )
    assert "Provider Netscaler doesn't support service PortForwarding" in text
    offering = _offering(admin, "Netscaler", ("Lb",))
    assert {s["name"]: s["provider"][0]["name"] for s in offering["service"]}["Lb"] == "Netscaler"

    # The provider must be enabled in the physical network, and have a device with room
    text = refused(_network, 431, user=user, place=place, offering=offering, name="shop")
    assert "Netscaler" in text and "not enabled" in text
    _enable_provider(admin, physical, "Netscaler")
    text = refused(_network, 533, user=user, place=place, offering=offering, name="shop")
    assert "Unable to find a Netscaler device" in text
    made = admin.addNetscalerLoadBalancer(
        physicalnetworkid=physical,
        url=device.url(f"{INTERFACES}&lbdevicecapacity=1"),
        username=device.username,
        password=device.password,
        networkdevicetype="NetscalerVPXLoadBalancer",
        fetch_result=True,
    )["netscalerloadbalancer"]
    network = _network(user, place, offering, "shop")
    placed = admin.listNetscalerLoadBalancerNetworks(lbdeviceid=made["lbdeviceid"])
    assert [n["id"] for n in placed["network"]] == [network["id"]]
    text = refused(_network, 533, user=user, place=place, offering=offering, name="full")
    assert "Unable to find a Netscaler device with free capacity" in text
    job_refused(admin.deleteNetscalerLoadBalancer, 530, lbdeviceid=made["lbdeviceid"])
    shared_networks(admin, user, place, physical, device)

    web, db = (_deploy(user, place, place.small, networkids=network["id"]) for _ in range(2))
    router = _running_router(admin, network)
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    tag = network["id"].replace("-", "")[:8]

    # A plain balancer: an lbvserver on the address, a service per member, bound to it
    plain = user.createLoadBalancerRule(
        publicipid=ip["id"], name="web", algorithm="leastconn", publicport=80, privateport=8080,
        fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    assert plain["state"] == "Active"
    user.assignToLoadBalancerRule(
        id=plain["id"], virtualmachineids=f"{web['id']},{db['id']}", fetch_result=True
    )
    servers = device.nitro["lbvserver"]
    (server,) = servers.values()
    assert server["name"].startswith(f"Cloud-VS-{tag}-")
    assert (server["ipv46"], server["port"], server["servicetype"], server["lbmethod"]) == (
        ip["ipaddress"], 80, "TCP", "LEASTCONNECTION",
    )  # fmt: skip
    members = {s["ip"]: s for s in device.nitro["service"].values()}
    assert set(members) == {web["nic"][0]["ipaddress"], db["nic"][0]["ipaddress"]}
    assert {s["port"] for s in members.values()} == {8080}
    assert {v for v, _ in device.service_bindings} == {server["name"]}
    assert len(device.service_bindings) == 2
    assert [r for r in applied(sandbox, router) if r["kind"] == "LoadBalancing"] == []

    # SSL termination: the certificate and key uploaded, made a certkey, bound to the server
    made_cert = issued("shop.example.com")
    cert = user.uploadSslCert(certificate=made_cert.certificate, privatekey=made_cert.key)[
        "sslcert"
    ]
    secure = user.createLoadBalancerRule(
        publicipid=ip["id"], name="secure", algorithm="roundrobin", publicport=443,
        privateport=8443, protocol="ssl", fetch_result=True,
    )["loadbalancer"]  # fmt: skip
    user.assignToLoadBalancerRule(id=secure["id"], virtualmachineids=web["id"], fetch_result=True)
    user.assignCertToLoadBalancer(certid=cert["id"], lbruleid=secure["id"], fetch_result=True)
    (certkey,) = device.nitro["sslcertkey"].values()
    files = device.nitro["systemfile"]
    assert base64.b64decode(files[certkey["cert"]]["filecontent"]).decode() == made_cert.certificate
    assert base64.b64decode(files[certkey["key"]]["filecontent"]).decode() == made_cert.key
    (ssl_server,) = [s for s in device.nitro["lbvserver"].values() if s["port"] == 443]
    assert ssl_server["servicetype"] == "SSL"
    assert device.cert_bindings == {(ssl_server["name"], certkey["certkey"])}
    assert made_cert.key not in str(user.listLoadBalancerRules(id=secure["id"]))

    # The device refuses: the rule being added is gone, its job failed with the reason
    device.refuse.add("lbvserver")
    text = job_refused(
        user.createLoadBalancerRule, 534, publicipid=ip["id"], name="broken",
        algorithm="roundrobin", publicport=8000, privateport=8000,
    )  # fmt: skip
    assert "the network device refused" in text and "Internal error while adding lbvserver" in text
    names = [r["name"] for r in user.listLoadBalancerRules(publicipid=ip["id"])["loadbalancerrule"]]
    assert sorted(names) == ["secure", "web"]
    device.refuse.clear()

    # Deleting rules takes their objects off the device
    user.deleteLoadBalancerRule(id=plain["id"], fetch_result=True)
    assert [s["port"] for s in device.nitro["lbvserver"].values()] == [443]
    assert [s["port"] for s in device.nitro["service"].values()] == [8443]
    user.removeCertFromLoadBalancer(lbruleid=secure["id"], fetch_result=True)
    assert device.cert_bindings == set() and device.nitro["sslcertkey"] == {}
    user.deleteLoadBalancerRule(id=secure["id"], fetch_result=True)
    assert device.nitro["lbvserver"] == {} and device.nitro["service"] == {}
    assert device.password not in str(admin.listNetscalerLoadBalancers(physicalnetworkid=physical))


def shared_networks(
    admin: CloudStack, user: CloudStack, place: Place, physical: str, device: DeviceStandIn
) -> None:
    """An offering whose load balancers are shared puts networks on one device up to its
    capacity; one that wants a device of its own takes only a device nobody uses (4.3's
    default, which the first network took), and a deleted network gives its place back."""
    text = refused(
        _offering, 431, admin=admin, provider="Netscaler", services=("Lb",),
        SupportedLBIsolation="shared", ElasticLb="true",
    )  # fmt: skip
    assert "ElasticLb" in text
    shared = _offering(admin, "Netscaler", ("Lb",), SupportedLBIsolation="shared")
    second = admin.addNetscalerLoadBalancer(
        physicalnetworkid=physical,
        url=device.url(f"{INTERFACES}&lbdevicecapacity=2"),
        username=device.username,
        password=device.password,
        networkdevicetype="NetscalerMPXLoadBalancer",
        fetch_result=True,
    )["netscalerloadbalancer"]
    a, b = (_network(user, place, shared, name) for name in ("a", "b"))
    placed = admin.listNetscalerLoadBalancerNetworks(lbdeviceid=second["lbdeviceid"])["network"]
    assert sorted(n["id"] for n in placed) == sorted((a["id"], b["id"]))
    refused(_network, 533, user=user, place=place, offering=shared, name="c")
    user.deleteNetwork(id=b["id"], fetch_result=True)
    placed = admin.listNetscalerLoadBalancerNetworks(lbdeviceid=second["lbdeviceid"])["network"]
    assert [n["id"] for n in placed] == [a["id"]]


def _entries(device: DeviceStandIn, place: str, tag: str) -> dict[str, str]:
    return {n: e for n, e in device.running.get(place, {}).items() if n.startswith(f"cs-{tag}-")}


def test_a_palo_alto_firewall_holds_its_networks_nat_and_security_rules(
    sandbox: Sandbox, device: DeviceStandIn
) -> None:
    admin, place, physical, alice = _cloud(sandbox)
    user = alice.client
    services = ("Firewall", "PortForwarding", "StaticNat", "SourceNat", "Gateway")
    text = refused(_offering, 431, admin=admin, provider="PaloAlto", services=("Lb",))
    assert "Provider PaloAlto doesn't support service Lb" in text
    offering = _offering(admin, "PaloAlto", services)
    _enable_provider(admin, physical, "PaloAlto")
    firewall = admin.addPaloAltoFirewall(
        physicalnetworkid=physical,
        url=device.url(PALO_OPTIONS),
        username=device.username,
        password=device.password,
        networkdevicetype="PaloAltoFirewall",
        fetch_result=True,
    )["paloaltofirewall"]
    network = _network(user, place, offering, "office")
    web = _deploy(user, place, place.small, networkids=network["id"])
    router = _running_router(admin, network)
    tag = network["id"].replace("-", "")[:8]
    (source_nat,) = user.listPublicIpAddresses(associatednetworkid=network["id"])["publicipaddress"]
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]

    # A firewall rule: a security rule to the address, committed with the network's source NAT
    ssh = user.createFirewallRule(
        ipaddressid=ip["id"], protocol="tcp", startport=22, endport=22, cidrlist="198.51.100.0/24",
        fetch_result=True,
    )["firewallrule"]  # fmt: skip
    assert ssh["state"] == "Active"
    (rule,) = _entries(device, "security", tag).values()
    assert "<member>198.51.100.0/24</member>" in rule and ip["ipaddress"] in rule
    assert "<port>22</port>" in next(iter(_entries(device, "service", tag).values()))
    (snat,) = _entries(device, "nat", tag).values()
    assert source_nat["ipaddress"] in snat and network["cidr"] in snat
    assert device.commits and set(device.commits) == {"OK"}

    # Port forwarding: destination translation to the VM's private port
    forward = user.createPortForwardingRule(
        ipaddressid=ip["id"], privateport=22, publicport=2222, protocol="tcp",
        virtualmachineid=web["id"], openfirewall="false", fetch_result=True,
    )["portforwardingrule"]  # fmt: skip
    assert forward["state"] == "Active"
    (dnat,) = [e for n, e in _entries(device, "nat", tag).items() if "-dnat-" in n]
    assert f"<translated-address>{web['nic'][0]['ipaddress']}</translated-address>" in dnat
    assert "<translated-port>22</translated-port>" in dnat

    # Static NAT on another address: a bi-directional static translation
    other = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    user.enableStaticNat(ipaddressid=other["id"], virtualmachineid=web["id"])
    wait_for(lambda: any("-stat-" in n for n in _entries(device, "nat", tag)), 30)
    (static,) = [e for n, e in _entries(device, "nat", tag).items() if "-stat-" in n]
    assert other["ipaddress"] in static and "<bi-directional>yes</bi-directional>" in static
    assert [r for r in applied(sandbox, router) if r["kind"] != "LoadBalancing"] == []

    # A commit that fails: the rule being added is gone, the device runs what it ran
    device.commit_fails = True
    before = {p: dict(e) for p, e in device.running.items()}
    text = job_refused(
        user.createFirewallRule, 534, ipaddressid=ip["id"], protocol="udp", startport=53,
        endport=53,
    )  # fmt: skip
    assert "network device" in text and "commit" in text
    ports = [r["startport"] for r in user.listFirewallRules(ipaddressid=ip["id"])["firewallrule"]]
    assert ports == ["22"]
    assert device.running == before
    device.commit_fails = False

    # Deleting takes the entries off the running configuration
    user.deleteFirewallRule(id=ssh["id"], fetch_result=True)
    assert list(_entries(device, "security", tag)) == []
    user.deletePortForwardingRule(id=forward["id"], fetch_result=True)
    assert [n for n in _entries(device, "nat", tag) if "-dnat-" in n] == []

    # An expunged VM's static NAT goes; a deleted network leaves nothing on the device
    admin.destroyVirtualMachine(id=web["id"], expunge="true", fetch_result=True)
    assert wait_for(lambda: not any("-stat-" in n for n in _entries(device, "nat", tag)), 30)
    user.deleteNetwork(id=network["id"], fetch_result=True)
    assert wait_for(lambda: not any(_entries(device, p, tag) for p in ("nat", "service")), 30)
    placed = admin.listPaloAltoFirewallNetworks(lbdeviceid=firewall["fwdeviceid"])
    assert placed.get("network", []) == []
    assert device.password not in str(admin.listPaloAltoFirewalls(physicalnetworkid=physical))
