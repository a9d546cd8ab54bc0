"""A running VM moves to a host of another cluster together with its disks
(migrateVirtualMachineWithVolume), through the `cs` client on every leg (SQLite, PostgreSQL,
NATS with the simulator's adapter in its own process): findHostsForMigration says which hosts
need storage motion; the disks `migrateto` names go to those pools and the others to a pool
of the destination's cluster with room; the room held on hosts and pools moves with it. Bad
moves are refused (and a host whose pools have no room for the disks is not suitable), and a
host that fails the move leaves the VM and every disk where they were, with nothing held."""

from __future__ import annotations

import uuid
from dataclasses import replace

from cs import CloudStack

from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_snapshots import _failed_job
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.e2e.test_volume_migration import _allocated, _connected, _pool, _volume

GIB = 1024**3


def _cluster(admin: CloudStack, place: Place, name: str) -> Place:
    cluster = admin.addCluster(
        clustername=name, podid=place.pod, zoneid=place.zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    return replace(place, cluster=cluster["id"])


def _memory(admin: CloudStack, *hosts: dict) -> list[int]:
    return [admin.listHosts(id=h["id"])["host"][0]["memoryallocated"] for h in hosts]


def _vm_with_disk(admin: CloudStack, place: Place, host: dict) -> tuple[dict, dict, dict]:
    """A VM running on `host` with a 5 GiB data disk; its ROOT and data volumes."""
    vm = _deploy(admin, place, place.small, hostid=host["id"])
    offering = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = admin.createVolume(
        name="data", zoneid=place.zone, diskofferingid=offering["id"], size=5, fetch_result=True
    )["volume"]
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    return vm, root, disk


def _reached(admin: CloudStack, place: Place, host: dict, pool: dict) -> None:
    """The pool is connected to the host: a VM deployed there finds it suitable."""
    probe = _deploy(admin, place, place.small, hostid=host["id"])
    root = admin.listVolumes(virtualmachineid=probe["id"], type="ROOT")["volume"][0]
    _connected(admin, root["id"], pool["id"])
    admin.destroyVirtualMachine(id=probe["id"], expunge="true", fetch_result=True)


def _moving(volume_id: str, pool_id: str) -> dict[str, str]:
    return {"migrateto[0].volume": volume_id, "migrateto[0].pool": pool_id}


def test_a_running_vm_moves_to_another_cluster_with_its_disks(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    h1, h2 = _host(admin, place, "h1"), _host(admin, place, "h2")
    there = _cluster(admin, place, "c2")
    h3 = _host(admin, there, "h3")
    home = _pool(admin, place, 200)
    far = _pool(admin, there, 200)
    _pool(admin, there, 0.25)  # too small for the data disk: the server does not pick it
    _reached(admin, there, h3, far)
    vm, root, disk = _vm_with_disk(admin, place, h1)
    assert {_volume(admin, v["id"])["storageid"] for v in (root, disk)} == {home["id"]}

    found = admin.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    motion = {h["id"]: h["requiresStorageMotion"] for h in found}
    assert motion == {h2["id"]: False, h3["id"]: True}
    assert all(h["suitableformigration"] for h in found)

    text = _refused(admin.migrateVirtualMachine, 431, virtualmachineid=vm["id"], hostid=h3["id"])
    assert "same cluster" in text
    text = _refused(
        admin.migrateVirtualMachineWithVolume, 431, virtualmachineid=vm["id"], hostid=h2["id"]
    )
    assert "doesn't involve migrating the volumes" in text
    pools_before = _allocated(admin, home, far)
    memory_before = _memory(admin, h1, h3)

    # The ROOT disk goes where migrateto says; the data disk to a pool the server picks.
    moved = admin.migrateVirtualMachineWithVolume(
        virtualmachineid=vm["id"], hostid=h3["id"], fetch_result=True,
        **_moving(root["id"], far["id"]),
    )["virtualmachine"]  # fmt: skip
    assert (moved["hostid"], moved["state"]) == (h3["id"], "Running")
    assert {_volume(admin, v["id"])["storageid"] for v in (root, disk)} == {far["id"]}
    listed = _volume(admin, root["id"])
    assert (listed["hypervisor"], listed["serviceofferingid"]) == ("Simulator", place.small["id"])
    assert listed["serviceofferingname"] == place.small["name"]
    assert "serviceofferingid" not in _volume(admin, disk["id"])
    both = root["size"] + 5 * GIB
    assert _allocated(admin, home, far) == [pools_before[0] - both, pools_before[1] + both]
    small = 512 * 1024 * 1024
    assert _memory(admin, h1, h3) == [memory_before[0] - small, memory_before[1] + small]

    # It starts again in its new cluster, whose pools hold its disks.
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    started = admin.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert (started["state"], started["hostid"]) == ("Running", h3["id"])


def test_bad_moves_across_clusters_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    failing = _host(admin, place, "h1", extra="&fail=migrate_vm")
    there = _cluster(admin, place, "c2")
    h3 = _host(admin, there, "h3")
    crowded = _cluster(admin, place, "c3")
    h4 = _host(admin, crowded, "h4")
    home, second = _pool(admin, place, 200), _pool(admin, place, 200)
    far = _pool(admin, there, 200)
    tiny = _pool(admin, crowded, 0.25)  # x 2 over-provisioned: 512 MiB, room for neither disk
    _reached(admin, there, h3, far)
    vm, root, disk = _vm_with_disk(admin, place, failing)
    on = {v["id"]: _volume(admin, v["id"])["storageid"] for v in (root, disk)}
    pools_before = _allocated(admin, home, second, far, tiny)
    memory_before = _memory(admin, failing, h3, h4)
    migrate = admin.migrateVirtualMachineWithVolume
    found = admin.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    offered = {h["id"]: (h["requiresStorageMotion"], h["suitableformigration"]) for h in found}
    assert offered == {h3["id"]: (True, True), h4["id"]: (True, False)}  # no pool has room

    assert "no storage pool present" in _refused(
        migrate, 431, virtualmachineid=vm["id"], hostid=h3["id"],
        **_moving(root["id"], str(uuid.uuid4())),
    )  # fmt: skip
    failures = [
        # a pool of the VM's own cluster, out of reach of the destination
        (h3, _moving(root["id"], second["id"]), 431, "out of the scope"),
        # no pool of the destination's cluster has room for the disks
        (h4, {}, 533, "Cannot find a storage pool"),
        # the host fails the move: the VM and its disks stay, the room held is given back
        (h3, _moving(root["id"], far["id"]), 530, "migrate_vm"),
    ]
    for host, moving, code, words in failures:
        failed = _failed_job(admin, migrate(virtualmachineid=vm["id"], hostid=host["id"], **moving))
        assert words in failed["errortext"], failed
        assert failed["errorcode"] == code, failed

    listed = admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert (listed["hostid"], listed["state"]) == (failing["id"], "Running")
    assert {v: _volume(admin, v)["storageid"] for v in on} == on
    assert _allocated(admin, home, second, far, tiny) == pools_before
    assert _memory(admin, failing, h3, h4) == memory_before
