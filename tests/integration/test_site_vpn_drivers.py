"""What drivers do with a VPC's site-to-site VPN connections: KVM keeps each in the router's
domain metadata (libvirt's test:///default here) with a digest of its key and never the key,
the simulator in its world (and the report file a test in another process reads); both keep
the newest generation of each connection. A tunnel check answers the far gateways whose
connection another running router mirrors (same addresses crossed, networks crossed, key and
policies, one side active). The hypervisors that lack the capability are refused before a
request leaves, and their drivers answer a definitive "not supported"."""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

import pytest

from adapters import Credentials, HypervisorError, SiteVpnConfig, VmSpec
from adapters.requests import BadRequest, Unsupported
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.simulator.rules import RuleSets
from adapters.site_vpn import SITE_VPN_ACTIONS
from stratus.actions import lacking

ENDS = {
    "public_ip": "203.0.113.10",
    "vpc_cidr": "10.50.0.0/16",
    "peer_ip": "198.51.100.7",
    "peer_cidrs": "192.168.10.0/24",
    "ike_policy": "aes128-sha1;modp1536",
    "esp_policy": "aes256-sha1",
    "ike_lifetime": 86400,
    "esp_lifetime": 3600,
    "dpd": True,
    "passive": False,
}
KEY = "the-pre-shared-key"
configure = SITE_VPN_ACTIONS["configure_site_vpn"]
check = SITE_VPN_ACTIONS["check_site_vpns"]
# The far VPC's side of ENDS: its own address and networks are ENDS' far ones
MIRROR = {
    **ENDS,
    "public_ip": "198.51.100.7",
    "vpc_cidr": "192.168.10.0/24",
    "peer_ip": "203.0.113.10",
    "peer_cidrs": "10.50.0.0/16",
    "passive": True,
}


def _held(ends: dict[str, object], key: str = KEY, **changed: object) -> SiteVpnConfig:
    return SiteVpnConfig("c-" + str(ends["public_ip"]), 1, {**ends, **changed}, key)


def _tunnels(driver: object, name: str) -> list[str]:
    answer = check(driver, {"name": name, "host_id": "h", "peers": ["198.51.100.7", "192.0.2.1"]})
    assert answer["checked"] == ["198.51.100.7", "192.0.2.1"]
    return list(answer["connected"])


def _request(name: str, generation: int, **more: object) -> dict[str, object]:
    return {
        "name": name,
        "connection_id": "c1",
        "generation": generation,
        "ends": ENDS,
        "secrets": {"psk": KEY},
        **more,
    }


def test_a_kvm_vpc_router_holds_its_connections_in_its_metadata_without_the_key() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.site_vpn import SITE_VPN_URI, held_connections

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    name = "r-s2s-1-VM"
    try:
        driver.start_vm(VmSpec(name, 1, 500, 256))
        assert configure(driver, _request(name, 2)) == {"generation": 2, "connection_id": "c1"}
        assert configure(driver, _request(name, 1, removing=True))["generation"] == 2
        other = SiteVpnConfig("c2", 1, {**ENDS, "peer_ip": "198.51.100.8"}, "other-key")
        assert driver.configure_site_vpn(name, other) == 1
        domain = driver._require().lookupByName(name)
        held = held_connections(domain)
        assert held["c1"] == {
            "generation": 2,
            "ends": ENDS,
            "psk_sha256": hashlib.sha256(KEY.encode()).hexdigest(),
        }
        assert held["c2"]["ends"]["peer_ip"] == "198.51.100.8"
        assert KEY not in domain.metadata(2, SITE_VPN_URI, 1)  # ELEMENT, AFFECT_LIVE
        configure(driver, _request(name, 3, removing=True))
        assert held_connections(domain)["c1"] == {"generation": 3, "ends": None, "psk_sha256": None}
        driver.stop_vm(name, forced=True)
        with pytest.raises(HypervisorError, match="not running"):
            configure(driver, _request(name, 4))
    finally:
        driver.destroy_vm(name)
        driver.close()


def test_a_kvm_tunnel_is_up_when_another_router_of_the_host_mirrors_it() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    near, far = "r-s2s-near-VM", "r-s2s-far-VM"
    try:
        for name in (near, far):
            driver.start_vm(VmSpec(name, 1, 500, 256))
        driver.configure_site_vpn(near, _held(ENDS))
        assert _tunnels(driver, near) == []  # the far end holds nothing yet
        driver.configure_site_vpn(far, _held(MIRROR, key="another-key"))
        assert _tunnels(driver, near) == []  # the keys differ
        driver.configure_site_vpn(far, SiteVpnConfig("c-198.51.100.7", 2, MIRROR, KEY))
        assert _tunnels(driver, near) == ["198.51.100.7"]
        assert _tunnels(driver, far) == []  # it is asked about other gateways than its peer
        driver.stop_vm(far, forced=True)
        assert _tunnels(driver, near) == []
    finally:
        for name in (near, far):
            driver.destroy_vm(name)
        driver.close()


def test_a_simulated_tunnel_needs_both_ends_matching_and_one_active() -> None:
    driver = SimulatorDriver(SimulatedWorld())
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    for name in ("r-near-VM", "r-far-VM"):
        driver.start_vm(VmSpec(name, 1, 500, 256))
    driver.configure_site_vpn("r-near-VM", _held(ENDS))
    assert _tunnels(driver, "r-near-VM") == []
    mismatches = [
        {"peer_cidrs": "10.50.1.0/24"},  # not the near VPC's networks
        {"ike_policy": "3des-md5;modp1024"},
        {"esp_policy": "aes128-sha1"},
        {"peer_ip": "203.0.113.11"},
    ]
    for generation, changed in enumerate(mismatches, start=1):
        far = SiteVpnConfig("c-far", generation, {**MIRROR, **changed}, KEY)
        driver.configure_site_vpn("r-far-VM", far)
        assert _tunnels(driver, "r-near-VM") == [], changed
    driver.configure_site_vpn("r-far-VM", SiteVpnConfig("c-far", 9, MIRROR, KEY))
    assert _tunnels(driver, "r-near-VM") == ["198.51.100.7"]
    both_passive = SiteVpnConfig("c-" + ENDS["public_ip"], 2, {**ENDS, "passive": True}, KEY)
    driver.configure_site_vpn("r-near-VM", both_passive)
    assert _tunnels(driver, "r-near-VM") == []  # nobody starts the negotiation
    driver.stop_vm("r-far-VM", forced=True)
    with pytest.raises(HypervisorError, match="not running"):
        _tunnels(driver, "r-far-VM")
    with pytest.raises(BadRequest, match="peers"):
        check(driver, {"name": "r-near-VM", "peers": "198.51.100.7"})


def test_the_simulator_reports_each_connection_of_a_vpc_router(tmp_path: Path) -> None:
    world = SimulatedWorld()
    world.site_vpns = RuleSets(str(tmp_path / "site_vpns.json"), balanced=False)
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    driver.start_vm(VmSpec("r-4-VM", 1, 500, 256))
    assert configure(driver, _request("r-4-VM", 1))["generation"] == 1
    assert configure(driver, _request("r-4-VM", 1))["generation"] == 1  # the same one again
    assert world.acted["configure_site_vpn"] == 1
    text = (tmp_path / "site_vpns.json").read_text()
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert json.loads(text) == {
        "r-4-VM/c1": {"generation": 1, "rules": [{**ENDS, "psk_sha256": digest}]}
    }
    assert KEY not in text
    configure(driver, _request("r-4-VM", 2, removing=True))
    assert json.loads((tmp_path / "site_vpns.json").read_text())["r-4-VM/c1"]["rules"] == []
    with pytest.raises(BadRequest, match="pre-shared key"):
        configure(driver, {**_request("r-4-VM", 3), "secrets": {}})
    with pytest.raises(BadRequest, match="ends"):
        configure(driver, {**_request("r-4-VM", 3), "ends": {"peer_ip": "198.51.100.7"}})


@pytest.mark.parametrize(
    ("kind", "module", "name"),
    [
        ("vmware", "adapters.vmware.driver", "VmwareDriver"),
        ("xenserver", "adapters.xenserver.driver", "XenServerDriver"),
        ("hyperv", "adapters.hyperv.driver", "HypervDriver"),
    ],
)
def test_hypervisors_without_the_capability_answer_not_supported(
    kind: str, module: str, name: str
) -> None:
    assert "site-to-site-vpn" in (lacking(kind, "configure_site_vpn") or "")
    assert lacking("kvm", "configure_site_vpn") is None
    try:
        driver = getattr(importlib.import_module(module), name)()
    except ImportError as missing:
        pytest.skip(f"{name} cannot load: {missing}")
    with pytest.raises(Unsupported, match="not supported"):
        driver.configure_site_vpn("r-1", SiteVpnConfig("c1", 1, ENDS, KEY))
    assert "site-to-site-vpn" in (lacking(kind, "check_site_vpns") or "")
    with pytest.raises(Unsupported, match="not supported"):
        driver.check_site_vpns("r-1", ("198.51.100.7",))
