"""What drivers do with a network's rule set: KVM keeps it in the router's domain metadata
(libvirt's test:///default here), the simulator in its worlds (and the report file a test in
another process reads); both keep the newest generation. The drivers that cannot drive
appliances yet answer a definitive "not supported"."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from adapters import Credentials, HypervisorError, VmSpec
from adapters.network_rules import RULE_ACTIONS
from adapters.requests import BadRequest, Unsupported
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.simulator.rules import RuleSets

RULE = {"id": "r1", "kind": "PortForwarding", "address": "203.0.113.5", "start_port": 22}
NEWER = {**RULE, "id": "r2", "start_port": 80}


def test_a_kvm_router_holds_the_newest_set_in_its_metadata() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.rules import held_rules

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    try:
        driver.start_vm(VmSpec("r-rules-1-VM", 1, 500, 256))
        apply = RULE_ACTIONS["apply_network_rules"]
        params = {"name": "r-rules-1-VM", "generation": 2, "rules": [RULE, NEWER]}
        assert apply(driver, params) == {"generation": 2, "rules": 2}
        assert apply(driver, {**params, "generation": 1, "rules": [RULE]})["generation"] == 2
        domain = driver._require().lookupByName("r-rules-1-VM")
        assert held_rules(domain) == (2, [RULE, NEWER])
        driver.stop_vm("r-rules-1-VM", forced=True)
        with pytest.raises(HypervisorError, match="not running"):
            apply(driver, {**params, "generation": 3})
    finally:
        driver.destroy_vm("r-rules-1-VM")
        driver.close()


BALANCER = {
    "id": "lb1",
    "kind": "LoadBalancing",
    "address": "203.0.113.5",
    "start_port": 443,
    "private_start": 8443,
    "protocol": "ssl",
    "algorithm": "roundrobin",
    "members": [{"vm_id": "v1", "vm_ip": "10.1.1.5"}],
    "stickiness": [{"name": "s", "method": "SourceBased", "params": {}}],
    "cert_id": "c1",
}


def test_a_kvm_router_holds_its_haproxy_configuration_but_no_key() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.rules import held_balancer

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    try:
        driver.start_vm(VmSpec("r-lb-1-VM", 1, 500, 256))
        params = {
            "name": "r-lb-1-VM",
            "generation": 1,
            "rules": [BALANCER],
            "certificates": [{"id": "c1", "certificate": "CERT\n", "chain": ""}],
            "secrets": {"ssl_keys": {"c1": "THE-KEY\n"}},
        }
        RULE_ACTIONS["apply_network_rules"](driver, params)
        domain = driver._require().lookupByName("r-lb-1-VM")
        config, digests = held_balancer(domain)
        assert "bind 203.0.113.5:443 ssl crt /etc/haproxy/certs/c1.pem" in config
        assert "stick on src" in config and "server 203_0_113_5-443_0 10.1.1.5:8443" in config
        assert set(digests) == {"c1"}
        assert "THE-KEY" not in domain.XMLDesc(0)
        with pytest.raises(BadRequest, match="no key for certificate c1"):
            RULE_ACTIONS["apply_network_rules"](driver, {**params, "generation": 2, "secrets": {}})
    finally:
        driver.destroy_vm("r-lb-1-VM")
        driver.close()


def test_the_simulator_keeps_the_newest_set_and_reports_it(tmp_path: Path) -> None:
    world = SimulatedWorld()
    world.rule_sets = RuleSets(str(tmp_path / "rules.json"))
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    driver.start_vm(VmSpec("r-2-VM", 1, 500, 256))
    apply = RULE_ACTIONS["apply_network_rules"]
    assert apply(driver, {"name": "r-2-VM", "generation": 2, "rules": [RULE]})["generation"] == 2
    assert driver.apply_network_rules("r-2-VM", 1, ()) == 2  # an older set changes nothing
    assert driver.apply_network_rules("r-2-VM", 2, ()) == 2  # nor does the same one again
    assert world.acted["apply_network_rules"] == 1
    report = json.loads((tmp_path / "rules.json").read_text())
    assert report["r-2-VM"]["generation"] == 2 and report["r-2-VM"]["rules"] == [RULE]
    assert report["r-2-VM"]["certificates"] == {}  # no load balancer: haproxy serves nothing
    assert "listen" not in report["r-2-VM"]["haproxy"]
    with pytest.raises(BadRequest):
        apply(driver, {"name": "r-2-VM", "generation": 3, "rules": "everything"})


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("adapters.vmware.driver", "VmwareDriver"),
        ("adapters.xenserver.driver", "XenServerDriver"),
        ("adapters.hyperv.driver", "HypervDriver"),
    ],
)
def test_drivers_without_appliances_cannot_apply_rules(module: str, name: str) -> None:
    try:
        driver = getattr(importlib.import_module(module), name)()
    except ImportError as missing:
        pytest.skip(f"{name} cannot load: {missing}")
    with pytest.raises(Unsupported, match="not supported"):
        driver.apply_network_rules("r-1", 1, (RULE,))
    with pytest.raises(Unsupported, match="not supported"):
        driver.apply_network_acls("r-1", 1, (TIER,))


TIER = {
    "network_id": "n1",
    "cidr": "10.10.1.0/24",
    "acl_id": "a1",
    "items": [{"id": "i1", "number": 1, "protocol": "tcp", "start_port": 22, "action": "Allow"}],
}


def test_a_kvm_vpc_router_holds_its_acls_beside_its_rules() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.rules import ACLS_URI, held_rules

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    try:
        driver.start_vm(VmSpec("r-acls-1-VM", 1, 500, 256))
        apply = RULE_ACTIONS["apply_network_acls"]
        assert apply(driver, {"name": "r-acls-1-VM", "generation": 3, "acls": [TIER]}) == {
            "generation": 3,
            "tiers": 1,
        }
        assert driver.apply_network_acls("r-acls-1-VM", 2, ()) == 3
        domain = driver._require().lookupByName("r-acls-1-VM")
        assert held_rules(domain, ACLS_URI) == (3, [TIER])
        assert held_rules(domain) == (0, [])  # the NAT and firewall set is another
    finally:
        driver.destroy_vm("r-acls-1-VM")
        driver.close()


def test_the_simulator_reports_a_vpc_router_s_acls(tmp_path: Path) -> None:
    world = SimulatedWorld()
    world.acl_sets = RuleSets(str(tmp_path / "acls.json"), balanced=False)
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    driver.start_vm(VmSpec("r-3-VM", 1, 500, 256))
    apply = RULE_ACTIONS["apply_network_acls"]
    assert apply(driver, {"name": "r-3-VM", "generation": 1, "acls": [TIER]})["generation"] == 1
    assert json.loads((tmp_path / "acls.json").read_text()) == {
        "r-3-VM": {"generation": 1, "rules": [TIER]}
    }
    with pytest.raises(BadRequest):
        apply(driver, {"name": "r-3-VM", "generation": 2, "acls": "all"})
