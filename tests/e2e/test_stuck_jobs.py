"""Stuck hypervisor jobs on a distributed cloud: the adapter dies, and the server's sweeper fails
the job it left waiting once `STRATUS_HYPERVISOR_JOB_TIMEOUT` has passed."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.e2e.test_hosts_distributed import (
    FAST_HEARTBEATS,
    Cloud,
    add_host,
    distributed_cloud,
    make_place,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

# Hosts whose adapters run are kept Up through a loaded machine's pauses: a host is taken for
# silent after 8 s without a heartbeat, so work behind a busy host is never given up on early.
STEADY_HEARTBEATS = {
    "STRATUS_HEARTBEAT_INTERVAL": "0.5",
    "STRATUS_HEARTBEAT_TIMEOUT": "8",
    "STRATUS_HOST_DOWN_TIMEOUT": "16",
}


@pytest.fixture
def impatient_cloud(tmp_path: Path) -> Iterator[Cloud]:
    with distributed_cloud(
        tmp_path, STRATUS_HYPERVISOR_JOB_TIMEOUT="2", **FAST_HEARTBEATS
    ) as cloud:
        yield cloud


def _ready_template(cloud: Cloud, zone_id: str) -> str:
    admin = cloud.admin
    template = admin.registerTemplate(
        name="tiny", displaytext="tiny", hypervisor="Simulator", format="QCOW2",
        url="http://images.example.org/tiny.qcow2", ostypeid=admin.listOsTypes()["ostype"][0]["id"],
        zoneid=zone_id, ispublic="true",
    )["template"][0]  # fmt: skip
    ready = wait_for(
        lambda: admin.listTemplates(templatefilter="all", id=template["id"])["template"][0].get(
            "isready"
        ),
        30,
    )
    assert ready
    return str(template["id"])


def test_a_deploy_no_adapter_answers_fails_after_the_timeout_and_frees_the_host(
    tmp_path: Path,
) -> None:
    """The adapter takes the start and dies before it answers (its hosts start nothing for a
    minute): once the host has been silent past the timeouts the job fails and gives the room
    back."""
    control = tmp_path / "control.json"
    control.write_bytes(orjson.dumps({"delays": {"start_vm": 60}}))
    settings = {"STRATUS_HYPERVISOR_JOB_TIMEOUT": "2", "STRATUS_SIMULATOR_CONTROL": str(control)}
    with distributed_cloud(tmp_path, **settings, **STEADY_HEARTBEATS) as cloud:
        adapter = cloud.start_adapter("simulator")
        admin = cloud.admin
        place = make_place(admin, "Simulator")
        url = "simulator://sim-stuck?sockets=2"
        host = add_host(admin, place, "Simulator", url, "root", "pw")
        template = _ready_template(cloud, place.zone_id)
        offering = next(
            o
            for o in admin.listServiceOfferings()["serviceoffering"]
            if o["name"] == "Small Instance"
        )
        deployed = admin.deployVirtualMachine(
            zoneid=place.zone_id, serviceofferingid=offering["id"], templateid=template
        )

        def vm() -> dict:
            return dict(admin.listVirtualMachines(id=deployed["id"])["virtualmachine"][0])

        assert wait_for(lambda: vm().get("hostid") == host["id"], 30, interval=0.1)
        adapter.process.send_signal(signal.SIGKILL)
        adapter.process.wait(timeout=10)

        def job() -> dict:
            return admin.queryAsyncJobResult(jobid=deployed["jobid"])

        assert wait_for(lambda: job()["jobstatus"] != 0, 30, interval=0.25)
        assert job()["jobstatus"] == 2
        assert "no hypervisor adapter answered within 2 seconds" in job()["jobresult"]["errortext"]
        assert vm()["state"] == "Error"
        assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == 0


MIB = 1024**2


def _guests(state: Path, host: str) -> dict[str, dict]:
    """The VMs a simulated host has, as it keeps them on disk."""
    path = state / f"{host}.json"
    return dict(orjson.loads(path.read_bytes())["vms"]) if path.exists() else {}


def _running_on_simulator(state: Path, host: str) -> set[str]:
    guests = _guests(state, host)
    return {name for name, guest in guests.items() if guest["state"] == "Running"}


def _running_in_cloud(admin) -> set[str]:
    listed = admin.listVirtualMachines(listall="true").get("virtualmachine", [])
    return {vm["instancename"] for vm in listed if vm["state"] == "Running"}


def _slow_host_cloud(tmp_path: Path) -> tuple[contextlib.AbstractContextManager[Cloud], Path]:
    """A cloud whose simulated hosts take half a second per start (twice the job
    timeout for the eight deploys below), kept on disk where the test can look."""
    state, control = tmp_path / "hypervisor", tmp_path / "control.json"
    control.write_bytes(orjson.dumps({"delays": {"start_vm": 0.5}}))
    settings = {
        "STRATUS_HYPERVISOR_JOB_TIMEOUT": "2",
        "STRATUS_BUS_ACK_WAIT": "3",
        "STRATUS_SIMULATOR_STATE": str(state),
        "STRATUS_SIMULATOR_CONTROL": str(control),
        **STEADY_HEARTBEATS,
    }
    return distributed_cloud(tmp_path, **settings), state


def _eight_deploys(cloud: Cloud) -> tuple[dict, dict[str, str]]:
    """Eight deploys on one slow host: the host, and each deploy's job by its VM's id."""
    admin = cloud.admin
    place = make_place(admin, "Simulator")
    host = add_host(admin, place, "Simulator", "simulator://sim-slow?cores=32", "root", "pw")
    template = _ready_template(cloud, place.zone_id)
    offerings = admin.listServiceOfferings()["serviceoffering"]
    offering = next(o for o in offerings if o["name"] == "Small Instance")
    deployed = [
        admin.deployVirtualMachine(
            zoneid=place.zone_id, serviceofferingid=offering["id"], templateid=template
        )
        for _ in range(8)
    ]
    return host, {vm["id"]: vm["jobid"] for vm in deployed}


def test_deploys_queued_behind_a_slow_host_all_start_though_it_takes_longer_than_the_timeout(
    tmp_path: Path,
) -> None:
    made, state = _slow_host_cloud(tmp_path)
    with made as cloud:
        cloud.start_adapter("simulator")
        admin = cloud.admin
        _, deploys = _eight_deploys(cloud)
        jobs = list(deploys.values())

        def statuses() -> list[int]:
            return [admin.queryAsyncJobResult(jobid=job)["jobstatus"] for job in jobs]

        assert wait_for(lambda: 0 not in statuses(), 60, interval=0.25)
        assert statuses() == [1] * 8

        def agreed() -> bool:
            running = _running_in_cloud(admin)
            return len(running) == 8 and _running_on_simulator(state, "sim-slow") == running

        assert wait_for(agreed, 30, interval=0.25)


def test_starts_given_up_on_with_their_adapter_dead_leave_no_vm_running_behind_the_cloud(
    tmp_path: Path,
) -> None:
    """A slow host and its adapter killed under load: the jobs waiting on it fail once the
    host is silent, and when an adapter comes back and does the work after all, what it
    started for them is stopped: the hypervisor runs what the cloud says, and room is held for
    exactly that."""
    made, state = _slow_host_cloud(tmp_path)
    with made as cloud:
        adapter = cloud.start_adapter("simulator")
        admin = cloud.admin
        host, deploys = _eight_deploys(cloud)
        jobs = list(deploys.values())

        def statuses() -> list[int]:
            return [admin.queryAsyncJobResult(jobid=job)["jobstatus"] for job in jobs]

        assert wait_for(lambda: 1 in statuses(), 30, interval=0.1)
        adapter.process.send_signal(signal.SIGKILL)
        adapter.process.wait(timeout=10)
        assert wait_for(lambda: 0 not in statuses(), 60, interval=0.25)
        assert 2 in statuses()  # some were given up on with their adapter gone
        cloud.start_adapter("simulator")  # it takes what was left, and does it after all

        # A deploy planned only after the silent host went Down was never sent to it.
        sent = {
            vm_id
            for vm_id, job in deploys.items()
            if "Unable to create a deployment"
            not in str(admin.queryAsyncJobResult(jobid=job).get("jobresult", {}).get("errortext"))
        }

        def all_taken() -> bool:
            vms = admin.listVirtualMachines()["virtualmachine"]
            names = {vm["instancename"] for vm in vms if vm["id"] in sent}
            return names <= set(_guests(state, "sim-slow"))

        def agreed() -> bool:
            return _running_on_simulator(state, "sim-slow") == _running_in_cloud(admin)

        assert wait_for(all_taken, 60, interval=0.25)
        assert wait_for(agreed, 60, interval=0.25)
        running = _running_in_cloud(admin)
        held = admin.listHosts(id=host["id"])["host"][0]["memoryallocated"]
        assert held == 512 * MIB * len(running)


def test_a_template_no_adapter_of_its_kind_downloads_fails_then_is_ready_when_one_comes(
    impatient_cloud: Cloud,
) -> None:
    cloud = impatient_cloud  # no adapter runs yet
    admin = cloud.admin
    place = make_place(admin, "Simulator")
    template = admin.registerTemplate(
        name="lonely", displaytext="lonely", hypervisor="Simulator", format="QCOW2",
        url="http://images.example.org/lonely.qcow2",
        ostypeid=admin.listOsTypes()["ostype"][0]["id"], zoneid=place.zone_id,
    )["template"][0]  # fmt: skip

    def listed() -> dict:
        return admin.listTemplates(templatefilter="all", id=template["id"])["template"][0]

    assert wait_for(lambda: "no hypervisor adapter answered" in listed()["status"], 30, 0.25)
    assert not listed()["isready"]
    cloud.start_adapter("simulator")  # it takes the download after all
    assert wait_for(lambda: listed()["isready"], 30, 0.25)
    assert listed()["status"] == "Download Complete"
