"""An embedded server killed with SIGKILL in the middle of a burst of deploys, then started
again on the same data: every accepted job ends long before the hypervisor job timeout, the
simulated hypervisor (kept on disk, as a real one outlives the server) runs exactly the VMs the
cloud says run, none was started twice, and the room held on the host is what they take."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from cs import CloudStack

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.test_vms import _host, _place

MIB = 1024**2
CLIENTS = 8
KILL_AFTER = 24  # deploys accepted before the kill
DEADLINE = 120.0  # far below the hypervisor job timeout of 600 s


@pytest.fixture
def hypervisor(tmp_path: Path) -> dict[str, str]:
    """The simulator's state kept in a directory; every start takes a little while."""
    control = tmp_path / "control.json"
    control.write_bytes(orjson.dumps({"delays": {"start_vm": 0.2}}))
    return {
        "STRATUS_SIMULATOR_STATE": str(tmp_path / "hypervisor"),
        "STRATUS_SIMULATOR_CONTROL": str(control),
    }


@pytest.fixture
def restartable(tmp_path: Path, hypervisor: dict[str, str]) -> Iterator[list[Server]]:
    servers = [start_server(tmp_path / "data", hypervisor)]
    try:
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                stop_server(server)


def _burst(server: Server, place) -> list[dict]:
    """Deploys from several clients at once, until enough were accepted."""
    lock, accepted = threading.Lock(), []

    def client_loop(_: int) -> None:
        client = server.client(timeout=30)
        while True:
            with lock:
                if len(accepted) >= KILL_AFTER:
                    return
            answer = client.deployVirtualMachine(
                zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template
            )
            with lock:
                accepted.append(answer)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client_loop, range(CLIENTS)))
    return accepted


def _kill_with_work_in_flight(server: Server) -> int:
    """SIGKILL once the relay has recorded that it sent every request (so a restart does not
    send them again by itself) while jobs still wait; returns how many were pending then."""
    database = sqlite3.connect(server.data_dir / "stratus.db")
    try:
        head = database.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sent = database.execute(
                "SELECT position FROM projection_positions WHERE name = 'outbox'"
            ).fetchone()
            pending = database.execute("SELECT count(*) FROM jobs WHERE status = 0").fetchone()[0]
            if sent and sent[0] >= head:
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(timeout=30)
                return int(pending)
            time.sleep(0.05)
    finally:
        database.close()
    raise AssertionError("the relay never recorded sending the burst's requests")


def _all_ended(admin: CloudStack, job_ids: list[str]) -> dict[str, int]:
    deadline, status = time.monotonic() + DEADLINE, {}
    while time.monotonic() < deadline:
        status = {j: admin.queryAsyncJobResult(jobid=j)["jobstatus"] for j in job_ids}
        if all(s != 0 for s in status.values()):
            return status
        time.sleep(0.25)
    pending = sum(1 for s in status.values() if s == 0)
    raise AssertionError(f"{pending} accepted jobs still pending after {DEADLINE:g} s")


def _simulated(hypervisor: dict[str, str], host: str) -> dict[str, dict]:
    path = Path(hypervisor["STRATUS_SIMULATOR_STATE"]) / f"{host}.json"
    return dict(orjson.loads(path.read_bytes())["vms"]) if path.exists() else {}


def test_a_server_killed_during_a_burst_of_deploys_ends_every_accepted_job_on_restart(
    tmp_path: Path, restartable: list[Server], hypervisor: dict[str, str]
) -> None:
    first = restartable[0]
    admin = first.client(timeout=30)
    place = _place(admin)
    host = _host(admin, place, "h1", cores=64, memory=64)
    accepted = _burst(first, place)
    assert _kill_with_work_in_flight(first) > 0
    second = start_server(tmp_path / "data", hypervisor)
    restartable.append(second)
    admin = second.client(timeout=30)
    _all_ended(admin, [a["jobid"] for a in accepted])
    _assert_cloud_and_hypervisor_agree(admin, hypervisor, host["id"])


def _assert_cloud_and_hypervisor_agree(
    admin: CloudStack, hypervisor: dict[str, str], host_id: str
) -> None:
    """Nothing wrong (`_disagreement`), waited for: the read models may show the last results
    a moment after the jobs ended."""
    deadline = time.monotonic() + 30
    while (found := _disagreement(admin, hypervisor, host_id)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not found, found


def _disagreement(admin: CloudStack, hypervisor: dict[str, str], host_id: str) -> str:
    """What is wrong, if anything: a job still pending or naming a VM never made; the simulated
    host running other VMs than the cloud says, or one booted twice; room held beyond theirs."""
    jobs = admin.listAsyncJobs(listall="true").get("asyncjobs", [])
    if any(job["jobstatus"] == 0 for job in jobs):
        return "a job is still pending"
    listed = admin.listVirtualMachines(listall="true").get("virtualmachine", [])
    vm_ids = {vm["id"] for vm in listed}
    vm_jobs = [j for j in jobs if j.get("jobinstancetype") == "VirtualMachine"]
    if not all(j["jobinstanceid"] in vm_ids for j in vm_jobs):
        return "a job names a VM never made"
    running = {vm["instancename"] for vm in listed if vm["state"] == "Running"}
    guests = _simulated(hypervisor, "h1")
    on_host = {name for name, g in guests.items() if g["state"] == "Running"}
    if on_host != running:
        return (
            f"the host runs {sorted(on_host - running)} beyond, {sorted(running - on_host)} short"
        )
    if any(guests[name]["boots"] != 1 for name in running):
        return "a VM was started twice"
    held = admin.listHosts(id=host_id)["host"][0]["memoryallocated"]
    if held != 512 * MIB * len(running):
        return f"{held} bytes held for {len(running)} running VMs"
    return ""


def test_a_server_killed_in_the_middle_of_a_burst_leaves_no_orphan_job_nor_held_room(
    tmp_path: Path, restartable: list[Server], hypervisor: dict[str, str]
) -> None:
    first = restartable[0]
    admin = first.client(timeout=30)
    place = _place(admin)
    host = _host(admin, place, "h1", cores=64, memory=64)
    accepted = _burst_until_killed(first, place)
    second = start_server(tmp_path / "data", hypervisor)
    restartable.append(second)
    admin = second.client(timeout=30)
    _all_ended(admin, [a["jobid"] for a in accepted])
    everything = admin.listAsyncJobs(listall="true").get("asyncjobs", [])
    _all_ended(admin, [job["jobid"] for job in everything])
    _assert_cloud_and_hypervisor_agree(admin, hypervisor, host["id"])


def _burst_until_killed(server: Server, place) -> list[dict]:
    """Deploys from several clients, SIGKILL while they still send (some requests cut off)."""
    lock, accepted, killed = threading.Lock(), [], threading.Event()

    def client_loop(_: int) -> None:
        client = server.client(timeout=30)
        while not killed.is_set():
            try:
                answer = client.deployVirtualMachine(
                    zoneid=place.zone,
                    serviceofferingid=place.small["id"],
                    templateid=place.template,
                )
            except Exception:  # cut off by the kill: maybe recorded, maybe not
                return
            with lock:
                accepted.append(answer)
                if len(accepted) == KILL_AFTER // 2:
                    server.process.send_signal(signal.SIGKILL)
                    killed.set()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client_loop, range(CLIENTS)))
    server.process.wait(timeout=30)
    return accepted
