"""Building a zone the way CloudStack's installation guide does, one step at a time.

`build_advanced_zone` runs `ADVANCED_STEPS` in order on a `ZoneBuild`; each step is a plain
function of the build, so a scenario that needs more of a zone (primary and secondary storage)
adds its steps to the sequence before the zone is enabled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cs import CloudStack

SIM_HOST = "simulator://{name}?sockets=1&cores=8&mhz=2000&memory_gb=16"


@dataclass
class ZoneBuild:
    """What the steps have made so far."""

    admin: CloudStack
    name: str = "zone-a"
    hypervisor: str = "Simulator"
    guest_vlans: str = "600-699"
    ids: dict[str, str] = field(default_factory=dict)


Step = Callable[[ZoneBuild], None]


def create_zone(build: ZoneBuild) -> None:
    zone = build.admin.createZone(
        name=build.name,
        networktype="Advanced",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        allocationstate="Disabled",
    )["zone"]
    build.ids["zone"] = zone["id"]


def create_physical_network(build: ZoneBuild) -> None:
    physical = build.admin.createPhysicalNetwork(
        zoneid=build.ids["zone"],
        name=f"{build.name}-fabric",
        isolationmethods="VLAN",
        fetch_result=True,
    )["physicalnetwork"]
    build.ids["physical"] = physical["id"]


def add_traffic_types(build: ZoneBuild) -> None:
    for traffic, label in (
        ("Management", "cloudbr0"),
        ("Public", "cloudbr1"),
        ("Guest", "cloudbr1"),
    ):
        build.admin.addTrafficType(
            physicalnetworkid=build.ids["physical"],
            traffictype=traffic,
            kvmnetworklabel=label,
            xennetworklabel=f"xen-{label}",
            fetch_result=True,
        )


def enable_physical_network(build: ZoneBuild) -> None:
    build.admin.updatePhysicalNetwork(
        id=build.ids["physical"], vlan=build.guest_vlans, state="Enabled", fetch_result=True
    )


def enable_virtual_router(build: ZoneBuild) -> None:
    enable_router_provider(build.admin, build.ids["physical"])


def enable_router_provider(
    admin: CloudStack, physical_id: str, name: str = "VirtualRouter"
) -> None:
    """What the guide does for a router provider: enable its element, then the provider."""
    provider = admin.listNetworkServiceProviders(physicalnetworkid=physical_id, name=name)[
        "networkserviceprovider"
    ][0]
    element = admin.listVirtualRouterElements(nspid=provider["id"])["virtualrouterelement"][0]
    admin.configureVirtualRouterElement(id=element["id"], enabled="true", fetch_result=True)
    admin.updateNetworkServiceProvider(id=provider["id"], state="Enabled", fetch_result=True)


def create_pod(build: ZoneBuild) -> None:
    pod = build.admin.createPod(
        name=f"{build.name}-pod",
        zoneid=build.ids["zone"],
        gateway="10.20.0.1",
        netmask="255.255.255.0",
        startip="10.20.0.10",
    )["pod"]
    build.ids["pod"] = pod["id"]


def create_public_range(build: ZoneBuild) -> None:
    build.admin.createVlanIpRange(
        zoneid=build.ids["zone"],
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.20",
        forvirtualnetwork="true",
    )


def add_cluster_and_host(build: ZoneBuild) -> None:
    cluster = build.admin.addCluster(
        clustername=f"{build.name}-cluster",
        podid=build.ids["pod"],
        zoneid=build.ids["zone"],
        hypervisor=build.hypervisor,
        clustertype="CloudManaged",
    )["cluster"][0]
    build.ids["cluster"] = cluster["id"]
    host = build.admin.addHost(
        zoneid=build.ids["zone"],
        podid=build.ids["pod"],
        clusterid=cluster["id"],
        hypervisor=build.hypervisor,
        url=SIM_HOST.format(name=f"{build.name}-h1"),
        username="root",
        password="sim-password",
    )["host"][0]
    build.ids["host"] = host["id"]


def enable_zone(build: ZoneBuild) -> None:
    build.admin.updateZone(id=build.ids["zone"], allocationstate="Enabled")


# The installation guide's order; storage steps go before `enable_zone`.
ADVANCED_STEPS: tuple[Step, ...] = (
    create_zone,
    create_physical_network,
    add_traffic_types,
    enable_physical_network,
    enable_virtual_router,
    create_pod,
    create_public_range,
    add_cluster_and_host,
    enable_zone,
)


def build_advanced_zone(build: ZoneBuild, steps: Sequence[Step] = ADVANCED_STEPS) -> ZoneBuild:
    for step in steps:
        step(build)
    return build
