"""Networks below the API, on SQLite and PostgreSQL: guest VLAN/VNI allocation at scale and
under concurrency, guest IPs and NICs of deployed VMs, public addresses and source NAT."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from commands import network_plumbing as plumbing
from commands import networks as net
from commands.network_claims import ALLOCATION_ATTEMPTS
from commands.network_offerings import network_offering_seed_id, seed_network_offerings
from commands.network_public_ips import (
    Acquire,
    CreateVlanIpRange,
    PublicPool,
    RangeRef,
    associate_ip_address,
    create_vlan_ip_range,
    disassociate_ip_address,
)
from domain.errors import InsufficientCapacity, InvalidParameter, ResourceInUse
from domain.infrastructure import Zone
from domain.network import Network, Nic
from domain.network_providers import default_element_id, default_provider_id
from domain.network_public_ip import PublicIp, public_ip_id
from entrypoint.installation import open_runtime
from stratus.runtime import Runtime
from stratus.settings import Settings

NETWORK: Any = Network  # events made by the library's decorator: type checkers cannot see them
ISOLATED = network_offering_seed_id("DefaultIsolatedNetworkOfferingWithSourceNatService")
PLAIN = network_offering_seed_id("DefaultIsolatedNetworkOffering")


@dataclass
class Fabric:
    """A store with a zone, one enabled physical network and the default offerings."""

    runtime: Runtime
    zone_id: UUID
    physical_id: UUID

    @property
    def store(self) -> Any:
        return self.runtime.store

    def network(self, offering: UUID = PLAIN, account: UUID | None = None, **terms: Any) -> UUID:
        command = net.CreateNetwork(
            "n", "", self.zone_id, offering, account or uuid4(), uuid4(), self.physical_id, **terms
        )
        outcome = net.create_network(self.store, command)
        assert outcome.id is not None
        return outcome.id

    def vnet(self, network_id: UUID) -> int | None:
        return self.store.get(Network, network_id).vnet


def _enable_router_provider(store: Any, physical_id: UUID) -> None:
    """The operator's step before guest networks can be implemented: the router element,
    then the VirtualRouter provider."""
    element = default_element_id(physical_id, "VirtualRouter")
    plumbing.configure_router_element(store, physical_id, element, True)
    provider = default_provider_id(physical_id, "VirtualRouter")
    plumbing.update_provider(store, plumbing.UpdateProvider(physical_id, provider, "Enabled"))


@pytest.fixture
def make_fabric(settings: Settings) -> Iterator[Any]:
    runtimes: list[Runtime] = []

    def make(isolation: str = "VLAN", vlan: str = "500-1000") -> Fabric:
        runtime = open_runtime(settings, projections=[])
        runtimes.append(runtime)
        zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
        runtime.store.save(zone)
        seed_network_offerings(runtime.store)
        physical = net.create_physical_network(
            runtime.store, net.CreatePhysicalNetwork(zone.id, "phys", isolation, vlan)
        )
        assert physical.id is not None
        net.update_physical_network(
            runtime.store, net.UpdatePhysicalNetwork(physical.id, state="Enabled")
        )
        _enable_router_provider(runtime.store, physical.id)
        return Fabric(runtime, zone.id, physical.id)

    yield make
    for runtime in runtimes:
        runtime.close()


def test_five_thousand_vxlan_networks_get_distinct_vnis(make_fabric) -> None:
    fabric = make_fabric("VXLAN", "5000-16000000")
    for _ in range(5000):
        fabric.network()
    created = fabric.store.recorder.select_notifications(
        0, 10_000, topics=[get_topic(NETWORK.Created)]
    )  # one read of every network's creation, rather than 5,000 loads
    uris = {fabric.store.mapper.to_domain_event(n).broadcast_uri for n in created}
    assert len(created) == len(uris) == 5000
    vnis = [int(uri.removeprefix("vxlan://")) for uri in uris]
    assert all(5000 <= v <= 16_000_000 for v in vnis)


def test_concurrent_creates_share_out_a_small_pool_without_duplicates(make_fabric) -> None:
    fabric = make_fabric("VXLAN", "7000-7039")
    made: list[UUID] = []
    errors: list[BaseException] = []

    def create(count: int) -> None:
        try:
            for _ in range(count):
                made.append(fabric.network())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create, args=(5,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(fabric.vnet(i) for i in made) == list(range(7000, 7040))
    with pytest.raises(InsufficientCapacity):
        fabric.network()


def test_a_deleted_network_gives_its_vlan_back_to_the_pool(make_fabric) -> None:
    fabric = make_fabric("VLAN", "100-101")
    first, second = fabric.network(), fabric.network()
    assert {fabric.vnet(first), fabric.vnet(second)} == {100, 101}
    with pytest.raises(InsufficientCapacity):
        fabric.network()
    freed = fabric.vnet(first)
    net.delete_network(fabric.store, net.DeleteNetwork(first))
    assert fabric.vnet(fabric.network()) == freed


def test_the_first_free_hint_is_taken_and_a_stale_hint_is_skipped(make_fabric) -> None:
    fabric = make_fabric("VLAN", "500-1000")
    assert fabric.vnet(fabric.network(preferred_vnets=(500, 501))) == 500
    assert fabric.vnet(fabric.network(preferred_vnets=(500, 501))) == 501


def test_a_shared_network_holds_its_vlan_against_isolated_ones(make_fabric) -> None:
    fabric = make_fabric("VLAN", "300-300")
    shared = network_offering_seed_id("DefaultSharedNetworkOffering")
    fabric.network(
        shared, vlan="300", gateway="192.168.5.1", netmask="255.255.255.0", start_ip="192.168.5.10"
    )
    with pytest.raises(InsufficientCapacity):
        fabric.network()
    with pytest.raises(InsufficientCapacity):
        fabric.network(
            shared, vlan="300", gateway="10.9.0.1", netmask="255.255.255.0", start_ip="10.9.0.5"
        )


def _nic(fabric: Fabric, network_id: UUID, account: UUID, vm_id: UUID | None = None, **ask):
    command = net.PrepareGuestNics(
        vm_id or uuid4(), account, fabric.zone_id, [net.NicRequest(network_id, **ask)]
    )
    return _saved_nic(fabric.store, command)


def _saved_nic(store: Any, command: net.PrepareGuestNics) -> Nic:
    """The NIC a deploy would take, saved as the deploy saves it (retried on a conflict)."""

    def attempt() -> Nic:
        (nic,), changed = net.guest_nics(store, command)
        store.save(*changed)
        return nic

    nic: Nic = store.run(attempt, attempts=ALLOCATION_ATTEMPTS)
    return nic


def test_guest_ips_are_unique_in_a_network_even_when_asked_concurrently(make_fabric) -> None:
    fabric = make_fabric()
    account = uuid4()
    network = fabric.network(account=account, cidr="10.7.0.0/28")  # 13 hosts besides the gateway
    found: list[str] = []

    def deploy() -> None:
        for _ in range(3):
            found.append(_nic(fabric, network, account).ip_address)

    threads = [threading.Thread(target=deploy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 12 and len(set(found)) == 12
    assert "10.7.0.1" not in found and all(ip.startswith("10.7.0.") for ip in found)
    taken = next(ip for ip in found)
    with pytest.raises(InsufficientCapacity):
        _nic(fabric, network, account, ip_address=taken)


def test_an_isolated_network_is_used_only_by_its_owner(make_fabric) -> None:
    fabric = make_fabric()
    network = fabric.network(account=uuid4())
    with pytest.raises(Exception, match="another account"):
        _nic(fabric, network, uuid4())


def _public_range(fabric: Fabric, start: str = "203.0.113.10", end: str = "203.0.113.11"):
    outcome = create_vlan_ip_range(
        fabric.store,
        CreateVlanIpRange(fabric.zone_id, "100", "203.0.113.1", "255.255.255.0", start, end),
    )
    assert outcome.id is not None
    return RangeRef(outcome.id, start, end)


def test_the_first_vm_implements_the_network_with_a_source_nat_address(make_fabric) -> None:
    fabric = make_fabric()
    account = uuid4()
    network_id = fabric.network(ISOLATED, account=account)
    pool = PublicPool(ranges=(_public_range(fabric),))
    nic = _nic(fabric, network_id, account, public=pool)
    network = fabric.store.get(Network, network_id)
    assert network.state == "Implemented" and network.source_nat_ip in (
        "203.0.113.10",
        "203.0.113.11",
    )
    assert (nic.gateway, nic.netmask, nic.is_default) == ("10.1.1.1", "255.255.255.0", True)
    source = fabric.store.get(PublicIp, public_ip_id(fabric.zone_id, network.source_nat_ip))
    assert source.source_nat and source.account_id == account
    with pytest.raises(InvalidParameter, match="source nat"):
        disassociate_ip_address(fabric.store, source.id)
    _nic(fabric, network_id, account, public=pool)  # already implemented: no second address
    other = associate_ip_address(
        fabric.store, Acquire(fabric.zone_id, account, uuid4(), network_id, pool)
    )
    with pytest.raises(InsufficientCapacity):
        associate_ip_address(fabric.store, Acquire(fabric.zone_id, account, uuid4(), None, pool))
    assert other.id is not None
    disassociate_ip_address(fabric.store, other.id)
    with pytest.raises(ResourceInUse):
        net.delete_network(fabric.store, net.DeleteNetwork(network_id, vms_using=1))
    net.delete_network(fabric.store, net.DeleteNetwork(network_id))
    assert not fabric.store.get(PublicIp, source.id).allocated


def test_overlapping_public_ranges_are_refused(make_fabric) -> None:
    fabric = make_fabric()
    existing = _public_range(fabric)
    with pytest.raises(InvalidParameter, match="overlaps"):
        create_vlan_ip_range(
            fabric.store,
            CreateVlanIpRange(
                fabric.zone_id,
                "100",
                "203.0.113.1",
                "255.255.255.0",
                "203.0.113.11",
                "203.0.113.20",
                existing=(existing,),
            ),
        )


def test_read_models_follow_networks_claims_nics_and_addresses(settings: Settings) -> None:
    runtime = open_runtime(settings)
    try:
        store = runtime.store
        assert seed_network_offerings(store) == 6 and seed_network_offerings(store) == 0
        zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
        store.save(zone)
        physical = net.create_physical_network(
            store, net.CreatePhysicalNetwork(zone.id, "p", "VXLAN", "9000-9009")
        ).id
        assert physical is not None
        net.update_physical_network(store, net.UpdatePhysicalNetwork(physical, state="Enabled"))
        _enable_router_provider(store, physical)
        account = uuid4()
        network = net.create_network(
            store,
            net.CreateNetwork("web", "", zone.id, ISOLATED, account, uuid4(), physical),
        ).id
        assert network is not None
        ref = create_vlan_ip_range(
            store,
            CreateVlanIpRange(
                zone.id, "100", "198.51.100.1", "255.255.255.0", "198.51.100.5", "198.51.100.6"
            ),
        ).id
        assert ref is not None
        pool = PublicPool(ranges=(RangeRef(ref, "198.51.100.5", "198.51.100.6"),))
        request = net.NicRequest(network, "10.1.1.7", public=pool)
        nic = _saved_nic(store, net.PrepareGuestNics(uuid4(), account, zone.id, [request]))
        assert nic.ip_address == "10.1.1.7"
        runtime.runner.catch_up()
        with runtime.db.read() as cursor:
            held = cursor.execute(
                "SELECT kind, value FROM network_claims WHERE holder_id IS NOT NULL ORDER BY kind"
            ).fetchall()
            assert [(r["kind"], r["value"]) for r in held] == [
                ("guest-ip", "10.1.1.7"),
                ("guest-vnet", str(store.get(Network, network).vnet)),
            ]
            row = cursor.execute(
                "SELECT state, source_nat_ip FROM networks WHERE id = %s", (str(network),)
            ).fetchone()
            assert row == {"state": "Implemented", "source_nat_ip": _source_nat(store, network)}
            addresses = cursor.execute(
                "SELECT address, state, source_nat FROM public_ips ORDER BY ordinal"
            ).fetchall()
            allocated = [r["address"] for r in addresses if r["state"] == "Allocated"]
            assert allocated == [row["source_nat_ip"]] and len(addresses) == 2
            names = cursor.execute(
                "SELECT name FROM network_offerings WHERE is_default = 1 ORDER BY name"
            ).fetchall()
            assert len(names) == 6  # three for networks, three for VPC tiers
    finally:
        runtime.close()


def _source_nat(store: Any, network_id: UUID) -> str | None:
    return store.get(Network, network_id).source_nat_ip
