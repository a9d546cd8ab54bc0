"""Building an advanced zone by the installation guide's sequence (physical network, traffic
types, router provider, pod, public range, cluster, host, enable), then using it; and the
plumbing commands an operator meets on the way: what they answer, what they refuse."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers
from tests.e2e.test_vms import _template
from tests.e2e.zones import (
    ADVANCED_STEPS,
    ZoneBuild,
    build_advanced_zone,
    enable_router_provider,
    enable_virtual_router,
)

SOURCE_NAT_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"


def _refused(call, code: int, **params) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code
    return refused.value.error["errortext"]


def _providers(admin: CloudStack, physical_id: str) -> dict[str, dict]:
    listed = admin.listNetworkServiceProviders(physicalnetworkid=physical_id)
    return {p["name"]: p for p in listed["networkserviceprovider"]}


def _deploy_in_network(client: CloudStack, build: ZoneBuild, template: str, network: str) -> dict:
    offering = client.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    return client.deployVirtualMachine(
        zoneid=build.ids["zone"],
        serviceofferingid=offering["id"],
        templateid=template,
        networkids=network,
        fetch_result=True,
    )["virtualmachine"]


def _isolated_network(client: CloudStack, build: ZoneBuild, name: str) -> dict:
    offering = client.listNetworkOfferings(name=SOURCE_NAT_OFFERING)["networkoffering"][0]
    return client.createNetwork(
        name=name, displaytext=name, networkofferingid=offering["id"], zoneid=build.ids["zone"]
    )["network"]


def test_an_advanced_zone_built_by_the_guide_runs_a_tenant_vm(sandbox) -> None:
    admin = sandbox.client()
    build = build_advanced_zone(ZoneBuild(admin, name="guide"))
    physical = build.ids["physical"]

    traffic = admin.listTrafficTypes(physicalnetworkid=physical)["traffictype"]
    assert {t["traffictype"]: t["kvmnetworklabel"] for t in traffic} == {
        "Management": "cloudbr0",
        "Public": "cloudbr1",
        "Guest": "cloudbr1",
    }
    assert all(t["xennetworklabel"].startswith("xen-") for t in traffic)
    providers = _providers(admin, physical)
    assert {name: p["state"] for name, p in providers.items()} == {
        "VirtualRouter": "Enabled",
        "VpcVirtualRouter": "Disabled",
        "InternalLbVm": "Disabled",
        "SecurityGroupProvider": "Disabled",
    }
    assert "SourceNat" in providers["VirtualRouter"]["servicelist"]
    assert providers["SecurityGroupProvider"]["servicelist"] == ["SecurityGroup"]
    pod = admin.listPods(id=build.ids["pod"])["pod"][0]
    assert (pod["startip"], pod["endip"]) == ("10.20.0.10", "10.20.0.254")  # the subnet's last
    assert admin.listZones(id=build.ids["zone"])["zone"][0]["allocationstate"] == "Enabled"

    register_template(admin, SYSTEM_TEMPLATE)
    template = _template(admin, build.ids["zone"])
    alice = make_tenant(sandbox, admin)
    network = _isolated_network(alice.client, build, "web")
    assert network["broadcasturi"] == "vlan://600"
    vm = _deploy_in_network(alice.client, build, template, network["id"])
    assert vm["state"] == "Running"
    seen = admin.listVirtualMachines(id=vm["id"], listall="true")["virtualmachine"][0]
    assert seen["hostid"] == build.ids["host"]
    assert vm["nic"][0]["networkid"] == network["id"]
    (router,) = routers(admin, networkid=network["id"])
    assert router["state"] == "Running"
    assert alice.client.listNetworks(id=network["id"])["network"][0]["state"] == "Implemented"


def test_a_network_is_implemented_only_once_its_providers_are_enabled(sandbox) -> None:
    admin = sandbox.client()
    steps = tuple(s for s in ADVANCED_STEPS if s is not enable_virtual_router)
    build = build_advanced_zone(ZoneBuild(admin, name="gated", guest_vlans="700-701"), steps)
    physical = build.ids["physical"]
    router_provider = _providers(admin, physical)["VirtualRouter"]
    # As 4.3: the provider is enabled only once its router element is.
    text = _refused(
        admin.updateNetworkServiceProvider,
        431,
        id=router_provider["id"],
        state="Enabled",
        fetch_result=True,
    )
    assert "configureVirtualRouterElement" in text
    assert _providers(admin, physical)["VirtualRouter"]["state"] == "Disabled"

    register_template(admin, SYSTEM_TEMPLATE)
    template = _template(admin, build.ids["zone"])
    alice = make_tenant(sandbox, admin)
    network = _isolated_network(alice.client, build, "gated")
    text = _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=build.ids["zone"],
        serviceofferingid=alice.client.listServiceOfferings(name="Small Instance")[
            "serviceoffering"
        ][0]["id"],
        templateid=template,
        networkids=network["id"],
        fetch_result=True,
    )
    assert "VirtualRouter" in text and "not enabled" in text
    assert alice.client.listVirtualMachines() == {}
    assert alice.client.listNetworks(id=network["id"])["network"][0]["state"] == "Allocated"
    assert routers(admin, networkid=network["id"]) == []

    enable_router_provider(admin, physical)
    vm = _deploy_in_network(alice.client, build, template, network["id"])
    assert vm["state"] == "Running"

    admin.updateNetworkServiceProvider(
        id=router_provider["id"], state="Shutdown", fetch_result=True
    )
    second = _isolated_network(alice.client, build, "second")
    _refused(alice.client.restartNetwork, 431, id=second["id"], fetch_result=True)


def test_traffic_types_and_providers_are_managed_and_checked(sandbox) -> None:
    admin = sandbox.client()
    zone = admin.createZone(
        name="plumbing", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    physical = admin.createPhysicalNetwork(zoneid=zone["id"], name="fabric", fetch_result=True)[
        "physicalnetwork"
    ]["id"]
    added = admin.addTrafficType(
        physicalnetworkid=physical,
        traffictype="guest",
        kvmnetworklabel="br-guest",
        fetch_result=True,
    )["traffictype"]
    assert (added["traffictype"], added["kvmnetworklabel"], added["physicalnetworkid"]) == (
        "Guest",
        "br-guest",
        physical,
    )
    assert "vmwarenetworklabel" not in added
    text = _refused(
        admin.addTrafficType,
        431,
        physicalnetworkid=physical,
        traffictype="Guest",
        fetch_result=True,
    )
    assert "already carries" in text
    _refused(
        admin.addTrafficType,
        431,
        physicalnetworkid=physical,
        traffictype="Bogus",
        fetch_result=True,
    )
    updated = admin.updateTrafficType(
        id=added["id"], vmwarenetworklabel="vSwitch1", fetch_result=True
    )["traffictype"]
    assert (updated["kvmnetworklabel"], updated["vmwarenetworklabel"]) == ("br-guest", "vSwitch1")

    # Providers: a removed default comes back by addNetworkServiceProvider, Disabled, with the
    # services asked for; its router element is created and configured apart.
    providers = _providers(admin, physical)
    vpc = providers["VpcVirtualRouter"]
    admin.deleteNetworkServiceProvider(id=vpc["id"], fetch_result=True)
    assert "VpcVirtualRouter" not in _providers(admin, physical)
    again = admin.addNetworkServiceProvider(
        physicalnetworkid=physical,
        name="VpcVirtualRouter",
        servicelist="Dhcp,Dns,SourceNat",
        fetch_result=True,
    )["networkserviceprovider"]
    assert (again["state"], sorted(again["servicelist"])) == (
        "Disabled",
        ["Dhcp", "Dns", "SourceNat"],
    )
    assert admin.listVirtualRouterElements(nspid=again["id"]) == {}
    _refused(
        admin.addNetworkServiceProvider,
        431,
        physicalnetworkid=physical,
        name="VirtualRouter",
        fetch_result=True,
    )
    _refused(
        admin.addNetworkServiceProvider,
        431,
        physicalnetworkid=physical,
        name="NoSuchProvider",
        fetch_result=True,
    )
    _refused(
        admin.addNetworkServiceProvider,
        431,
        physicalnetworkid=physical,
        name="InternalLbVm",
        servicelist="Dhcp",
        fetch_result=True,
    )
    _refused(
        admin.createVirtualRouterElement,
        431,
        nspid=again["id"],
        providertype="VirtualRouter",
        fetch_result=True,
    )
    element = admin.createVirtualRouterElement(
        nspid=again["id"], providertype="VPCVirtualRouter", fetch_result=True
    )["virtualrouterelement"]
    assert (element["nspid"], element["enabled"]) == (again["id"], False)
    admin.configureVirtualRouterElement(id=element["id"], enabled="true", fetch_result=True)
    assert (
        admin.listVirtualRouterElements(enabled="true", nspid=again["id"])["virtualrouterelement"][
            0
        ]["id"]
        == element["id"]
    )
    enabled = admin.updateNetworkServiceProvider(id=again["id"], state="enabled", fetch_result=True)
    assert enabled["networkserviceprovider"]["state"] == "Enabled"
    assert [
        p["name"]
        for p in admin.listNetworkServiceProviders(state="Enabled", physicalnetworkid=physical)[
            "networkserviceprovider"
        ]
    ] == ["VpcVirtualRouter"]

    # The catalogues.
    methods = admin.listNetworkIsolationMethods()["isolationmethod"]
    assert {m["name"] for m in methods} == {"VLAN", "VXLAN"}
    services = admin.listSupportedNetworkServices(provider="SecurityGroupProvider")
    assert [s["name"] for s in services["networkservice"]] == ["SecurityGroup"]
    lb = admin.listSupportedNetworkServices(service="Lb")["networkservice"][0]
    assert {p["name"] for p in lb["provider"]} == {
        "VirtualRouter",
        "VpcVirtualRouter",
        "InternalLbVm",
    }
    guest = admin.listTrafficTypeImplementors(traffictype="Guest")["traffictypeimplementor"]
    assert {i["traffictype"] for i in guest} == {"Guest"}

    # Tenants see and change none of it.
    alice = make_tenant(sandbox, admin)
    _refused(alice.client.listNetworkServiceProviders, 432)
    _refused(alice.client.listTrafficTypes, 432, physicalnetworkid=physical)
    _refused(alice.client.addTrafficType, 432, physicalnetworkid=physical, traffictype="Public")
    _refused(alice.client.configureVirtualRouterElement, 432, id=element["id"], enabled="false")
    _refused(alice.client.listVirtualRouterElements, 432)

    admin.deleteTrafficType(id=added["id"], fetch_result=True)
    assert admin.listTrafficTypes(physicalnetworkid=physical) == {}
    _refused(admin.deleteTrafficType, 431, id=added["id"])


def test_update_zone_applies_its_settings_and_names_match_in_any_case(sandbox) -> None:
    admin = sandbox.client()
    build = build_advanced_zone(
        ZoneBuild(admin, name="Settings"), (ADVANCED_STEPS[0], *ADVANCED_STEPS[5:6])
    )
    zone = admin.updateZone(
        id=build.ids["zone"],
        dns1="1.1.1.1",
        dns2="1.0.0.1",
        internaldns1="10.0.0.2",
        localstorageenabled="true",
        dhcpprovider="VirtualRouter",
    )["zone"]
    assert (zone["dns1"], zone["dns2"], zone["internaldns1"]) == ("1.1.1.1", "1.0.0.1", "10.0.0.2")
    assert zone["localstorageenabled"] is True
    listed = admin.listZones(id=build.ids["zone"])["zone"][0]
    assert (listed["dns1"], listed["localstorageenabled"]) == ("1.1.1.1", True)
    _refused(admin.updateZone, 431, id=build.ids["zone"], dns1="not-an-address")
    _refused(admin.updateZone, 431, id=build.ids["zone"], dhcpprovider="Netscaler")
    zone = admin.updateZone(
        id=build.ids["zone"], domain="cloud.example.org", ip6dns1="2001:db8::53"
    )["zone"]
    assert (zone["domain"], zone["ip6dns1"], zone["dns1"]) == (
        "cloud.example.org",
        "2001:db8::53",
        "1.1.1.1",
    )
    _refused(admin.updateZone, 431, id=build.ids["zone"], domain="not a domain")
    _refused(admin.updateZone, 431, id=build.ids["zone"], ip6dns2="10.0.0.1")
    _refused(admin.updateZone, 431, id=build.ids["zone"], **{"details[0].key": "k"})
    made = admin.createZone(
        name="with-domain",
        networktype="Advanced",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        domain="tenants.example.org",
        ip6dns2="2001:db8::54",
    )["zone"]
    assert (made["domain"], made["ip6dns2"]) == ("tenants.example.org", "2001:db8::54")
    assert "ip6dns1" not in made
    assert admin.listZones(id=build.ids["zone"])["zone"][0]["dns1"] == "1.1.1.1"

    assert admin.listZones(name="settings")["zone"][0]["id"] == build.ids["zone"]
    assert admin.listPods(name="SETTINGS-POD")["pod"][0]["id"] == build.ids["pod"]
    cluster = admin.addCluster(
        clustername="Rack-A-Cluster",
        podid=build.ids["pod"],
        zoneid=build.ids["zone"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    assert admin.listClusters(name="rack-a")["cluster"][0]["id"] == cluster["id"]
    assert admin.listClusters(name="rack_a") == {}  # literal: `_` is no wildcard


def test_a_zone_keeps_its_details_and_dns_search_order_and_can_be_made_public(sandbox) -> None:
    admin = sandbox.client()
    domain = admin.createDomain(name="zone-owners")["domain"]
    zone = admin.createZone(
        name="owned",
        networktype="Advanced",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        domainid=domain["id"],
        domain="owned.example.org",
    )["zone"]
    assert zone["domainid"] == domain["id"] and "resourcedetails" not in zone
    changed = admin.updateZone(
        id=zone["id"],
        **{"details[0].key": "cpu.note", "details[0].value": "fast"},
        **{"details[1].key": "rack", "details[1].value": "A"},
        dnssearchorder="corp.example.org,lab.example.org",
    )["zone"]
    expected = {
        "cpu.note": "fast",
        "rack": "A",
        "network.guestnetwork.dns.search.order": "corp.example.org,lab.example.org",
    }
    assert changed["resourcedetails"] == expected
    admin.updateZone(id=zone["id"], **{"details[0].key": "rack", "details[0].value": "B"})
    (listed,) = admin.listZones(id=zone["id"])["zone"]
    assert listed["resourcedetails"] == {**expected, "rack": "B"}
    assert listed["domainid"] == domain["id"]

    _refused(admin.updateZone, 431, id=zone["id"], dnssearchorder="ok.example.org,-bad-")
    _refused(admin.updateZone, 431, id=zone["id"], **{"details[0].value": "no key"})
    assert admin.listZones(id=zone["id"])["zone"][0]["resourcedetails"]["rack"] == "B"

    unchanged = admin.updateZone(id=zone["id"], ispublic="false")["zone"]
    assert (unchanged["domainid"], unchanged["domain"]) == (domain["id"], "owned.example.org")
    public = admin.updateZone(id=zone["id"], ispublic="true")["zone"]
    assert "domainid" not in public and "domain" not in public  # 4.3 clears both
    (listed,) = admin.listZones(id=zone["id"])["zone"]
    assert "domainid" not in listed and listed["resourcedetails"]["rack"] == "B"


def test_storage_network_ranges_of_a_pod_never_overlap(sandbox) -> None:
    admin = sandbox.client()
    build = build_advanced_zone(
        ZoneBuild(admin, name="storage"), (*ADVANCED_STEPS[:2], ADVANCED_STEPS[5])
    )
    pod = build.ids["pod"]  # its management range is 10.20.0.10-10.20.0.254
    made = dict(podid=pod, gateway="10.30.0.1", netmask="255.255.255.0", fetch_result=True)
    text = _refused(admin.createStorageNetworkIpRange, 431, startip="10.30.0.10", **made)
    assert "Storage traffic" in text
    admin.addTrafficType(
        physicalnetworkid=build.ids["physical"], traffictype="Storage", fetch_result=True
    )
    first = admin.createStorageNetworkIpRange(
        startip="10.30.0.10", endip="10.30.0.20", vlan="30", **made
    )["storagenetworkiprange"]
    assert (first["podid"], first["zoneid"], first["startip"], first["endip"], first["vlan"]) == (
        pod,
        build.ids["zone"],
        "10.30.0.10",
        "10.30.0.20",
        30,
    )
    single = admin.createStorageNetworkIpRange(startip="10.30.0.30", **made)[
        "storagenetworkiprange"
    ]
    assert single["endip"] == "10.30.0.30"  # no end: the range is its start alone
    for startip, endip in (("10.30.0.15", "10.30.0.25"), ("10.30.0.1", "10.30.0.5")):
        _refused(admin.createStorageNetworkIpRange, 431, startip=startip, endip=endip, **made)
    _refused(
        admin.createStorageNetworkIpRange,
        431,
        podid=pod,
        gateway="10.20.0.1",
        netmask="255.255.255.0",
        startip="10.20.0.100",
        fetch_result=True,
    )  # inside the pod's management range
    _refused(admin.createStorageNetworkIpRange, 431, startip="10.31.0.5", **made)
    _refused(
        admin.updateStorageNetworkIpRange,
        431,
        id=first["id"],
        endip="10.30.0.40",
        fetch_result=True,
    )
    updated = admin.updateStorageNetworkIpRange(
        id=first["id"], endip="10.30.0.25", fetch_result=True
    )["storagenetworkiprange"]
    assert (updated["startip"], updated["endip"]) == ("10.30.0.10", "10.30.0.25")
    listed = admin.listStorageNetworkIpRange(podid=pod)["storagenetworkiprange"]
    assert [(r["startip"], r["endip"]) for r in listed] == [
        ("10.30.0.10", "10.30.0.25"),
        ("10.30.0.30", "10.30.0.30"),
    ]
    alice = make_tenant(sandbox, admin)
    _refused(alice.client.listStorageNetworkIpRange, 432)
    _refused(alice.client.deleteStorageNetworkIpRange, 432, id=single["id"])
    admin.deleteStorageNetworkIpRange(id=single["id"], fetch_result=True)
    assert (
        len(admin.listStorageNetworkIpRange(zoneid=build.ids["zone"])["storagenetworkiprange"]) == 1
    )
