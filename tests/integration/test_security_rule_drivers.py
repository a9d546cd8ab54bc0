"""What every driver does with a VM's security group rules, and with a router's remote access VPN.

The simulator keeps rule sets in memory (a control file can make an apply fail); KVM defines an
nwfilter where libvirt has them and records the set in the domain's metadata (libvirt's test
driver has no nwfilters); XenServer hands the set to the host's vmops plugin and Hyper-V turns it
into extended port ACLs, each through its stand-in; VMware refuses, as CloudStack 4.3 does.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from adapters import Credentials, HypervisorError, VmSpec
from adapters.handlers import HANDLERS
from adapters.requests import BadRequest, Unsupported
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from adapters.simulator.security import digest
from tests.peers.model import HostShape

SSH = {"direction": "ingress", "protocol": "tcp", "start": 22, "end": 22, "cidr": "0.0.0.0/0"}
PING = {"direction": "ingress", "protocol": "icmp", "start": 8, "end": 0, "cidr": "10.0.0.0/8"}
DNS = {"direction": "egress", "protocol": "udp", "start": 53, "end": 53, "cidr": "8.8.8.8/32"}
APPLY = HANDLERS["apply_security_rules"]
CONFIGURE_VPN = HANDLERS["configure_remote_access_vpn"]


def _simulator(tmp_path: Path) -> tuple[SimulatorDriver, SimulatedWorld]:
    world = SimulatedWorld()
    world.appliances = type(world.appliances)(str(tmp_path / "control.json"))
    driver = SimulatorDriver(world)
    driver.connect(Credentials("simulator://h1", "root", "pw"))
    driver.start_vm(VmSpec("i-1-VM", 1, 500, 256))
    return driver, world


def test_the_simulator_holds_each_vms_rule_set_and_can_be_told_to_fail(tmp_path: Path) -> None:
    driver, world = _simulator(tmp_path)
    answer = APPLY(driver, {"name": "i-1-VM", "rules": [SSH, DNS]})
    assert answer == {"rule_count": 2}
    assert {r["cidr"] for r in world.firewalls.rules("i-1-VM")} == {"0.0.0.0/0", "8.8.8.8/32"}
    APPLY(driver, {"name": "i-1-VM", "rules": [SSH, DNS]})
    assert world.acted["apply_security_rules"] == 1  # the same set again changes nothing
    with pytest.raises(BadRequest):
        APPLY(driver, {"name": "i-1-VM", "rules": [{"direction": "sideways"}]})
    (tmp_path / "control.json").write_text(json.dumps({"failures": {"apply_security_rules": 1}}))
    with pytest.raises(HypervisorError):
        APPLY(driver, {"name": "i-1-VM", "rules": []})
    assert APPLY(driver, {"name": "i-1-VM", "rules": []}) == {"rule_count": 0}
    driver.destroy_vm("i-1-VM")
    assert world.firewalls.rules("i-1-VM") == ()


def test_a_simulated_router_serves_its_vpn_from_the_sealed_secrets_only(tmp_path: Path) -> None:
    driver, world = _simulator(tmp_path)
    params = {
        "name": "i-1-VM",
        "public_ip": "203.0.113.10",
        "local_ip": "10.1.2.1",
        "ip_range": "10.1.2.1-10.1.2.8",
    }
    with pytest.raises(BadRequest):
        CONFIGURE_VPN(driver, params)  # no secrets: nothing to serve
    secrets = {"preshared_key": "k" * 24, "users": [{"username": "carol", "password": "pw-1"}]}
    answer = CONFIGURE_VPN(driver, {**params, "secrets": secrets})
    assert answer == {"state": "Running", "users": 1}
    served = world.firewalls.vpn("i-1-VM")
    assert served is not None and served["users"] == {"carol": digest("pw-1")}
    assert served["key_digest"] == digest("k" * 24) and "pw-1" not in repr(served)
    gone = CONFIGURE_VPN(driver, {**params, "secrets": secrets, "removing": True})
    assert gone == {"state": "Removed", "users": 0} and world.firewalls.vpn("i-1-VM") is None


def test_kvm_records_the_rule_set_and_writes_an_nwfilter_where_libvirt_has_them() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.security import nwfilter_xml, recorded_rules

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    try:
        driver.start_vm(VmSpec("i-kvm-sg-VM", 1, 500, 256))
        assert APPLY(driver, {"name": "i-kvm-sg-VM", "rules": [SSH, PING, DNS]}) == {
            "rule_count": 3
        }
        domain = driver._require().lookupByName("i-kvm-sg-VM")
        recorded = {r["cidr"] for r in recorded_rules(domain)}
        assert recorded == {"0.0.0.0/0", "10.0.0.0/8", "8.8.8.8/32"}
        assert APPLY(driver, {"name": "i-kvm-sg-VM", "rules": [SSH]}) == {"rule_count": 1}
    finally:
        driver.destroy_vm("i-kvm-sg-VM")
        driver.close()
    xml = nwfilter_xml("i-1-VM", (SSH, PING, DNS))
    assert 'name="stratus-sg-i-1-VM"' in xml
    assert '<tcp srcipaddr="0.0.0.0" srcipmask="0" dstportstart="22" dstportend="22" />' in xml
    assert '<icmp srcipaddr="10.0.0.0" srcipmask="8" type="8" code="0" />' in xml
    assert '<udp dstipaddr="8.8.8.8" dstipmask="32"' in xml
    assert xml.count('action="drop"') == 2  # the rest of ingress, and of egress once limited


def test_a_kvm_router_is_given_its_vpn_without_any_secret_in_its_metadata() -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    import libvirt

    from adapters.kvm.driver import KvmDriver
    from adapters.kvm.security import VPN_URI

    driver = KvmDriver(stop_timeout=0.1, poll_interval=0.05)
    driver.connect(Credentials("test:///default", "admin", "pw"))
    secrets = {
        "preshared_key": "secret-key-0123456789ab",
        "users": [{"username": "carol", "password": "pw-9"}],
    }
    params = {
        "name": "r-kvm-vpn-VM",
        "public_ip": "203.0.113.10",
        "local_ip": "10.1.2.1",
        "ip_range": "10.1.2.1-10.1.2.8",
        "secrets": secrets,
    }
    try:
        driver.start_vm(VmSpec("r-kvm-vpn-VM", 1, 500, 256))
        assert CONFIGURE_VPN(driver, params) == {"state": "Running", "users": 1}
        domain = driver._require().lookupByName("r-kvm-vpn-VM")
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, VPN_URI, 0)
        assert 'name="carol"' in text and "203.0.113.10" in text
        assert "secret-key-0123456789ab" not in text and "pw-9" not in text
    finally:
        driver.destroy_vm("r-kvm-vpn-VM")
        driver.close()


def test_xenserver_hands_the_set_to_the_vmops_plugin() -> None:
    from adapters.xenserver.driver import XenServerDriver
    from tests.peers.xapi import XapiPeer

    xapi = XapiPeer(HostShape(), "root", "xen-password")
    with xapi.serving() as url:
        driver = XenServerDriver()
        driver.connect(Credentials(url, "root", "xen-password"))
        try:
            driver.start_vm(VmSpec("i-xen-VM", 1, 500, 256))
            assert APPLY(driver, {"name": "i-xen-VM", "rules": [SSH, DNS]}) == {"rule_count": 2}
            handed = xapi.host.security_rules["i-xen-VM"]
            assert handed["rules"] == "I:tcp:22:22:0.0.0.0/0;E:udp:53:53:8.8.8.8/32"
            assert handed["vmName"] == "i-xen-VM" and handed["vmID"]
            vpn = {"public_ip": "a", "local_ip": "b", "ip_range": "c"}
            with pytest.raises(Unsupported):
                CONFIGURE_VPN(
                    driver, {"name": "i-xen-VM", **vpn, "secrets": {"preshared_key": "k"}}
                )
        finally:
            driver.close()


def test_hyperv_replaces_the_vms_extended_port_acls() -> None:
    from adapters.hyperv.driver import HypervDriver
    from tests.peers.wsman import WsmanPeer

    shape = dataclasses.replace(HostShape(), version="6.3.9600")
    wsman = WsmanPeer(shape, "Administrator", "hv-password")
    with wsman.serving() as url:
        driver = HypervDriver(transport="basic")
        driver.connect(Credentials(url, "Administrator", "hv-password"))
        try:
            driver.start_vm(VmSpec("i-hv-VM", 1, 500, 256))
            assert APPLY(driver, {"name": "i-hv-VM", "rules": [SSH, DNS]}) == {"rule_count": 2}
            acls = wsman.host.security_rules["i-hv-VM"]
            assert sorted((a["Action"], a["Direction"]) for a in acls) == [
                ("Allow", "Inbound"),
                ("Allow", "Outbound"),
                ("Deny", "Inbound"),
                ("Deny", "Outbound"),
            ]
            ssh = next(a for a in acls if a["Action"] == "Allow" and a["Direction"] == "Inbound")
            assert (ssh["Protocol"], ssh["LocalPort"], ssh["RemoteIPAddress"]) == (
                "TCP",
                "22-22",
                "0.0.0.0/0",
            )
            assert APPLY(driver, {"name": "i-hv-VM", "rules": [SSH]}) == {"rule_count": 1}
            assert len(wsman.host.security_rules["i-hv-VM"]) == 2  # replaced, not added to
        finally:
            driver.close()


def test_vmware_refuses_security_groups_as_cloudstack_does() -> None:
    from adapters.vmware.driver import VmwareDriver

    with pytest.raises(Unsupported, match="not supported on VMware"):
        VmwareDriver().apply_security_rules("i-1-VM", (SSH,))
