"""Data disks on the hypervisor, through the `cs` client, with simulator hosts in the server.

Attaching, detaching and resizing a disk of a VM that has a host go through the adapter of that
host: the volume changes when the adapter confirms, and a failure (injected through the
simulator's control file, `STRATUS_SIMULATOR_CONTROL`) leaves the volume as it was, with its
slot on the VM free again, and fails the job with the reason. A VM that never ran takes its
disks on the record, and its first start gives them to the hypervisor.

The simulator's own view of the VM's disks is checked through the adapter: resizing a disk the
hypervisor does not have attached to the VM fails there ("no disk ... is attached"), so a resize
that succeeds shows the disk is plugged in on the host. `test_volumes_on_distributed_hosts.py`
reads the disks the adapters report in their results.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.sandbox import Sandbox
from tests.e2e.test_vms import _deploy, _host, _place, _vm

GIB = 1024**3


@pytest.fixture
def controlled(sandbox: Sandbox) -> tuple[Sandbox, Path]:
    """A sandbox on the module's shared server, and the control file its simulator reads."""
    return sandbox, sandbox.control_file


def _fail_next(control: Path, **failures: int) -> None:
    """The simulator fails that many more of the next such actions (counts only ever grow)."""
    written = json.loads(control.read_text()) if control.exists() else {}
    asked = written.setdefault("failures", {})
    for action, more in failures.items():  # on top of what earlier tests on this server asked
        asked[action] = int(asked.get(action, 0)) + more
    partial = control.with_suffix(".part")
    partial.write_text(json.dumps(written))
    partial.replace(control)


def _disk(admin: CloudStack, zone: str, size: int = 10) -> dict:
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    return admin.createVolume(
        name=f"data-{uuid.uuid4().hex[:6]}", zoneid=zone, diskofferingid=custom["id"],
        size=size, fetch_result=True,
    )["volume"]  # fmt: skip


def _volume(client: CloudStack, volume_id: str) -> dict:
    return client.listVolumes(id=volume_id)["volume"][0]


def _refused(call: object) -> str:
    with pytest.raises(CloudStackApiException) as failed:
        call()  # type: ignore[operator]
    return str(failed.value.error["errortext"])


def test_a_running_vm_gets_its_disk_attached_resized_and_detached_by_its_host(
    controlled: tuple[Sandbox, Path],
) -> None:
    server, _control = controlled
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    disk = _disk(admin, place.zone)
    attached = admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert (attached["volume"]["deviceid"], attached["volume"]["vmstate"]) == (1, "Running")
    grown = admin.resizeVolume(id=disk["id"], size=20, fetch_result=True)["volume"]
    assert grown["size"] == 20 * GIB
    admin.detachVolume(id=disk["id"], fetch_result=True)
    assert "virtualmachineid" not in _volume(admin, disk["id"])
    # Detached, the disk is no longer on the VM at the host: a resize changes the record only.
    assert admin.resizeVolume(id=disk["id"], size=30, fetch_result=True)["volume"]["size"] == (
        30 * GIB
    )
    jobs = admin.listAsyncJobs()["asyncjobs"]
    volume_jobs = [j for j in jobs if j.get("jobinstanceid") == disk["id"]]
    assert {j["jobinstancetype"] for j in volume_jobs} == {"Volume"}
    assert all(j["jobstatus"] == 1 for j in volume_jobs)


def test_a_failed_attach_leaves_the_volume_detached_and_its_slot_free(
    controlled: tuple[Sandbox, Path],
) -> None:
    server, control = controlled
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    disk = _disk(admin, place.zone)
    _fail_next(control, attach_volume=1)
    text = _refused(
        lambda: admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    )
    assert text.startswith(f"Unable to attach volume {disk['name']}: the hypervisor refused")
    assert "simulated failure of attach_volume" in text
    after = _volume(admin, disk["id"])
    assert "virtualmachineid" not in after and after["state"] == "Allocated"
    again = admin.attachVolume(
        id=disk["id"], virtualmachineid=vm["id"], deviceid=1, fetch_result=True
    )["volume"]
    assert (again["virtualmachineid"], again["deviceid"]) == (vm["id"], 1)


def test_failed_resize_and_detach_leave_the_disk_as_it_was(
    controlled: tuple[Sandbox, Path],
) -> None:
    server, control = controlled
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    disk = _disk(admin, place.zone)
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    _fail_next(control, resize_volume=1, detach_volume=1)
    resized = _refused(lambda: admin.resizeVolume(id=disk["id"], size=20, fetch_result=True))
    assert resized.startswith(f"Unable to resize volume {disk['name']}")
    detached = _refused(lambda: admin.detachVolume(id=disk["id"], fetch_result=True))
    assert detached.startswith(f"Unable to detach volume {disk['name']}")
    after = _volume(admin, disk["id"])
    assert (after["size"], after["virtualmachineid"], after["deviceid"]) == (
        10 * GIB,
        vm["id"],
        1,
    )
    with pytest.raises(CloudStackApiException):  # still attached: it cannot be deleted
        admin.deleteVolume(id=disk["id"])


def test_a_vm_that_never_ran_takes_its_disk_to_the_hypervisor_when_it_starts(
    controlled: tuple[Sandbox, Path],
) -> None:
    server, _control = controlled
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small, startvm="false")
    disk = _disk(admin, place.zone)
    attached = admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert (attached["volume"]["deviceid"], attached["volume"]["vmstate"]) == (1, "Stopped")
    admin.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _vm(admin, vm["id"])["state"] == "Running"
    # The host resizes only disks it has plugged into the VM: the start gave it this one.
    assert admin.resizeVolume(id=disk["id"], size=12, fetch_result=True)["volume"]["size"] == (
        12 * GIB
    )


def test_a_stopped_vm_gets_its_disk_through_its_last_host(
    controlled: tuple[Sandbox, Path],
) -> None:
    server, control = controlled
    admin = server.client()
    place = _place(admin)
    _host(admin, place, "h1")
    vm = _deploy(admin, place, place.small)
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    disk = _disk(admin, place.zone)
    _fail_next(control, attach_volume=1)  # the last host is asked, and it fails
    assert "attach_volume" in _refused(
        lambda: admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    )
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    admin.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert admin.resizeVolume(id=disk["id"], size=11, fetch_result=True)["volume"]["size"] == (
        11 * GIB
    )
