"""Bare-metal servers, the host changes of this family and a zone's vCenter datacenter,
given-when-then on the aggregates: a server's address and checks, a bare-metal host's given
inventory, a host's new login carried by the next request, a released planner reservation, a
datacenter association that only its request's result settles, and a simulator host's
configured answers."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters import Credentials, HypervisorError, VmSpec
from adapters.simulator.driver import SimulatorDriver
from adapters.simulator.world import Mock, SimulatedWorld
from domain.baremetal import (
    DHCP,
    PING,
    PXE,
    ServerSpec,
    check_dhcp_type,
    check_provider,
    check_pxe_type,
    register,
    server_address,
)
from domain.errors import InvalidParameter, InvalidState
from domain.host import Host
from domain.simulator_mock import parse_values
from domain.values import Secret
from domain.vmware_datacenter import (
    ASSOCIATING,
    UNASSOCIATED,
    VmwareDatacenter,
    datacenter_id,
    vcenter_url,
)


def _spec(**given) -> ServerSpec:
    fields = {
        "kind": PXE,
        "server_type": PING,
        "physical_network_id": uuid4(),
        "zone_id": uuid4(),
        "url": "http://10.9.0.4",
        "username": "root",
        "password": "pxe-pw",
        "tftp_dir": "/tftpboot",
        "ping_dir": "/ping",
        "ping_storage_server_ip": "10.9.0.5",
        "ping_cifs_password": "cifs-pw",
    }
    return ServerSpec(**{**fields, **given})


def _host(hypervisor: str = "Simulator") -> Host:
    return Host(
        "h1", uuid4(), uuid4(), uuid4(), hypervisor, "simulator://h1", "root", Secret("old"),
        "Enabled", (),
    )  # fmt: skip


def test_a_server_is_found_at_the_host_of_its_url_or_at_a_bare_address() -> None:
    assert server_address("http://10.9.0.4:8080/x") == "10.9.0.4"
    assert server_address("10.9.0.4") == "10.9.0.4"
    with pytest.raises(InvalidParameter):
        server_address("http:///nothing")


def test_server_types_are_4_3_spellings_in_any_case() -> None:
    assert check_dhcp_type("dnsmasq") == "DNSMASQ"
    assert check_pxe_type("ping", PING) == PING
    with pytest.raises(InvalidParameter):
        check_dhcp_type("isc")
    with pytest.raises(InvalidParameter):
        check_pxe_type("KICK_START", PING)


def test_a_server_needs_its_provider_on_the_network_and_not_shut_down() -> None:
    provider = {"id": str(uuid4()), "state": "Disabled"}
    assert str(check_provider(provider, "BaremetalPxeProvider", "pn")) == provider["id"]
    with pytest.raises(InvalidState, match="not enabled"):
        check_provider(None, "BaremetalPxeProvider", "pn")
    with pytest.raises(InvalidState, match="shutdown"):
        check_provider({**provider, "state": "Shutdown"}, "BaremetalPxeProvider", "pn")


def test_a_ping_server_keeps_its_passwords_sealed_and_claims_its_pod() -> None:
    pod = uuid4()
    server = register(uuid4(), _spec(pod_id=pod), uuid4())
    assert isinstance(server.password, Secret) and isinstance(server.cifs_password, Secret)
    assert "pxe-pw" not in repr(server.collect_events()) and "cifs-pw" not in repr(server.details)
    assert _spec(pod_id=pod).claim_key() == f"pxe:pod:{pod}"
    zone = uuid4()
    assert _spec(kind=DHCP, server_type="DNSMASQ", zone_id=zone).claim_key() == f"dhcp:{zone}"


def test_a_pxe_server_needs_its_directories() -> None:
    with pytest.raises(InvalidParameter, match="TFTP"):
        register(uuid4(), _spec(tftp_dir=""), uuid4())
    with pytest.raises(InvalidParameter, match="PING"):
        register(uuid4(), _spec(ping_dir=""), uuid4())


def test_only_a_bare_metal_host_is_described_by_the_operator() -> None:
    bare = _host("BareMetal")
    bare.describe({"cpu_cores": 4, "memory_bytes": 8 << 30})
    assert bare.inventory["cpu_cores"] == 4 and bare.state == "Up"
    with pytest.raises(InvalidParameter):
        _host().describe({"cpu_cores": 4})


def test_the_next_request_to_a_host_carries_its_new_login() -> None:
    host = _host()
    host.change_credentials("admin", Secret("new"))
    host.collect_events()
    host.request_connect("r1", None)
    (requested,) = host.collect_events()
    assert (requested.username, requested.password.reveal()) == ("admin", "new")


def test_a_reservation_is_released_only_where_machines_hold_one() -> None:
    host = _host()
    with pytest.raises(InvalidParameter, match="no reservation"):
        host.release_reservation(())
    machine = uuid4()
    host.release_reservation((machine,))
    assert host.collect_events()[-1].machine_ids == [str(machine)]


def _datacenter() -> VmwareDatacenter:
    zone = uuid4()
    return VmwareDatacenter(id=datacenter_id(zone), zone_id=zone)


def test_a_zone_is_associated_only_by_the_result_of_its_request() -> None:
    datacenter = _datacenter()
    datacenter.request_association("r1", None, "DC0", "vc.example", ("admin", Secret("pw")))
    assert datacenter.guid == "dc0@vc.example" and datacenter.state == ASSOCIATING
    datacenter.request_association("r2", None, "DC0", "vc.example", ("admin", Secret("pw")))
    assert not datacenter.is_current("r1")  # the unanswered first request is superseded
    datacenter.associated("r2")
    with pytest.raises(InvalidState, match="already associated"):
        datacenter.request_association("r3", None, "DC1", "vc.example", ("a", Secret("p")))
    datacenter.request_release("r4", None)
    datacenter.released("r4", "the vCenter did not answer")
    assert datacenter.state == UNASSOCIATED
    with pytest.raises(InvalidState, match="not associated"):
        datacenter.request_release("r5", None)


def test_a_vcenter_is_its_https_sdk_unless_a_url_is_given() -> None:
    assert vcenter_url("vc.example") == "https://vc.example/sdk"
    assert vcenter_url("http://127.0.0.1:8989/sdk") == "http://127.0.0.1:8989/sdk"
    with pytest.raises(InvalidParameter):
        vcenter_url("two words")


def test_simulator_settings_are_4_3_pairs_with_milliseconds() -> None:
    assert parse_values("enabled:false;wait:1500") == (False, 1.5)
    assert parse_values("") == (True, 0.0)
    for bad in ("enabled:maybe", "wait:soon", "timeout:5", "wait:-1"):
        with pytest.raises(InvalidParameter):
            parse_values(bad)


def test_a_configured_simulator_host_fails_the_action_until_put_back(monkeypatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("adapters.simulator.world.time.sleep", slept.append)
    driver = SimulatorDriver(SimulatedWorld())
    driver.connect(Credentials("simulator://mocked", "root", "pw"))
    driver.start_vm(VmSpec(name="v1", cpu_number=1, cpu_speed_mhz=500, memory_mb=256))
    driver.configure_simulator("stop_vm", Mock(enabled=False, wait_seconds=2.0))
    with pytest.raises(HypervisorError, match="configured so"):
        driver.stop_vm("v1")
    assert slept[-1] == 2.0 and driver.vm_status("v1").state == "Running"
    driver.configure_simulator("stop_vm", None)
    assert driver.stop_vm("v1").state == "Stopped"
