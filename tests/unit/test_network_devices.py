"""External network devices: the URL as 4.3 reads it, provider checks, capacity and dedication,
networks placed on a device, deletion and what a device holds alone. Given-when-then, no I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import DomainError, InsufficientCapacity, InvalidParameter, InvalidState
from domain.network_device import (
    DEFAULT_CAPACITY,
    KINDS,
    DeviceChange,
    DeviceSpec,
    NetworkDevice,
    check_provider,
    device_kind,
    parse_device_url,
)
from domain.values import Secret

NS_URL = "https://10.0.0.5?publicinterface=1/1&privateinterface=1/2&lbdevicecapacity=2"


def _netscaler(url: str = NS_URL) -> NetworkDevice:
    spec = DeviceSpec.from_url(
        KINDS["NetscalerVPXLoadBalancer"],
        uuid4(),
        url,
        physical_network_id=uuid4(),
        username="nsroot",
        password=Secret("s3cret"),
    )
    return NetworkDevice(uuid4(), **spec.fields())


def _replayed(device: NetworkDevice) -> NetworkDevice:
    copy = None
    for event in device.collect_events():
        copy = event.mutate(copy)
    assert isinstance(copy, NetworkDevice)
    return copy


def test_the_url_gives_the_device_address_and_its_options_as_4_3_parses_them() -> None:
    host, options = parse_device_url(
        "https://10.1.1.2:443/?PublicInterface=1/1&privateinterface=1/2&numretries=2&numretries=9"
    )
    assert host == "10.1.1.2"
    assert options == {"publicinterface": "1/1", "privateinterface": "1/2", "numretries": "2"}
    for bad in ("10.1.1.2", "https://", "http://[::1", "https://admin:secret@10.1.1.2"):
        with pytest.raises(InvalidParameter):
            parse_device_url(bad)


def test_a_device_takes_capacity_and_dedication_from_its_url_or_4_3s_defaults() -> None:
    device = _netscaler()
    assert (device.host, device.capacity, device.dedicated, device.state) == (
        "10.0.0.5",
        2,
        False,
        "Enabled",
    )
    plain = _netscaler(
        "https://10.0.0.6?publicinterface=a&privateinterface=b&lbdevicecapacity=lots"
        "&lbdevicededicated=TRUE"
    )
    assert (plain.capacity, plain.dedicated) == (DEFAULT_CAPACITY, True)
    assert plain.password == Secret("s3cret") and "s3cret" not in repr(plain.password)


def test_a_device_without_the_options_its_resource_needs_is_refused() -> None:
    with pytest.raises(DomainError, match="privateinterface"):
        DeviceSpec.from_url(KINDS["F5BigIpLoadBalancer"], uuid4(), "https://f5?publicinterface=1")
    with pytest.raises(DomainError, match="pavr"):
        DeviceSpec.from_url(
            KINDS["PaloAltoFirewall"],
            uuid4(),
            "https://pa?publicinterface=e1&privateinterface=e2&publicnetwork=u&privatenetwork=t",
        )
    spec = DeviceSpec.from_url(
        KINDS["JuniperSRXFirewall"],
        uuid4(),
        "https://srx?publicinterface=ge-0/0/1&privateinterface=ge-0/0/2&fwdevicecapacity=7",
    )
    assert spec.capacity() == 7  # a firewall reads its own option names


def test_the_device_type_is_one_the_command_allows() -> None:
    assert device_kind("netscalermpxloadbalancer", KINDS, "no").name == "NetscalerMPXLoadBalancer"
    with pytest.raises(InvalidParameter, match="Invalid F5"):
        device_kind("NetscalerMPXLoadBalancer", ("F5BigIpLoadBalancer",), "Invalid F5 device type")


def test_a_device_needs_its_provider_on_the_physical_network_not_shut_down() -> None:
    providers = [
        {"name": "Netscaler", "state": "Disabled"},
        {"name": "F5BigIp", "state": "Shutdown"},
    ]
    check_provider(providers, "Netscaler", "fabric")  # disabled is enough to add devices
    with pytest.raises(DomainError, match="PaloAlto is not enabled in the physical network"):
        check_provider(providers, "PaloAlto", "fabric")
    with pytest.raises(DomainError, match="shutdown state"):
        check_provider(providers, "F5BigIp", "fabric")


def test_networks_fill_a_device_up_to_its_capacity_and_block_its_deletion() -> None:
    device = _netscaler()
    first, second = uuid4(), uuid4()
    device.place_network(first)
    device.place_network(first)  # placing it again changes nothing
    device.place_network(second)
    with pytest.raises(DomainError, match="no capacity"):
        device.place_network(uuid4())
    with pytest.raises(DomainError, match="networks using this"):
        device.remove()
    device.release_network(first)
    device.release_network(second)
    device.remove()
    assert _replayed(device).removed
    with pytest.raises(InvalidState):
        device.place_network(first)


def test_configure_changes_capacity_and_dedication_as_4_3_allows() -> None:
    device = _netscaler()
    device.set_state("Disabled")
    device.configure(DeviceChange(capacity=0, dedicated=True, pod_ids=(uuid4(),)))
    replayed = _replayed(device)
    assert (replayed.capacity, replayed.dedicated, replayed.state) == (
        DEFAULT_CAPACITY,
        True,
        "Enabled",  # configuring enables the device, as in 4.3
    )
    assert len(replayed.pod_ids) == 1
    device.configure(DeviceChange(dedicated=False, capacity=2))
    device.place_network(uuid4())
    device.place_network(uuid4())
    with pytest.raises(DomainError, match="more number of networks"):
        device.configure(DeviceChange(capacity=1))
    with pytest.raises(DomainError, match="dedicated"):
        device.configure(DeviceChange(dedicated=True))
    with pytest.raises(DomainError, match="mode"):
        device.configure(DeviceChange(inline=True))
    with pytest.raises(InvalidParameter, match="negative"):
        device.configure(DeviceChange(capacity=-1))
    device.configure(DeviceChange(capacity=3))
    assert device.capacity == 3


def test_a_dedicated_device_takes_one_network_that_wants_a_device_of_its_own() -> None:
    device = _netscaler()
    device.configure(DeviceChange(dedicated=True))
    with pytest.raises(InsufficientCapacity, match="dedicated"):
        device.place_network(uuid4())  # a network of an offering that shares devices
    device.place_network(uuid4(), dedicated=True)
    with pytest.raises(InsufficientCapacity, match="no capacity"):
        device.place_network(uuid4(), dedicated=True)


def test_a_network_that_wants_a_device_of_its_own_takes_only_an_unused_one() -> None:
    device = _netscaler()
    device.place_network(uuid4())
    with pytest.raises(InsufficientCapacity, match="no capacity"):
        device.place_network(uuid4(), dedicated=True)


def test_a_disabled_device_takes_no_network_and_enabling_is_idempotent() -> None:
    device = _netscaler()
    device.set_state("Disabled")
    with pytest.raises(InvalidState, match="Disabled"):
        device.place_network(uuid4())
    device.set_state("Enabled")
    device.set_state("Enabled")
    assert [type(e).__name__ for e in device.collect_events()][-2:] == [
        "StateChanged",
        "StateChanged",
    ]
    with pytest.raises(InvalidParameter):
        device.set_state("Maintenance")


def test_what_a_device_holds_alone() -> None:
    zone, physical = uuid4(), uuid4()
    nvp = NetworkDevice(
        uuid4(), **DeviceSpec("NiciraNvp", zone, "nvp", physical_network_id=physical).fields()
    )
    assert [key for key, _ in nvp.claims()] == [f"{physical}:NiciraNvp"]
    monitor = NetworkDevice(uuid4(), **DeviceSpec("TrafficMonitor", zone, "mon").fields())
    assert [key for key, _ in monitor.claims()] == [f"{zone}:TrafficMonitor"]
    gslb = _netscaler(NS_URL + "&gslbprovider=true")
    assert [key.split(":")[1] for key, _ in gslb.claims()] == ["gslb"]
    assert _netscaler().claims() == []


def test_a_network_holding_a_device_alone_keeps_others_off_until_it_leaves() -> None:
    device = _netscaler()
    alone = uuid4()
    device.place_network(alone, dedicated=True)
    with pytest.raises(InsufficientCapacity, match="no capacity"):
        device.place_network(uuid4())
    device.release_network(alone)
    device.place_network(uuid4())
    assert len(_replayed(device).networks) == 1


def test_a_device_is_reached_by_its_adapter_kind_with_its_sealed_credentials() -> None:
    access = _netscaler().access()
    assert (access.hypervisor, access.username, access.password.reveal()) == (
        "netscaler",
        "nsroot",
        "s3cret",
    )
    assert KINDS["PaloAltoFirewall"].adapter == "paloalto"
    assert KINDS["F5BigIpLoadBalancer"].adapter == "f5bigip"  # no adapter: work fails at once
