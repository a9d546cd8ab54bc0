"""A bare-metal deploy through the `cs` client: the bare-metal adapter logs into the zone's PXE
and DHCP servers over SSH (stand-ins answer here, keeping what they are given as files) and
writes the host's network boot as a PXE and a DHCP server read it, then powers the host on
through ipmitool; destroying the instance powers it off and removes the entries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack

from tests.e2e.sandbox import Sandbox
from tests.e2e.test_infrastructure import _place, _sim_host
from tests.support.ssh_stand_in import SshStandIn

NATS_ADAPTERS = ("simulator", "baremetal")
IPMI_SECRET = "ipmi-Secret-77a"
MAC = "52:54:00:ab:cd:01"
KS = "http://repo.example.org/ks/centos.cfg"
KERNEL = "http://repo.example.org/centos/vmlinuz"
INITRD = "http://repo.example.org/centos/initrd.img"


@pytest.fixture
def pxe() -> Iterator[SshStandIn]:
    stand_in = SshStandIn(username="root", password="pxe-secret").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def dhcp() -> Iterator[SshStandIn]:
    stand_in = SshStandIn(username="root", password="dhcp-secret").start()
    yield stand_in
    stand_in.stop()


def _zone(admin: CloudStack, pxe: SshStandIn, dhcp: SshStandIn, dhcp_type: str) -> dict:
    zone, pod, cluster = _place(admin, "BareMetal")
    physical = admin.createPhysicalNetwork(
        zoneid=zone, name=f"pn-{uuid.uuid4().hex[:6]}", vlan="600-610", fetch_result=True
    )["physicalnetwork"]["id"]
    for name in ("BaremetalDhcpProvider", "BaremetalPxeProvider"):
        admin.addNetworkServiceProvider(name=name, physicalnetworkid=physical, fetch_result=True)
    admin.addBaremetalDhcp(
        physicalnetworkid=physical, url=f"http://{dhcp.address}", username=dhcp.username,
        password=dhcp.password, dhcpservertype=dhcp_type, fetch_result=True,
    )  # fmt: skip
    admin.addBaremetalPxeKickStartServer(
        physicalnetworkid=physical, url=f"http://{pxe.address}", username=pxe.username,
        password=pxe.password, pxeservertype="KICK_START", tftpdir="/tftpboot",
        fetch_result=True,
    )  # fmt: skip
    host = admin.addBaremetalHost(
        zoneid=zone, podid=pod, clusterid=cluster, hypervisor="BareMetal",
        url="http://10.2.0.7", username="ipmi", password=IPMI_SECRET, cpunumber=8,
        cpuspeed=2400, memory=16384, hostmac=MAC,
    )["host"][0]  # fmt: skip
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    template = admin.registerTemplate(
        name="centos-ks", displaytext="centos kickstart",
        url=f"ks={KS};kernel={KERNEL};initrd={INITRD}",
        hypervisor="BareMetal", format="BAREMETAL", ostypeid=os_type, zoneid=zone,
        ispublic="true",
    )["template"][0]  # fmt: skip
    # The shared network's router runs on a simulator host of its own cluster.
    routers = admin.addCluster(
        clustername="routers", podid=pod, zoneid=zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]["id"]  # fmt: skip
    _sim_host(admin, (zone, pod, routers), f"r-{uuid.uuid4().hex[:6]}")
    offering = admin.listNetworkOfferings(name="DefaultSharedNetworkOffering")["networkoffering"][0]
    network = admin.createNetwork(
        name="provisioning", displaytext="provisioning", networkofferingid=offering["id"],
        zoneid=zone, vlan="600", gateway="10.6.0.1", netmask="255.255.255.0",
        startip="10.6.0.20", endip="10.6.0.40",
    )["network"]  # fmt: skip
    small = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    return {
        "zone": zone, "host": host, "template": template["id"], "network": network["id"],
        "offering": small["id"],
    }  # fmt: skip


def _deploy(admin: CloudStack, place: dict, **extra: Any) -> dict:
    return admin.deployVirtualMachine(
        zoneid=place["zone"], serviceofferingid=place["offering"], templateid=place["template"],
        networkids=place["network"], rootdisksize=20, fetch_result=True, **extra,
    )["virtualmachine"]  # fmt: skip


def _dhcpd_hosts(conf: str) -> dict[str, dict[str, str]]:
    """The host declarations of a dhcpd.conf, by name: each statement's keyword and value."""
    found = {}
    for name, body in re.findall(r"host\s+(\S+)\s*\{(.*?)\}", conf, re.S):
        statements = [s.strip() for s in body.split(";") if s.strip()]
        found[name] = {s.rsplit(" ", 1)[0]: s.rsplit(" ", 1)[1].strip('"') for s in statements}
    return found


def _pxelinux(text: str) -> dict[str, str]:
    """A pxelinux configuration's keywords and the options of its APPEND line."""
    entries = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
    options = dict(o.split("=", 1) for o in entries["APPEND"].split() if "=" in o)
    return {**entries, **options}


def test_a_kickstart_deploy_writes_the_hosts_boot_and_destroy_removes_it(
    sandbox: Sandbox, pxe: SshStandIn, dhcp: SshStandIn
) -> None:
    admin = sandbox.client()
    place = _zone(admin, pxe, dhcp, "DHCPD")
    vm = _deploy(admin, place, name="bm-1")
    assert (vm["state"], vm["hostid"]) == ("Running", place["host"]["id"])
    address = vm["nic"][0]["ipaddress"]

    hosts = _dhcpd_hosts(dhcp.file("/etc/dhcpd.conf"))
    assert hosts == {
        "bm-1": {
            "hardware ethernet": MAC,
            "fixed-address": address,
            "option host-name": "bm-1",
            "next-server": "127.0.0.1",
            "filename": "pxelinux.0",
        }
    }
    assert [run.command for run in dhcp.runs] == ["service dhcpd restart"]

    boot = _pxelinux(pxe.file("/tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-01"))
    template = place["template"]
    assert (boot["DEFAULT"], boot["LABEL"]) == ("default", "default")
    assert boot["KERNEL"] == f"{template}/vmlinuz"
    assert (boot["initrd"], boot["ks"], boot["ksdevice"]) == (f"{template}/initrd.img", KS, MAC)
    fetch, bootdev, power_on = pxe.runs
    assert f"-o /tftpboot/{template}/vmlinuz {KERNEL}" in fetch.command
    assert f"-o /tftpboot/{template}/initrd.img {INITRD}" in fetch.command
    for run, wanted in ((bootdev, "chassis bootdev pxe"), (power_on, "chassis power on")):
        assert run.command == f"ipmitool -I lanplus -H 10.2.0.7 -U ipmi -f /dev/stdin {wanted}"
        assert run.stdin == IPMI_SECRET + "\n"
    assert IPMI_SECRET not in str(vm) and pxe.password not in str(vm)

    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    assert not pxe.exists("/tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-01")
    assert _dhcpd_hosts(dhcp.file("/etc/dhcpd.conf")) == {}
    assert pxe.runs[-1].command.endswith("chassis power off")
    assert dhcp.runs[-1].command == "service dhcpd restart"


def test_a_dnsmasq_server_gets_the_host_and_a_refusing_server_fails_the_deploy(
    sandbox: Sandbox, pxe: SshStandIn, dhcp: SshStandIn
) -> None:
    admin = sandbox.client()
    place = _zone(admin, pxe, dhcp, "DNSMASQ")
    dhcp.password = "changed-on-the-server"
    failed = admin.deployVirtualMachine(
        zoneid=place["zone"], serviceofferingid=place["offering"], templateid=place["template"],
        networkids=place["network"], rootdisksize=20, name="bm-2",
    )  # fmt: skip
    job = admin.queryAsyncJobResult(jobid=failed["jobid"])
    for _ in range(600):
        if job["jobstatus"] != 0:
            break
        job = admin.queryAsyncJobResult(jobid=failed["jobid"])
    assert job["jobstatus"] == 2 and "refused the login" in job["jobresult"]["errortext"]
    assert "changed-on-the-server" not in str(job) and "dhcp-secret" not in str(job)
    assert dhcp.logins[-1] == ("root", False) and pxe.runs == []
    dhcp.password = "dhcp-secret"
    admin.destroyVirtualMachine(id=failed["id"], expunge="true", fetch_result=True)

    vm = _deploy(admin, place, name="bm-3")
    assert vm["state"] == "Running"
    entry = dhcp.file("/etc/dnsmasq.d/stratus-52-54-00-ab-cd-01.conf").splitlines()
    host_line = next(line for line in entry if line.startswith("dhcp-host="))
    mac, tag, address, name, lease = host_line.removeprefix("dhcp-host=").split(",")
    assert (mac, address, name, lease) == (MAC, vm["nic"][0]["ipaddress"], "bm-3", "infinite")
    assert f"dhcp-boot=tag:{tag.removeprefix('set:')},pxelinux.0,pxeserver,127.0.0.1" in entry
    assert dhcp.runs[-1].command == "service dnsmasq restart"
    admin.destroyVirtualMachine(id=vm["id"], expunge="true", fetch_result=True)
    assert not dhcp.exists("/etc/dnsmasq.d/stratus-52-54-00-ab-cd-01.conf")
