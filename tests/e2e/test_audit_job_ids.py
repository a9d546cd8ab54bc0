"""The audit trail follows a job through its adapter: the event that made a deployed VM Running
(recorded when the simulator's result came back) names the same job and API request as the
events the deployVirtualMachine call wrote itself, and the process that applied the result."""

from __future__ import annotations

import orjson

from tests.e2e.test_audit_trail import _stratus, _wait_job
from tests.e2e.test_vms import _host, _place


def test_the_event_that_made_a_vm_running_names_the_deploy_job(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    answer = admin.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template
    )
    _wait_job(admin, answer["jobid"])
    assert admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Running"

    done = _stratus(sandbox, "history", answer["id"], "--json")
    assert done.returncode == 0, done.stderr
    history = {r["event"]: r for r in map(orjson.loads, done.stdout.splitlines())}
    asked, started = history["StartRequested"], history["Started"]
    assert asked["command"] == "deployVirtualMachine" and asked["job_id"] == answer["jobid"]
    assert started["command"] == "result:start_vm" and started["process"]
    assert (started["job_id"], started["request_id"]) == (asked["job_id"], asked["request_id"])
    assert history["Deployed"]["request_id"] == asked["request_id"]
