"""Data disks on hosts driven by separate adapter processes (PostgreSQL, NATS): what the hypervisor
has after each attach, resize and detach, as the adapter reported it in its results.

Every disk action answers with the VM's data disks as the driver reads them back from the
hypervisor (the simulator's memory; on KVM the domain's XML and the pool's volumes). The test reads
those results from the cloud's JetStream stream, as the server received them (see
`test_kvm_lifecycle.py` for why a test cannot open the libvirt test driver's state itself).
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import nats.errors
import orjson
import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.test_hosts_distributed import (
    NATS_URL,
    Cloud,
    add_host,
    distributed_cloud,
    make_place,
    wait_for,
)
from tests.e2e.test_kvm_lifecycle import _ready_template, images, kvm_host_file  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

GIB = 1024**3


def _offerings(admin: CloudStack) -> tuple[str, str]:
    small = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    return small["id"], custom["id"]


def _vm_with_disk(admin: CloudStack, zone: str, template: str) -> tuple[dict, dict]:
    small, custom = _offerings(admin)
    vm = admin.deployVirtualMachine(
        zoneid=zone, serviceofferingid=small, templateid=template, fetch_result=True
    )["virtualmachine"]
    disk = admin.createVolume(
        name="data-1", zoneid=zone, diskofferingid=custom, size=10, fetch_result=True
    )["volume"]
    return vm, disk


def _simulator_template(admin: CloudStack, zone: str) -> str:
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    template = admin.registerTemplate(
        name="sim-tiny", displaytext="sim-tiny", hypervisor="Simulator", format="QCOW2",
        url="http://images.example.org/tiny.qcow2", ostypeid=os_type, zoneid=zone,
        ispublic="true",
    )["template"][0]  # fmt: skip

    def ready() -> bool:
        listed = admin.listTemplates(templatefilter="all", id=template["id"])["template"]
        return bool(listed[0].get("isready"))

    assert wait_for(ready, 30, interval=0.2), "the simulator template never became ready"
    return str(template["id"])


def test_the_simulator_host_has_the_disk_the_cloud_says_is_attached(tmp_path) -> None:
    with distributed_cloud(tmp_path) as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        place = make_place(admin, "Simulator")
        url = "simulator://disks-1?sockets=1&cores=4&mhz=1000&memory_gb=8"
        assert add_host(admin, place, "Simulator", url, "root", "pw")["state"] == "Up"
        vm, disk = _vm_with_disk(admin, place.zone_id, _simulator_template(admin, place.zone_id))
        admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
        admin.resizeVolume(id=disk["id"], size=20, fetch_result=True)
        admin.detachVolume(id=disk["id"], fetch_result=True)
        results = _disk_results(cloud, "simulator", disk["id"])
    assert [r["action"] for r in results] == ["attach_volume", "resize_volume", "detach_volume"]
    attach, resize, detach = (r["data"] for r in results)
    assert [(d["disk_id"], d["device_id"], d["size_gb"]) for d in attach["disks"]] == [
        (disk["id"], 1, 10)
    ]
    assert [d["size_gb"] for d in resize["disks"]] == [20]
    assert detach["disks"] == []


@pytest.fixture
def kvm_cloud(tmp_path):
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    with distributed_cloud(tmp_path, STRATUS_KVM_IMAGE_STORE="test:///default") as cloud:
        cloud.start_adapter("kvm")
        yield cloud


def test_the_kvm_domain_has_the_disk_in_its_xml_and_a_resize_it_cannot_do_changes_nothing(
    kvm_cloud: Cloud,
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    node = kvm_host_file(kvm_cloud.workdir)
    assert add_host(admin, place, "KVM", node, "admin", "kvm-password")["state"] == "Up"
    vm, disk = _vm_with_disk(admin, place.zone_id, _ready_template(admin, place.zone_id, images))
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    with pytest.raises(CloudStackApiException) as refused:
        admin.resizeVolume(id=disk["id"], size=20, fetch_result=True)
    assert "virDomainBlockResize" in refused.value.error["errortext"]
    kept = admin.listVolumes(id=disk["id"])["volume"][0]
    assert (kept["size"], kept["virtualmachineid"]) == (10 * GIB, vm["id"])
    admin.detachVolume(id=disk["id"], fetch_result=True)
    results = _disk_results(kvm_cloud, "kvm", disk["id"])
    assert [(r["action"], r["ok"]) for r in results] == [
        ("attach_volume", True),
        ("resize_volume", False),
        ("detach_volume", True),
    ]
    attached = results[0]["data"]["disks"]
    assert [(d["disk_id"], d["device_id"], d["size_gb"]) for d in attached] == [(disk["id"], 1, 10)]
    assert attached[0]["location"].endswith(f"/disk-{disk['id']}.qcow2")
    assert results[2]["data"]["disks"] == []


def _disk_results(cloud: Cloud, kind: str, volume_id: str) -> list[dict[str, Any]]:
    """The adapter's results for one volume, in the order it sent them."""
    return [r for r in asyncio.run(_results(cloud, kind)) if r["target_id"] == volume_id]


async def _results(cloud: Cloud, kind: str) -> list[dict[str, Any]]:
    assert NATS_URL
    client = await nats.connect(NATS_URL)
    try:
        subject = f"{cloud.env['STRATUS_BUS_PREFIX']}.results.{kind}"
        subscription = await client.jetstream().subscribe(
            subject, stream=cloud.env["STRATUS_NATS_STREAM"], ordered_consumer=True
        )
        results = []
        while True:
            try:
                message = await subscription.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                return results
            results.append(orjson.loads(message.data))
    finally:
        await client.close()
