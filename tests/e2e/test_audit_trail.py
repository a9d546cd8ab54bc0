"""The audit views through a real sandbox and the `stratus audit` CLI beside it: scoped to the
caller's account, archived and deleted entries hidden, and no secret in any output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from cs import CloudStackApiException

from tests.conftest import TEST_KEY
from tests.e2e.factories import make_tenant

SIM = "simulator://{name}?sockets=2&cores=8&mhz=2400&memory_gb=16"


def _stratus(sandbox, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STRATUS_DATA=str(sandbox.data_dir), STRATUS_SECRET_KEY=TEST_KEY)
    env.update(sandbox.env)
    return subprocess.run(
        [sys.executable, "-m", "entrypoint.cli", "audit", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _events(client) -> list[dict]:
    return client.listEvents(listall=True).get("event", [])


def _host(admin, password: str) -> tuple[str, str]:
    zone = admin.createZone(
        name="z1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="p1",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
    )["pod"]
    cluster = admin.addCluster(
        clustername="c1",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    host = admin.addHost(
        zoneid=zone["id"],
        podid=pod["id"],
        clusterid=cluster["id"],
        hypervisor="Simulator",
        url=SIM.format(name="h1"),
        username="root",
        password=password,
    )["host"][0]
    return zone["id"], host["id"]


def _wait_job(admin, job_id: str) -> None:
    for _ in range(200):
        if admin.queryAsyncJobResult(jobid=job_id)["jobstatus"] != 0:
            return
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_audit_views_are_scoped_and_never_show_secrets(sandbox, tmp_path: Path) -> None:
    admin = sandbox.client()
    first, second = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    new_password, host_password = f"pw-{uuid.uuid4().hex}", f"hv-{uuid.uuid4().hex}"
    first.client.updateUser(id=first.user_id, password=new_password)
    second.client.updateUser(id=second.user_id, password=f"pw-{uuid.uuid4().hex}")
    zone_id, host_id = _host(admin, host_password)
    job = admin.prepareHostForMaintenance(id=host_id)["jobid"]
    _wait_job(admin, job)
    secrets = [new_password, host_password, first.password, second.password]
    secrets += [first.client.secret, second.client.secret, sandbox.admin["secretkey"]]

    mine = _events(first.client)
    assert mine and {e["account"] for e in mine} == {first.username}
    theirs = {e["id"] for e in _events(second.client)}
    assert theirs and not theirs & {e["id"] for e in mine}

    # A user may hide only their own entries; the log keeps them all.
    with pytest.raises(CloudStackApiException):
        first.client.archiveEvents(ids=sorted(theirs)[0])
    first.client.archiveEvents(ids=mine[0]["id"])
    first.client.deleteEvents(type=mine[-1]["type"])
    left = {e["id"] for e in _events(first.client)}
    assert mine[0]["id"] not in left and mine[-1]["id"] not in left
    assert {e["id"] for e in _events(second.client)} == theirs
    assert "HOST.ADD" in {t["name"] for t in admin.listEventTypes()["eventtype"]}

    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    then = admin.listResourceStateAt(timestamp=later, zoneid=zone_id)["resourcestate"]
    assert {s["resourcetype"] for s in then} == {"Zone", "Host"}
    with pytest.raises(CloudStackApiException):
        first.client.listResourceStateAt(timestamp=later, id=host_id)

    export = tmp_path / "audit.jsonl"
    runs = {
        "log": _stratus(sandbox, "log"),
        "log-json": _stratus(sandbox, "log", "--json"),
        "history": _stratus(sandbox, "history", host_id, "--json"),
        "at": _stratus(sandbox, "at", datetime.now(UTC).isoformat(), host_id),
        "at-zone": _stratus(sandbox, "at", datetime.now(UTC).isoformat(), "--zone", zone_id),
        "export": _stratus(
            sandbox, "export", "--signing-key", str(tmp_path / "k.pem"), "--output", str(export)
        ),
        "verify-export": _stratus(sandbox, "verify-export", str(export)),
        "verify": _stratus(sandbox, "verify"),
    }
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert runs["verify"].stdout.startswith("OK:")
    assert runs["verify-export"].stdout.startswith("OK:")
    history = [orjson.loads(line) for line in runs["history"].stdout.splitlines()]
    maintenance = [r for r in history if r["event"] == "MaintenanceRequested"]
    assert maintenance and maintenance[0]["job_id"] == job  # the job's work names the job
    assert maintenance[0]["user_id"] and maintenance[0]["command"] == "prepareHostForMaintenance"

    outputs = [done.stdout + done.stderr for done in runs.values()]
    outputs += [export.read_text(), orjson.dumps(then).decode(), orjson.dumps(mine).decode()]
    for text in outputs:
        for secret in secrets:
            assert secret not in text


def test_infrastructure_and_catalogue_changes_are_listed_as_events(sandbox) -> None:
    admin = sandbox.client()
    zone_id, _host_id = _host(admin, "sim-password")
    admin.updateZone(id=zone_id, name="z1-renamed")
    offering = admin.createServiceOffering(
        name="audited", displaytext="audited", cpunumber=1, cpuspeed=500, memory=256
    )["serviceoffering"]
    admin.updateServiceOffering(id=offering["id"], displaytext="still audited")
    admin.deleteServiceOffering(id=offering["id"])

    listed = {(e["type"], e["description"]) for e in _events(admin)}

    assert {
        ("ZONE.CREATE", "Creating zone z1"),
        ("POD.CREATE", "Creating pod p1"),
        ("ZONE.EDIT", "Updating zone"),
        ("SERVICE.OFFERING.CREATE", "Creating service offering audited"),
        ("SERVICE.OFFERING.EDIT", "Updating service offering"),
        ("SERVICE.OFFERING.DELETE", "Deleting service offering"),
    } <= listed
    tenant = make_tenant(sandbox, admin, name="auditee")
    assert not {e["type"] for e in _events(tenant.client)} & {"ZONE.CREATE", "POD.CREATE"}
    types = {t["name"] for t in admin.listEventTypes()["eventtype"]}
    assert {"ZONE.DELETE", "DISK.OFFERING.CREATE", "TEMPLATE.DELETE"} <= types
