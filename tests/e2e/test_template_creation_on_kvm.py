"""createTemplate on a KVM host: a distributed cloud, a real `stratus adapter kvm` process and a
host on libvirt's test driver. The VM's root disk is copied into the image store (libvirt's
default test connection, as for downloads); the template is Ready at the disk's size and a new
VM on the host starts from it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_hosts_distributed import Cloud
from tests.e2e.test_kvm_lifecycle import (  # noqa: F401  (fixtures)
    _deploy,
    _kvm_host,
    _kvm_results_by_vm,
    _offerings,
    _shape,
    images,
    kvm_cloud,
)

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def test_a_stopped_kvm_vms_root_disk_becomes_a_template_a_new_vm_starts_from(
    kvm_cloud: Cloud,  # noqa: F811
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    place, host, template = _kvm_host(kvm_cloud, images)
    small, _custom = _offerings(admin)
    vm = _deploy(admin, place, template, small, name="kvm-source")
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    os_type = admin.listOsTypes()["ostype"][0]["id"]

    made: dict[str, Any] = admin.createTemplate(
        name="kvm-golden", displaytext="kvm-golden", ostypeid=os_type, volumeid=root["id"],
        fetch_result=True,
    )["template"]  # fmt: skip
    assert made["isready"] is True
    assert (made["hypervisor"], made["format"], made["zoneid"]) == ("KVM", "QCOW2", place.zone_id)
    assert made["size"] == root["size"]

    clone = _deploy(admin, place, made["id"], small, name="kvm-clone")
    assert clone["hostid"] == host["id"]
    assert _shape(admin, clone["id"])[0] == "Running"
    captured = [
        r
        for r in _kvm_results_by_vm(kvm_cloud).get(made["id"], [])
        if r["action"] == "create_template"
    ]
    assert [r["ok"] for r in captured] == [True]
