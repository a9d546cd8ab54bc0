"""Stuck hypervisor jobs on a distributed cloud: the adapter dies, and the server's sweeper fails
the job it left waiting once `STRATUS_HYPERVISOR_JOB_TIMEOUT` has passed."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

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
    impatient_cloud: Cloud,
) -> None:
    cloud = impatient_cloud
    adapter = cloud.start_adapter("simulator")
    admin = cloud.admin
    place = make_place(admin, "Simulator")
    host = add_host(admin, place, "Simulator", "simulator://sim-stuck?sockets=2", "root", "pw")
    template = _ready_template(cloud, place.zone_id)
    adapter.process.send_signal(signal.SIGKILL)
    adapter.process.wait(timeout=10)
    offering = next(
        o for o in admin.listServiceOfferings()["serviceoffering"] if o["name"] == "Small Instance"
    )
    deployed = admin.deployVirtualMachine(
        zoneid=place.zone_id, serviceofferingid=offering["id"], templateid=template
    )

    def job() -> dict:
        return admin.queryAsyncJobResult(jobid=deployed["jobid"])

    assert wait_for(lambda: job()["jobstatus"] != 0, 30, interval=0.25)
    assert job()["jobstatus"] == 2
    assert "no hypervisor adapter answered within 2 seconds" in job()["jobresult"]["errortext"]
    vm = admin.listVirtualMachines(id=deployed["id"])["virtualmachine"][0]
    assert vm["state"] == "Error"
    assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == 0
