"""Volumes moved between primary storage pools (migrateVolume) through the `cs` client, on every
leg (SQLite, PostgreSQL, NATS with the simulator's adapter in its own process): a running VM's
data disk live (the simulator supports storage motion), a stopped VM's ROOT disk, a detached
disk; the VM starts again from its moved disks; the account's usage and limits do not move;
bad input (no such pool, the same pool, a pool down, out of scope, missing storage tags, no
room, a running VM's disk without livemigrate) is refused and changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.test_isos_and_sharing import _refused
from tests.e2e.test_snapshots import _failed_job
from tests.e2e.test_vms import Place, _deploy, _host, _place
from tests.support.waiting import wait_until

GIB = 1024**3


def _pool(admin: CloudStack, place: Place, gib: float = 100, **extra: str) -> dict:
    scoped = (
        {"scope": "zone", "hypervisor": "Simulator"}
        if extra.pop("zone_wide", "")
        else {"scope": "cluster", "podid": place.pod, "clusterid": place.cluster}
    )
    return admin.createStoragePool(
        name=f"primary-{uuid.uuid4().hex[:6]}", zoneid=place.zone,
        url=f"nfs://10.0.0.5/export/{uuid.uuid4().hex[:6]}", capacitybytes=int(gib * GIB),
        **scoped, **extra,
    )["storagepool"]  # fmt: skip


def _connected(admin: CloudStack, volume_id: str, pool_id: str) -> None:
    """The VM's host has the pool connected (findStoragePoolsForMigration says so)."""

    def suitable() -> bool:
        found = admin.findStoragePoolsForMigration(id=volume_id).get("storagepool", [])
        return any(p["id"] == pool_id and p["suitableformigration"] for p in found)

    wait_until(suitable, what=f"pool {pool_id} to be connected to the volume's host")


def _volume(client: CloudStack, volume_id: str) -> dict:
    return client.listVolumes(id=volume_id, listall="true")["volume"][0]


def _allocated(admin: CloudStack, *pools: dict) -> list[int]:
    return [
        admin.listStoragePools(id=pool["id"])["storagepool"][0]["disksizeallocated"]
        for pool in pools
    ]


def _held(admin: CloudStack, account_id: str) -> tuple:
    account = admin.listAccounts(id=account_id)["account"][0]
    return account["volumetotal"], account["primarystoragetotal"]


def test_disks_move_between_pools_and_the_vm_runs_from_them(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    first = _pool(admin, place, 200)
    tenant = make_tenant(sandbox, admin)
    user = tenant.client
    vm = _deploy(user, place, place.small)
    offering = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = user.createVolume(
        name="data", zoneid=place.zone, diskofferingid=offering["id"], size=5, fetch_result=True
    )["volume"]
    user.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    root = user.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    assert _volume(admin, disk["id"])["storageid"] == first["id"]
    second, wide = _pool(admin, place), _pool(admin, place, zone_wide="true")
    _connected(admin, disk["id"], second["id"])
    _connected(admin, disk["id"], wide["id"])
    held = _held(admin, tenant.account_id)
    before = _allocated(admin, first, second, wide)

    # A running VM's data disk moves live, asked by its owner.
    text = _refused(user.migrateVolume, 431, volumeid=disk["id"], storageid=second["id"])
    assert "livemigrate" in text
    moved = user.migrateVolume(
        volumeid=disk["id"], storageid=second["id"], livemigrate="true", fetch_result=True
    )["volume"]
    assert (moved["id"], moved["state"]) == (disk["id"], "Ready")
    assert _volume(admin, disk["id"])["storageid"] == second["id"]
    size = 5 * GIB
    assert _allocated(admin, first, second, wide) == [before[0] - size, before[1] + size, 0]

    # The stopped VM's ROOT disk moves to the zone-wide pool; the VM starts from it.
    user.stopVirtualMachine(id=vm["id"], fetch_result=True)
    admin.migrateVolume(volumeid=root["id"], storageid=wide["id"], fetch_result=True)
    listed = _volume(admin, root["id"])
    assert (listed["storageid"], listed["storage"]) == (wide["id"], wide["name"])
    on_wide = admin.listVolumes(storageid=wide["id"], listall="true")["volume"]
    assert [v["id"] for v in on_wide] == [root["id"]]
    found = admin.listVirtualMachines(storageid=wide["id"], listall="true")["virtualmachine"]
    assert [v["id"] for v in found] == [vm["id"]]
    _refused(user.listVirtualMachines, 531, storageid=wide["id"])  # root administrators only
    started = user.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"

    # A detached disk is copied by a host that has both pools.
    user.detachVolume(id=disk["id"], fetch_result=True)
    admin.migrateVolume(volumeid=disk["id"], storageid=first["id"], fetch_result=True)
    assert _volume(admin, disk["id"])["storageid"] == first["id"]
    assert _allocated(admin, first, second, wide) == [before[0] - root["size"], 0, root["size"]]
    assert _held(admin, tenant.account_id) == held  # limits count the account's disks, not pools
    usage = _volume(admin, disk["id"])
    assert (usage["size"], usage["state"]) == (size, "Ready")


def test_bad_moves_are_refused_and_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    home = _pool(admin, place, 200, tags="gold")
    gold = admin.createServiceOffering(
        name=f"gold-{uuid.uuid4().hex[:6]}", displaytext="gold", cpunumber=1, cpuspeed=500,
        memory=512, tags="gold",
    )["serviceoffering"]  # fmt: skip
    vm = _deploy(admin, place, gold)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    other = admin.addCluster(
        clustername="c2", podid=place.pod, zoneid=place.zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    far = _pool(admin, replace(place, cluster=other["id"]), tags="gold")
    tagged = _pool(admin, place, tags="ssd")
    small = _pool(admin, place, 0.25, tags="gold")  # x 2 over-provisioned: 512 MiB
    down = _pool(admin, place, tags="gold")
    admin.enableStorageMaintenance(id=down["id"], fetch_result=True)
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    before = _allocated(admin, home, far, tagged, small, down)

    assert "destination storage pool" in _refused(
        admin.migrateVolume, 431, volumeid=root["id"], storageid=str(uuid.uuid4())
    )
    refusals = {
        home["id"]: (431, "already on that storage pool"),
        far["id"]: (431, "out of the scope"),
        tagged["id"]: (431, "storage tags"),
        small["id"]: (533, "no room"),
        down["id"]: (431, "not Up"),
    }
    for pool_id, (code, words) in refusals.items():
        failed = _failed_job(admin, admin.migrateVolume(volumeid=root["id"], storageid=pool_id))
        assert failed["errorcode"] == code and words in failed["errortext"], failed
    assert _volume(admin, root["id"])["storageid"] == home["id"]
    assert _allocated(admin, home, far, tagged, small, down) == before

    # A disk on the host's own storage (no pool) cannot move; a running VM's disk needs
    # livemigrate where storage motion is supported.
    nowhere = admin.createVolume(
        name="loose", zoneid=place.zone, size=1,
        diskofferingid=next(
            o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom"
        )["id"],
        fetch_result=True,
    )["volume"]  # fmt: skip
    failed = _failed_job(admin, admin.migrateVolume(volumeid=nowhere["id"], storageid=home["id"]))
    assert failed["errorcode"] == 431 and "ready state" in failed["errortext"]
    admin.startVirtualMachine(id=vm["id"], fetch_result=True)
    text = _refused(admin.migrateVolume, 431, volumeid=root["id"], storageid=tagged["id"])
    assert "livemigrate should be specified" in text
    assert _volume(admin, root["id"])["storageid"] == home["id"]


def _moving(volume_id: str, pool_id: str) -> dict[str, str]:
    return {"migrateto[0].volume": volume_id, "migrateto[0].pool": pool_id}


def test_a_running_vm_moves_to_another_host_with_its_disks(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    h1, h2 = _host(admin, place, "h1"), _host(admin, place, "h2")
    first = _pool(admin, place, 200)
    vm = _deploy(admin, place, place.small, hostid=h1["id"])
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    second = _pool(admin, place)
    _connected(admin, root["id"], second["id"])
    other = _deploy(admin, place, place.small, hostid=h2["id"])
    foreign = admin.listVolumes(virtualmachineid=other["id"], type="ROOT")["volume"][0]

    refusals = {
        "doesn't belong to the vm": _moving(foreign["id"], second["id"]),
        "no storage pool present": _moving(root["id"], str(uuid.uuid4())),
        "no volume present": _moving(str(uuid.uuid4()), second["id"]),
    }
    for words, moving in refusals.items():
        text = _refused(
            admin.migrateVirtualMachineWithVolume, 431, virtualmachineid=vm["id"],
            hostid=h2["id"], **moving,
        )  # fmt: skip
        assert words in text
    assert _volume(admin, root["id"])["storageid"] == first["id"]

    moved = admin.migrateVirtualMachineWithVolume(
        virtualmachineid=vm["id"], hostid=h2["id"], fetch_result=True,
        **_moving(root["id"], second["id"]),
    )["virtualmachine"]  # fmt: skip
    assert (moved["hostid"], moved["state"]) == (h2["id"], "Running")
    assert _volume(admin, root["id"])["storageid"] == second["id"]
    assert _allocated(admin, first, second) == [foreign["size"], root["size"]]


def test_a_move_the_host_fails_leaves_the_disks_where_they_were(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    failing = _host(admin, place, "h1", extra="&fail=migrate_vm,migrate_volume")
    _host(admin, place, "h2")
    first = _pool(admin, place, 200)
    vm = _deploy(admin, place, place.small, hostid=failing["id"])
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    second = _pool(admin, place)
    _connected(admin, root["id"], second["id"])
    before = _allocated(admin, first, second)
    others = [h["id"] for h in admin.listHosts(clusterid=place.cluster)["host"]]
    destination = next(h for h in others if h != failing["id"])

    failed = _failed_job(
        admin,
        admin.migrateVirtualMachineWithVolume(
            virtualmachineid=vm["id"], hostid=destination, **_moving(root["id"], second["id"])
        ),
    )
    assert "migrate_volume" in failed["errortext"], failed
    assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["hostid"] == failing["id"]
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    failed = _failed_job(admin, admin.migrateVolume(volumeid=root["id"], storageid=second["id"]))
    assert "migrate_volume" in failed["errortext"], failed
    assert _volume(admin, root["id"])["storageid"] == first["id"]
    assert _allocated(admin, first, second) == before


def test_a_stopped_vms_root_disk_moves_with_migrate_virtual_machine(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1")
    first = _pool(admin, place, 200)
    vm = _deploy(admin, place, place.small)
    root = admin.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    second = _pool(admin, place)
    _connected(admin, root["id"], second["id"])
    migrate = admin.migrateVirtualMachine

    assert "not Stopped" in _refused(
        migrate, 431, virtualmachineid=vm["id"], storageid=second["id"]
    )
    assert "Only one" in _refused(
        migrate, 431, virtualmachineid=vm["id"], storageid=second["id"], hostid=host["id"]
    )
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    offering = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")
    disk = admin.createVolume(
        name="data", zoneid=place.zone, diskofferingid=offering["id"], size=1, fetch_result=True
    )["volume"]
    admin.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert "Data disks attached" in _refused(
        migrate, 431, virtualmachineid=vm["id"], storageid=second["id"]
    )
    admin.detachVolume(id=disk["id"], fetch_result=True)
    assert "destination storage pool" in _refused(
        migrate, 431, virtualmachineid=vm["id"], storageid=str(uuid.uuid4())
    )
    assert _volume(admin, root["id"])["storageid"] == first["id"]

    moved = migrate(virtualmachineid=vm["id"], storageid=second["id"], fetch_result=True)
    assert moved["virtualmachine"]["id"] == vm["id"]
    assert _volume(admin, root["id"])["storageid"] == second["id"]
    started = admin.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"
