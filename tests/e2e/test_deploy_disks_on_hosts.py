"""Deploys with a data disk and from an ISO on hosts driven by separate adapter processes
(PostgreSQL, NATS): what the hypervisor has after the first start, as the adapter reported it.

A start that hands the hypervisor data disks or an ISO answers with the VM's disks and CD drive
as the driver reads them back (the simulator's memory; on KVM the domain's XML). The test reads
those results from the cloud's JetStream stream, as the server received them (see
`test_kvm_lifecycle.py` for why a test cannot open the libvirt test driver's state itself). On
KVM the ISO is fetched by the adapter into the image store from a server on loopback; the host,
whose libvirt test driver cannot share the store's pool, is given a pool holding the ISO's
volume under the store's name for it, as a host that mounts the zone's image store sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from adapters.kvm.template_store import volume_name
from tests.e2e.test_hosts_distributed import Cloud, add_host, distributed_cloud, make_place
from tests.e2e.test_isos_and_sharing import UBUNTU
from tests.e2e.test_kvm_lifecycle import _ready_template, allow_local_images, kvm_host_file
from tests.e2e.test_routers import wait_for
from tests.e2e.test_volumes_on_distributed_hosts import _results, _simulator_template
from tests.peers.images import GIB, qcow2_image, serve_images

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

STORE_PATH = "/var/lib/stratus-store"


def _offering(admin: CloudStack, kind: str, name: str) -> str:
    listed = getattr(admin, f"list{kind}Offerings")()[f"{kind.lower()}offering"]
    return str(next(o for o in listed if o["name"] == name)["id"])


def _ready_iso(admin: CloudStack, zone: str, url: str) -> str:
    iso = admin.registerIso(
        name="setup", displaytext="setup", url=url, zoneid=zone, ostypeid=UBUNTU, ispublic=True
    )["iso"][0]

    def ready() -> bool:
        listed = admin.listIsos(isofilter="all", id=iso["id"], zoneid=zone)["iso"]
        return bool(listed[0].get("isready"))

    assert wait_for(ready, 30, interval=0.2), "the ISO never became ready"
    return str(iso["id"])


def _deploys(admin: CloudStack, zone: str, template: str, iso: str, hypervisor: str) -> tuple:
    """A VM with a data disk (custom, 6 GiB) and one installed from the ISO (Medium, 20 GiB)."""
    small = _offering(admin, "Service", "Small Instance")
    with_disk = admin.deployVirtualMachine(
        zoneid=zone, serviceofferingid=small, templateid=template,
        diskofferingid=_offering(admin, "Disk", "Custom"), size=6, fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    installed = admin.deployVirtualMachine(
        zoneid=zone, serviceofferingid=small, templateid=iso, hypervisor=hypervisor,
        diskofferingid=_offering(admin, "Disk", "Medium"), fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    disk = admin.listVolumes(virtualmachineid=with_disk["id"], type="DATADISK")["volume"][0]
    root = admin.listVolumes(virtualmachineid=installed["id"], type="ROOT")["volume"][0]
    assert (disk["size"], root["size"]) == (6 * GIB, 20 * GIB)
    assert installed["isoid"] == iso and installed["state"] == "Running"
    return with_disk, installed, disk


def _started(cloud: Cloud, kind: str, vm_id: str) -> dict[str, Any]:
    [start] = [
        r
        for r in asyncio.run(_results(cloud, kind))
        if r["target_id"] == vm_id and r["action"] == "start_vm"
    ]
    assert start["ok"], start
    return dict(start["data"])


def test_the_simulator_host_starts_the_vms_with_their_disk_and_iso(tmp_path: Path) -> None:
    with distributed_cloud(tmp_path) as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        place = make_place(admin, "Simulator")
        url = "simulator://deploy-disks?sockets=1&cores=8&mhz=2000&memory_gb=16"
        assert add_host(admin, place, "Simulator", url, "root", "pw")["state"] == "Up"
        template = _simulator_template(admin, place.zone_id)
        iso = _ready_iso(admin, place.zone_id, "http://images.example.org/setup.iso")
        with_disk, installed, disk = _deploys(admin, place.zone_id, template, iso, "Simulator")
        plugged = _started(cloud, "simulator", with_disk["id"])
        booted = _started(cloud, "simulator", installed["id"])
    assert [(d["disk_id"], d["device_id"], d["size_gb"]) for d in plugged["disks"]] == [
        (disk["id"], 1, 6)
    ]
    assert "iso" not in plugged
    assert booted["iso"] == f"simulator://deploy-disks/isos/{iso}"
    assert "disks" not in booted  # installed from the ISO: no data disk


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """An HTTP server on loopback with a KVM template (tiny.qcow2) and an ISO (setup.iso)."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "tiny.qcow2").write_bytes(qcow2_image(2 * GIB))
    (folder / "setup.iso").write_bytes(b"\0" * 32768 + b"\1CD001\1" + b"\0" * 4096)
    with serve_images(folder) as base:
        yield base


def _kvm_node(workdir: Path, zone_id: str) -> str:
    """A libvirt test-driver host with a pool for root disks and the zone's image store,
    holding the ISO's volume under the name the KVM adapter stores it by."""
    iso = volume_name("http://x/setup.iso", zone_id)
    store = (
        '  <pool type="dir"><name>image-store</name>\n'
        '    <capacity unit="GiB">50</capacity><available unit="GiB">50</available>\n'
        f"    <target><path>{STORE_PATH}</path></target>\n"
        f'    <volume type="file"><name>{iso}</name><capacity unit="MiB">1</capacity></volume>\n'
        "  </pool>\n"
    )
    return kvm_host_file(workdir, store, "iso-host.xml")


def test_the_kvm_domain_boots_the_iso_and_has_the_data_disk(tmp_path: Path, served: str) -> None:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    with distributed_cloud(tmp_path, STRATUS_KVM_IMAGE_STORE="test:///default") as cloud:
        cloud.start_adapter("kvm")
        admin = cloud.admin
        place = make_place(admin, "KVM")
        node = _kvm_node(cloud.workdir, place.zone_id)
        assert add_host(admin, place, "KVM", node, "admin", "kvm-password")["state"] == "Up"
        template = _ready_template(admin, place.zone_id, served)
        allow_local_images(admin)
        iso = _ready_iso(admin, place.zone_id, f"{served}/setup.iso")
        with_disk, installed, disk = _deploys(admin, place.zone_id, template, iso, "KVM")
        plugged = _started(cloud, "kvm", with_disk["id"])
        booted = _started(cloud, "kvm", installed["id"])
    [data] = plugged["disks"]
    assert (data["disk_id"], data["device_id"], data["size_gb"]) == (disk["id"], 1, 6)
    assert data["location"].endswith(f"/disk-{disk['id']}.qcow2")
    iso_name = volume_name(f"{served}/setup.iso", place.zone_id)
    assert booted["iso"] == f"{STORE_PATH}/{iso_name}"
