"""Live migration through the `cs` client, on every leg (SQLite, PostgreSQL, and NATS with the
simulator adapter in a process of its own): find hosts, migrate a running VM, its room moving
with it; bad requests answered with CloudStack's errors and nothing changed; a host's
maintenance moving its VMs away."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_hosts_distributed import Cloud, add_host, make_place
from tests.e2e.test_kvm_lifecycle import _ready_template, images, kvm_cloud, kvm_host_file  # noqa: F401
from tests.e2e.test_routers import (
    SYSTEM_TEMPLATE,
    ensure_router,
    register_template,
    routers,
    wait_for,
)
from tests.e2e.test_vms import CUSTOM_DETAILS, Place, _deploy, _host, _place, _vm

MIB = 1024 * 1024


def _named(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _held(admin: CloudStack, host: dict) -> int:
    return int(admin.listHosts(id=host["id"])["host"][0]["memoryallocated"])


def _two_hosts(admin: CloudStack) -> tuple[Place, dict, dict]:
    place = _place(admin)
    return place, _host(admin, place, _named("m1")), _host(admin, place, _named("m2"))


def test_a_running_vm_moves_to_a_host_find_hosts_offers_and_its_room_follows(sandbox) -> None:
    admin = sandbox.client()
    place, h1, h2 = _two_hosts(admin)
    vm = _deploy(admin, place, place.small, hostid=h1["id"])
    memory = int(place.small["memory"]) * MIB

    found = admin.findHostsForMigration(virtualmachineid=vm["id"])
    assert found["count"] == 1
    (offered,) = found["host"]
    assert offered["id"] == h2["id"] and offered["clusterid"] == place.cluster
    assert offered["suitableformigration"] is True and offered["hasenoughcapacity"] is True
    assert offered["requiresStorageMotion"] is False

    moved = admin.migrateVirtualMachine(
        virtualmachineid=vm["id"], hostid=h2["id"], fetch_result=True
    )["virtualmachine"]
    assert (moved["hostid"], moved["state"]) == (h2["id"], "Running")
    assert _vm(admin, vm["id"])["hostid"] == h2["id"]
    assert (_held(admin, h1), _held(admin, h2)) == (0, memory)
    events = admin.listEvents(type="VM.MIGRATE", listall="true").get("event", [])
    assert any(e["state"] == "Completed" for e in events)
    # The guest runs on the new host: that host stops it (the simulator has it nowhere else).
    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    assert (_held(admin, h1), _held(admin, h2)) == (0, 0)


def test_bad_migrations_are_refused_with_cloudstacks_errors_and_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    place, h1, h2 = _two_hosts(admin)
    other = admin.addCluster(
        clustername="c2", podid=place.pod, zoneid=place.zone, hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    elsewhere = admin.addHost(
        zoneid=place.zone, podid=place.pod, clusterid=other["id"], hypervisor="Simulator",
        url=f"simulator://{_named('m3')}?memory_gb=8", username="root", password="sim-password",
    )["host"][0]  # fmt: skip
    tiny = _host(admin, place, _named("tiny"), cores=1, memory=1)
    vm = _deploy(admin, place, place.custom, hostid=h1["id"], **CUSTOM_DETAILS)
    migrate = admin.migrateVirtualMachine

    text = _refused(migrate, 431, virtualmachineid=vm["id"], hostid=h1["id"])
    assert "already present on this host" in text
    text = _refused(migrate, 431, virtualmachineid=vm["id"], hostid=elsewhere["id"])
    assert "not in the same cluster" in text
    assert "hostId" in _refused(migrate, 431, virtualmachineid=vm["id"])
    assert "not Stopped" in _refused(  # a ROOT disk moves while its VM is stopped
        migrate, 431, virtualmachineid=vm["id"], storageid=str(uuid.uuid4())
    )
    text = _refused(migrate, 533, virtualmachineid=vm["id"], hostid=tiny["id"], fetch_result=True)
    assert "Unable to migrate" in text
    found = admin.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    assert {h["id"]: h["suitableformigration"] for h in found} == {
        h2["id"]: True,
        tiny["id"]: False,
        elsewhere["id"]: True,  # the simulator has storage motion: its disks can go along
    }
    assert [h["id"] for h in found if h["requiresStorageMotion"]] == [elsewhere["id"]]

    alice = make_tenant(sandbox, admin)
    _refused(alice.client.migrateVirtualMachine, 432, virtualmachineid=vm["id"], hostid=h2["id"])
    _refused(alice.client.findHostsForMigration, 432, virtualmachineid=vm["id"])

    assert _vm(admin, vm["id"])["hostid"] == h1["id"]
    assert (_held(admin, h1), _held(admin, h2), _held(admin, tiny)) == (1024 * MIB, 0, 0)

    admin.stopVirtualMachine(id=vm["id"], fetch_result=True)
    text = _refused(migrate, 431, virtualmachineid=vm["id"], hostid=h2["id"], fetch_result=True)
    assert "VM is not Running, unable to migrate the vm" in text
    assert "not running" in _refused(admin.findHostsForMigration, 431, virtualmachineid=vm["id"])
    assert "hostid" not in _vm(admin, vm["id"]) and _held(admin, h2) == 0


def test_maintenance_moves_the_hosts_vms_away_and_cancelling_enables_it(sandbox) -> None:
    admin = sandbox.client()
    place, h1, h2 = _two_hosts(admin)
    vms = [_deploy(admin, place, place.small, hostid=h1["id"]) for _ in range(2)]

    admin.prepareHostForMaintenance(id=h1["id"], fetch_result=True)

    def in_maintenance() -> bool:
        return admin.listHosts(id=h1["id"])["host"][0]["resourcestate"] == "Maintenance"

    assert wait_for(in_maintenance, 60), admin.listHosts(id=h1["id"])["host"][0]
    assert {_vm(admin, vm["id"])["hostid"] for vm in vms} == {h2["id"]}
    assert _held(admin, h1) == 0 and _held(admin, h2) == 2 * int(place.small["memory"]) * MIB
    # Nothing new lands on a host in maintenance.
    third = _deploy(admin, place, place.small)
    assert third["hostid"] == h2["id"]
    enabled = admin.cancelHostMaintenance(id=h1["id"], fetch_result=True)["host"]
    assert enabled["resourcestate"] == "Enabled"


@pytest.mark.postgres
@pytest.mark.nats
def test_on_a_kvm_whose_libvirt_cannot_migrate_the_job_fails_and_the_vm_stays(
    kvm_cloud: Cloud,  # noqa: F811
    images: str,  # noqa: F811
) -> None:
    admin = kvm_cloud.admin
    place = make_place(admin, "KVM")
    nodes = []
    for name in ("kvm-a", "kvm-b"):
        (kvm_cloud.workdir / name).mkdir()
        nodes.append(kvm_host_file(kvm_cloud.workdir / name))
    first, second = (add_host(admin, place, "KVM", n, "admin", "kvm-password") for n in nodes)
    template = _ready_template(admin, place.zone_id, images)
    small = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    vm = admin.deployVirtualMachine(
        zoneid=place.zone_id, serviceofferingid=small["id"], templateid=template,
        hostid=first["id"], fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    found = admin.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    assert [h["id"] for h in found] == [second["id"]]

    text = _refused(
        admin.migrateVirtualMachine, 530, virtualmachineid=vm["id"], hostid=second["id"],
        fetch_result=True,
    )  # fmt: skip
    assert "virDomainMigrate" in text
    kept = admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert (kept["hostid"], kept["state"]) == (first["id"], "Running")
    assert (_held(admin, first), _held(admin, second)) == (int(small["memory"]) * MIB, 0)

    # A host of another KVM cluster is neither offered nor reached: 4.3 gives KVM no storage
    # motion, so the VM cannot take its disks along.
    other = admin.addCluster(
        clustername="kvm-other", podid=place.pod_id, zoneid=place.zone_id, hypervisor="KVM",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    (kvm_cloud.workdir / "kvm-c").mkdir()
    elsewhere = admin.addHost(
        zoneid=place.zone_id, podid=place.pod_id, clusterid=other["id"], hypervisor="KVM",
        url=kvm_host_file(kvm_cloud.workdir / "kvm-c"), username="admin",
        password="kvm-password",
    )["host"][0]  # fmt: skip
    found = admin.findHostsForMigration(virtualmachineid=vm["id"])["host"]
    assert [h["id"] for h in found] == [second["id"]]
    text = _refused(
        admin.migrateVirtualMachineWithVolume, 431, virtualmachineid=vm["id"],
        hostid=elsewhere["id"],
    )  # fmt: skip
    assert "Migration with storage isn't supported on hypervisor KVM" in text
    assert (_held(admin, first), _held(admin, elsewhere)) == (int(small["memory"]) * MIB, 0)


def test_a_router_and_a_console_proxy_move_with_migrate_system_vm(sandbox) -> None:
    admin = sandbox.client()
    place, h1, h2 = _two_hosts(admin)
    register_template(admin, SYSTEM_TEMPLATE)
    router = ensure_router(admin, place.zone, make_tenant(sandbox, admin))
    proxy = admin.createSystemVm(
        zoneid=place.zone, systemvmtype="consoleproxy", hypervisor="Simulator", fetch_result=True
    )["systemvm"]
    other = {h1["id"]: h2, h2["id"]: h1}

    for machine in (router, proxy):
        source, target = machine["hostid"], other[machine["hostid"]]
        before = (_held(admin, {"id": source}), _held(admin, target))
        found = admin.findHostsForMigration(virtualmachineid=machine["id"])["host"]
        assert [h["id"] for h in found] == [target["id"]]
        answer = admin.migrateSystemVm(
            virtualmachineid=machine["id"], hostid=target["id"], fetch_result=True
        )
        moved = answer.get("systemvm") or answer["router"]  # a router answers as scaleSystemVm
        assert (moved["id"], moved["hostid"], moved["state"]) == (
            machine["id"],
            target["id"],
            "Running",
        )
        memory = (before[0] - _held(admin, {"id": source}), _held(admin, target) - before[1])
        assert memory[0] == memory[1] > 0  # the room went with it

    (listed,) = routers(admin, id=router["id"])
    assert listed["hostid"] == other[router["hostid"]]["id"]
    same = _refused(
        admin.migrateSystemVm,
        431,
        virtualmachineid=proxy["id"],
        hostid=other[proxy["hostid"]]["id"],
    )
    assert "already present on this host" in same
    admin.rebootRouter(id=router["id"], fetch_result=True)  # its new host has it


def test_a_host_where_an_anti_affinity_peer_runs_is_not_suitable_and_refused(sandbox) -> None:
    admin = sandbox.client()
    place, h1, h2 = _two_hosts(admin)
    h3 = _host(admin, place, _named("m3"))
    alice = make_tenant(sandbox, admin)
    group_id = alice.client.createAffinityGroup(
        name="apart", type="host anti-affinity", fetch_result=True
    )["affinitygroup"]["id"]
    owner = {"account": alice.username, "domainid": alice.domain_id, "affinitygroupids": group_id}
    first = _deploy(admin, place, place.small, hostid=h1["id"], **owner)
    second = _deploy(admin, place, place.small, hostid=h2["id"], **owner)
    assert (first["hostid"], second["hostid"]) == (h1["id"], h2["id"])

    found = admin.findHostsForMigration(virtualmachineid=first["id"])["host"]
    assert {h["id"]: h["suitableformigration"] for h in found} == {h2["id"]: False, h3["id"]: True}
    assert all(h["hasenoughcapacity"] for h in found)
    text = _refused(
        admin.migrateVirtualMachine, 533, virtualmachineid=first["id"], hostid=h2["id"],
        fetch_result=True,
    )  # fmt: skip
    assert "affinity" in text
    kept = admin.listVirtualMachines(id=first["id"], listall="true")["virtualmachine"][0]
    assert kept["hostid"] == h1["id"]
    moved = admin.migrateVirtualMachine(
        virtualmachineid=first["id"], hostid=h3["id"], fetch_result=True
    )["virtualmachine"]
    assert moved["hostid"] == h3["id"]
