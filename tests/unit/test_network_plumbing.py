"""What a physical network carries, and pods' storage ranges: given-when-then, no I/O."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState, ResourceInUse
from domain.infrastructure import pod_range_end
from domain.network_physical import PhysicalNetwork
from domain.network_providers import Labels
from domain.network_storage import StorageIpRanges, checked_range


def _fabric() -> PhysicalNetwork:
    return PhysicalNetwork.create(uuid4(), uuid4(), "fabric", "VLAN", "100-199")


def _named(physical: PhysicalNetwork, name: str) -> UUID:
    return UUID(next(k for k, p in physical.providers.items() if p["name"] == name))


def _element_of(physical: PhysicalNetwork, provider_id: UUID) -> UUID:
    return UUID(
        next(k for k, x in physical.elements.items() if x["provider_id"] == str(provider_id))
    )


def _replayed(physical: PhysicalNetwork) -> PhysicalNetwork:
    copy = None
    for event in physical.collect_events():
        copy = event.mutate(copy)
    assert isinstance(copy, PhysicalNetwork)
    return copy


def test_a_new_physical_network_has_the_four_providers_of_4_3_all_disabled() -> None:
    physical = _fabric()
    assert {p["name"]: p["state"] for p in physical.providers.values()} == {
        "VirtualRouter": "Disabled",
        "VpcVirtualRouter": "Disabled",
        "InternalLbVm": "Disabled",
        "SecurityGroupProvider": "Disabled",
    }
    assert [x["enabled"] for x in physical.elements.values()] == [False, False, False]
    with pytest.raises(InvalidState, match="VirtualRouter"):
        physical.check_providers_ready({"SourceNat": ["VirtualRouter"]})


def test_a_router_provider_is_enabled_only_after_its_element() -> None:
    physical = _fabric()
    router = _named(physical, "VirtualRouter")
    with pytest.raises(InvalidState, match="not ready"):
        physical.update_provider(router, "Enabled", None)
    physical.configure_router_element(_element_of(physical, router), True)
    physical.update_provider(router, "enabled", None)
    physical.update_provider(_named(physical, "SecurityGroupProvider"), "Enabled", None)
    physical.check_providers_ready(
        {"Dhcp": ["VirtualRouter"], "SecurityGroup": ["SecurityGroupProvider"]}
    )
    physical.update_provider(router, "Shutdown", None)
    with pytest.raises(InvalidState, match="VirtualRouter"):
        physical.check_providers_ready({"Dhcp": ["VirtualRouter"]})
    assert _replayed(physical).providers[str(router)]["state"] == "Shutdown"


def test_providers_are_added_once_with_services_they_offer() -> None:
    physical = _fabric()
    vpc = _named(physical, "VpcVirtualRouter")
    with pytest.raises(InvalidParameter, match="already exists"):
        physical.add_provider(uuid4(), "vpcvirtualrouter", None)
    physical.delete_provider(vpc, networks_using=0)
    assert len(physical.elements) == 2  # its element went with it
    with pytest.raises(InvalidParameter, match="does not support"):
        physical.add_provider(uuid4(), "VpcVirtualRouter", ["Dhcp", "SecurityGroup"])
    with pytest.raises(InvalidParameter, match="Invalid network service provider"):
        physical.add_provider(uuid4(), "NoSuchProvider", None)
    netscaler = uuid4()
    physical.add_provider(netscaler, "netscaler", None)  # an external device's provider
    assert physical.providers[str(netscaler)]["services"] == ["Lb", "StaticNat"]
    added = uuid4()
    physical.add_provider(added, "VpcVirtualRouter", ["dns", "Dhcp"])
    assert physical.providers[str(added)]["services"] == ["Dhcp", "Dns"]
    with pytest.raises(InvalidParameter, match="type VirtualRouter"):
        physical.create_router_element(uuid4(), added, "VirtualRouter")
    physical.create_router_element(uuid4(), added, "VPCVirtualRouter")
    with pytest.raises(InvalidParameter, match="already has"):
        physical.create_router_element(uuid4(), added, "VPCVirtualRouter")
    with pytest.raises(ResourceInUse):
        physical.delete_provider(added, networks_using=2)


def test_a_traffic_type_is_carried_once_and_keeps_its_labels() -> None:
    physical = _fabric()
    guest = uuid4()
    physical.add_traffic_type(guest, "guest", Labels(kvm="cloudbr1"))
    with pytest.raises(InvalidParameter, match="already carries"):
        physical.add_traffic_type(uuid4(), "Guest", Labels())
    with pytest.raises(InvalidParameter, match="Invalid traffic type"):
        physical.add_traffic_type(uuid4(), "Control", Labels())
    physical.update_traffic_type(guest, Labels(vmware="vSwitch1"))
    assert _replayed(physical).traffic[str(guest)]["labels"] == {
        "kvm": "cloudbr1",
        "vmware": "vSwitch1",
    }
    with pytest.raises(ResourceInUse):
        physical.delete_traffic_type(guest, users=1)
    physical.delete_traffic_type(guest, users=0)
    assert physical.traffic == {}


def test_a_physical_network_recorded_before_providers_replays_with_them_enabled() -> None:
    created = _fabric().collect_events()[0]
    state = {k: v for k, v in created.__dict__.items() if k not in ("providers", "elements")}
    old = object.__new__(type(created))
    old.__dict__.update(state)
    physical = old.mutate(None)
    assert {p["state"] for p in physical.providers.values()} == {"Enabled"}
    physical.check_providers_ready({"SourceNat": ["VirtualRouter"]})


def test_a_pod_without_an_end_ip_ends_at_its_subnets_last_host() -> None:
    assert pod_range_end("10.1.0.1", "255.255.255.0") == "10.1.0.254"
    assert pod_range_end("172.16.4.1", "255.255.252.0") == "172.16.7.254"
    with pytest.raises(InvalidParameter):
        pod_range_end("10.1.0.1", "255.0.255.0")


def test_storage_ranges_of_a_pod_never_overlap() -> None:
    ranges = StorageIpRanges.for_pod(uuid4(), uuid4())
    pod = ("10.0.0.10", "10.0.0.99")
    first = uuid4()
    ranges.add(
        first, checked_range("10.0.0.100", "10.0.0.120", "10.0.0.1", "255.255.255.0", 5), pod
    )
    with pytest.raises(InvalidParameter, match="overlaps the range"):
        ranges.add(
            uuid4(), checked_range("10.0.0.120", None, "10.0.0.1", "255.255.255.0", None), pod
        )
    with pytest.raises(InvalidParameter, match="management range"):
        ranges.add(
            uuid4(), checked_range("10.0.0.90", "10.0.0.95", "10.0.0.1", "255.255.255.0", None), pod
        )
    with pytest.raises(InvalidParameter, match="subnet"):
        checked_range("10.0.1.5", None, "10.0.0.1", "255.255.255.0", None)
    with pytest.raises(InvalidParameter, match="vlan"):
        checked_range("10.0.0.5", None, "10.0.0.1", "255.255.255.0", 5000)
    ranges.update(first, {"end_ip": "10.0.0.110"}, pod)
    assert ranges.range(first)["end_ip"] == "10.0.0.110"
    ranges.delete(first)
    with pytest.raises(InvalidParameter):
        ranges.range(first)
