"""VM lifecycle on a KVM host: a distributed cloud, a real `stratus adapter kvm` process, and a host
on libvirt's test driver (a node XML file in the test's directory).

How the libvirt side is checked: every connection to a ``test:///`` file holds private state, so
this process cannot look at the domains the adapter defined. What the adapter read back from
libvirt travels in its results instead: `start_vm` and `scale_vm` answer the domain's status
(``virDomainGetInfo``: vCPUs and memory). The test reads those results from the cloud's JetStream
stream, as the server received them, and checks them against what was deployed or scaled. The API's
own answers (listVirtualMachines) are checked separately.

A VM scaled while stopped has its new size recorded by the server, which sends it with the next
`start_vm`; the driver applies it to the shut-off domain before starting it.

The template comes from the KVM driver's `download_template`: the adapter fetches a QCOW2 image
from an HTTP server the test runs, and libvirt's default test connection is the image store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import nats.errors
import orjson
import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import custom_offering
from tests.e2e.test_hosts_distributed import (
    NATS_URL,
    Cloud,
    Place,
    add_host,
    distributed_cloud,
    make_place,
    wait_for,
)
from tests.peers.images import GIB, Answer, qcow2_image, serve_answers, serve_images

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

CUSTOM = {"details[0].cpuNumber": "2", "details[0].cpuSpeed": "1000", "details[0].memory": "1024"}
SCALED = {"details[0].cpuNumber": "3", "details[0].cpuSpeed": "1200", "details[0].memory": "1536"}


def kvm_host_file(tmp_path: Path, more_pools: str = "", name: str = "host.xml") -> str:
    """A libvirt test-driver node with a login and a storage pool for root disks (and the
    `<pool>` elements of `more_pools`)."""
    node = tmp_path / name
    node.write_text(
        "<node>\n"
        '  <auth><user password="kvm-password">admin</user></auth>\n'
        "  <cpu><mhz>2200</mhz><model>x86_64</model><active>16</active>\n"
        "    <nodes>1</nodes><sockets>2</sockets><cores>4</cores><threads>2</threads></cpu>\n"
        f"  <memory>{16 * 1024 * 1024}</memory>\n"
        '  <pool type="dir"><name>default</name>\n'
        '    <capacity unit="GiB">500</capacity><available unit="GiB">500</available>\n'
        "    <target><path>/var/lib/libvirt/images</path></target></pool>\n"
        f"{more_pools}"
        "</node>\n"
    )
    return f"test://{node}"


@pytest.fixture
def images(tmp_path: Path) -> Iterator[str]:
    """The base URL of an HTTP server holding one QCOW2 image, tiny.qcow2 (2 GiB virtual)."""
    served = tmp_path / "images"
    served.mkdir()
    (served / "tiny.qcow2").write_bytes(qcow2_image(2 * GIB))
    with serve_images(served) as base:
        yield base


@pytest.fixture
def kvm_cloud(tmp_path: Path) -> Iterator[Cloud]:
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    with distributed_cloud(tmp_path, STRATUS_KVM_IMAGE_STORE="test:///default") as cloud:
        cloud.start_adapter("kvm")
        yield cloud


def allow_local_images(admin: CloudStack) -> None:
    """The test's image server is on loopback: the operator allows it as an internal site."""
    admin.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.1/32")


def _ready_template(admin: CloudStack, zone_id: str, images: str) -> str:
    allow_local_images(admin)
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    template = admin.registerTemplate(
        name="kvm-tiny", displaytext="kvm-tiny", hypervisor="KVM", format="QCOW2",
        url=f"{images}/tiny.qcow2", ostypeid=os_type,
        zoneid=zone_id, ispublic="true",
    )["template"][0]  # fmt: skip

    def listed() -> dict[str, Any]:
        return admin.listTemplates(templatefilter="all", id=template["id"])["template"][0]

    answer = wait_for(lambda: listed().get("isready"), 30, interval=0.2)
    assert answer, f"the KVM template never became ready: {listed().get('status')}"
    assert listed()["size"] == 2 * 1024**3
    return str(template["id"])


def _deploy(admin: CloudStack, place: Place, template: str, offering: str, **extra: str) -> dict:
    return admin.deployVirtualMachine(
        zoneid=place.zone_id, serviceofferingid=offering, templateid=template,
        fetch_result=True, **extra,
    )["virtualmachine"]  # fmt: skip


def _shape(admin: CloudStack, vm_id: str) -> tuple[str, int, int, int]:
    vm = admin.listVirtualMachines(id=vm_id)["virtualmachine"][0]
    return vm["state"], vm["cpunumber"], vm["cpuspeed"], vm["memory"]


def _offerings(admin: CloudStack) -> tuple[str, str]:
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    custom = custom_offering(admin)
    return small["id"], custom["id"]


def _kvm_host(cloud: Cloud, images: str) -> tuple[Place, dict[str, Any], str]:
    """A zone with one KVM host Up and a template Ready there."""
    admin = cloud.admin
    place = make_place(admin, "KVM")
    host = add_host(admin, place, "KVM", kvm_host_file(cloud.workdir), "admin", "kvm-password")
    assert host["state"] == "Up"
    return place, host, _ready_template(admin, place.zone_id, images)


def test_vms_on_a_kvm_host_live_through_their_lifecycle_at_the_size_asked(
    kvm_cloud: Cloud, images: str
) -> None:
    admin = kvm_cloud.admin
    place, host, template = _kvm_host(kvm_cloud, images)
    small, custom = _offerings(admin)
    fixed = _deploy(admin, place, template, small, name="kvm-small")
    assert _shape(admin, fixed["id"]) == ("Running", 1, 500, 512)
    vm = _deploy(admin, place, template, custom, name="kvm-custom", **CUSTOM)
    assert vm["hostid"] == host["id"]
    assert _shape(admin, vm["id"]) == ("Running", 2, 1000, 1024)
    admin.updateConfiguration(name="enable.dynamic.scale.vm", value="true", zoneid=place.zone_id)
    with pytest.raises(CloudStackApiException) as refused:  # KVM guests are not resized live
        admin.scaleVirtualMachine(
            id=vm["id"], serviceofferingid=custom, fetch_result=True, **SCALED
        )
    assert refused.value.error["errorcode"] == 431
    assert _shape(admin, vm["id"]) == ("Running", 2, 1000, 1024)
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert _shape(admin, vm["id"])[0] == "Stopped"
    admin.scaleVirtualMachine(id=vm["id"], serviceofferingid=custom, fetch_result=True, **SCALED)
    assert _shape(admin, vm["id"]) == ("Stopped", 3, 1200, 1536)
    admin.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _shape(admin, vm["id"]) == ("Running", 3, 1200, 1536)
    admin.rebootVirtualMachine(id=vm["id"], fetch_result=True)
    assert _shape(admin, vm["id"])[0] == "Running"
    _destroy_and_expunge(admin, vm["id"])
    _destroy_and_expunge(admin, fixed["id"])
    results = _kvm_results_by_vm(kvm_cloud)
    assert _sizes(results[fixed["id"]], "start_vm") == [(1, 512)]
    assert _sizes(results[vm["id"]], "start_vm")[0] == (2, 1024)
    assert [r["action"] for r in results[vm["id"]] if r["ok"]] == [
        "start_vm", "stop_vm", "start_vm", "reboot_vm", "stop_vm", "destroy_vm",
    ]  # fmt: skip


def test_a_vm_scaled_while_stopped_runs_at_the_new_size_on_the_kvm_host(
    kvm_cloud: Cloud, images: str
) -> None:
    admin = kvm_cloud.admin
    place, _host, template = _kvm_host(kvm_cloud, images)
    _small, custom = _offerings(admin)
    vm = _deploy(admin, place, template, custom, name="kvm-scaled", **CUSTOM)
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    admin.scaleVirtualMachine(id=vm["id"], serviceofferingid=custom, fetch_result=True, **SCALED)
    admin.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _shape(admin, vm["id"]) == ("Running", 3, 1200, 1536)
    started = _sizes(_kvm_results_by_vm(kvm_cloud)[vm["id"]], "start_vm")
    assert started == [(2, 1024), (3, 1536)]


def _destroy_and_expunge(admin: CloudStack, vm_id: str) -> None:
    destroyed = admin.destroyVirtualMachine(id=vm_id, fetch_result=True)["virtualmachine"]
    assert destroyed["state"] == "Destroyed"
    admin.expungeVirtualMachine(id=vm_id, fetch_result=True)
    assert admin.listVirtualMachines(id=vm_id) == {}


def _kvm_results_by_vm(cloud: Cloud) -> dict[str, list[dict[str, Any]]]:
    """The KVM adapter's results per VM, in the order it sent them."""
    by_vm: dict[str, list[dict[str, Any]]] = {}
    for result in asyncio.run(_kvm_results(cloud)):
        by_vm.setdefault(result["target_id"], []).append(result)
    return by_vm


def _sizes(results: list[dict[str, Any]], action: str) -> list[tuple[int, int]]:
    """(vCPUs, MiB) that libvirt reported to the adapter after each successful `action`."""
    return [
        (r["data"]["cpu_number"], r["data"]["memory_mb"])
        for r in results
        if r["action"] == action and r["ok"]
    ]


async def _kvm_results(cloud: Cloud, kind: str = "kvm") -> list[dict[str, Any]]:
    """Every result the KVM (or `kind`) adapter published, read back from the cloud's stream."""
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


def _template_status(admin: CloudStack, template_id: str) -> str:
    listed = admin.listTemplates(templatefilter="all", id=template_id)["template"]
    return str(listed[0].get("status", ""))


def _register(admin: CloudStack, zone_id: str, url: str) -> str:
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    return str(
        admin.registerTemplate(
            name=f"kvm-{uuid.uuid4().hex[:6]}", displaytext="fetch", hypervisor="KVM",
            format="QCOW2", url=url, ostypeid=os_type, zoneid=zone_id,
        )["template"][0]["id"]
    )  # fmt: skip


def test_a_kvm_template_whose_image_is_missing_fails_without_the_servers_answer(
    kvm_cloud: Cloud, images: str
) -> None:
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    allow_local_images(admin)
    template = _register(admin, place.zone_id, f"{images}/big.qcow2")

    def status() -> str:
        return _template_status(admin, template)

    assert wait_for(lambda: "did not serve a file within the limits" in status(), 30, 0.2), status()
    assert "404" not in status()


def test_a_kvm_template_redirected_to_an_internal_address_fails_without_saying_where(
    kvm_cloud: Cloud,
) -> None:
    """The allowed image server redirects to the database's port on another loopback address
    and to the metadata service: the adapter refuses both, and the reason names neither."""
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    allow_local_images(admin)
    answers = {
        "/db.qcow2": Answer(302, (("Location", "http://127.0.0.2:5432/x.qcow2"),)),
        "/meta.qcow2": Answer(302, (("Location", "http://169.254.169.254/latest/meta-data"),)),
    }
    with serve_answers(answers) as base:
        templates = [_register(admin, place.zone_id, f"{base}{name}") for name in answers]
        for template in templates:

            def status(template: str = template) -> str:
                return _template_status(admin, template)

            assert wait_for(lambda: "within the limits" in status(), 30, 0.2), status()
            assert "5432" not in status() and "169.254" not in status()
