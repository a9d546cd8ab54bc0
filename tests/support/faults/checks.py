"""The invariants the campaign holds a recovered cloud to, each measured as a figure:

- answers: no deploy the cloud carried out was answered with an error (`answered_as_errors`;
  a connection dropped by the fault is excused, the client could not be told);
- jobs: every accepted deploy job terminal within the hold (`late`), known to the cloud
  (`lost`), and no deploy done twice (`duplicated`: a job id answered twice, two VMs of one
  requested name, a VM booted twice on its host);
- ghosts (running on the simulator while the cloud says otherwise) and VMs the cloud runs that
  the simulator does not (`missing`); orphans: deploy jobs without their VM, VMs without their
  deploy job, and VMs left in a passing state (Starting, Stopping) with no job pending;
- leaked room: host memory held that no VM placed there (Starting, Running, Stopping) accounts
  for, in MiB;
- read models: each one's rows against a rebuild from event zero (`differing`);
- `stratus audit verify` passing.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.simulator.disk import read_hosts
from projections.listed import KEPT_COLUMN
from tests.support.faults.cloud import Cloud
from tests.support.faults.load import Answer, Api, ApiFailed, describe

MIB = 1024**2
HOLDING = frozenset({"Starting", "Running", "Stopping"})
PASSING = frozenset({"Starting", "Stopping"})


@dataclass
class Jobs:
    accepted: int = 0
    terminal: int = 0
    late: int = 0
    lost: int = 0
    duplicated: int = 0
    unacknowledged: int = 0  # VMs the cloud made for a deploy whose client was not told so
    answered_as_errors: int = 0  # of those, the ones whose client got an error answer


@dataclass
class World:
    ghosts: int = 0
    missing: int = 0
    orphans: int = 0
    leaked_mib: int = 0
    notes: list[str] = field(default_factory=list)


def hold_jobs(api: Api, answers: list[Answer], deadline: float) -> Jobs:
    """Poll every accepted job until all are terminal or `deadline` (monotonic) passes."""
    job_ids = [a.job_id for a in answers if a.status == 200 and a.job_id]
    figures = Jobs(accepted=len(set(job_ids)))
    figures.duplicated = len(job_ids) - len(set(job_ids))
    pending, lost = set(job_ids), set()
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            try:
                status = api.call("queryAsyncJobResult", jobid=job_id).get("jobstatus", 0)
            except httpx.HTTPError:
                continue  # the cloud is not answering yet: ask again
            except ApiFailed as failure:
                if failure.status != 431:
                    continue
                lost.add(job_id)
                status = -1
            if status != 0:
                pending.discard(job_id)
        if pending:
            time.sleep(0.5)
    figures.lost = len(lost)
    figures.late = len(pending)
    figures.terminal = figures.accepted - len(pending) - len(lost)
    return figures


def hold_world(cloud: Cloud, api: Api, deadline: float, quiet: float = 1.0) -> bool:
    """Wait until no simulated host is acting (each host's file lock is free) and neither the
    hosts' VMs nor the cloud's changed over `quiet` seconds: a start the cloud gave up on may
    still land on the host after its job ended. False if `deadline` came first."""
    last = None
    while time.monotonic() < deadline:
        idle = not cloud.busy_hosts()
        now = (_hypervisor_vms(cloud), _cloud_states(api))
        if idle and now == last:
            return True
        last = now
        time.sleep(quiet)
    return False


def _hypervisor_vms(cloud: Cloud) -> dict[str, str]:
    held = read_hosts(cloud.hypervisor_dir) if cloud.hypervisor_dir.exists() else {}
    return {name: vm["state"] for host in held.values() for name, vm in host["vms"].items()}


def _cloud_states(api: Api) -> dict[str, str]:
    try:
        vms = api.listing("listVirtualMachines", "virtualmachine", listall="true")
    except (ApiFailed, httpx.HTTPError):
        return {}
    return {vm["id"]: vm["state"] for vm in vms}


def check_world(cloud: Cloud, api: Api, answers: list[Answer], jobs: Jobs) -> World:
    """The cloud's VMs, jobs and hosts against each other and against the simulator."""
    vms = api.listing("listVirtualMachines", "virtualmachine", listall="true")
    world = World()
    _check_names(vms, answers, jobs, world)
    _check_boots(cloud, jobs, world)
    _check_hypervisor(cloud, api, vms, world)
    _check_jobs(api, vms, world)
    _check_room(api, vms, world)
    return world


def _check_names(vms: list[dict], answers: list[Answer], jobs: Jobs, world: World) -> None:
    names = Counter(vm["name"] for vm in vms)
    jobs.duplicated += sum(count - 1 for count in names.values() if count > 1)
    told = {a.name: a.status for a in answers}
    made = {name for name in names if told.get(name, 0) != 200}
    jobs.unacknowledged = len(made)
    # A dropped connection cannot tell; an error answer to a write that was made misleads.
    misled = [a for a in answers if a.name in made and a.status is not None]
    jobs.answered_as_errors = len(misled)
    for text in sorted({describe(a) for a in misled})[:3]:
        world.notes.append(f"a deploy carried out was answered {text}")
    listed = {vm["id"] for vm in vms}
    vanished = [a for a in answers if a.status == 200 and a.vm_id and a.vm_id not in listed]
    jobs.lost += len(vanished)
    if vanished:
        world.notes.append(f"accepted VMs the cloud does not list: {len(vanished)}")


def _check_boots(cloud: Cloud, jobs: Jobs, world: World) -> None:
    """Nothing in the campaign stops a VM, so a VM booted twice was started twice."""
    held = read_hosts(cloud.hypervisor_dir) if cloud.hypervisor_dir.exists() else {}
    twice = sum(1 for h in held.values() for vm in h["vms"].values() if vm["boots"] > 1)
    jobs.duplicated += twice
    if twice:
        world.notes.append(f"VMs booted more than once on their host: {twice}")


def _check_hypervisor(cloud: Cloud, api: Api, vms: list[dict], world: World) -> None:
    cloud_running = {vm["instancename"] for vm in vms if vm["state"] == "Running"}
    routers = api.listing("listRouters", "router", listall="true")
    cloud_running |= {r["name"] for r in routers if r.get("state") == "Running"}
    running = {name for name, state in _hypervisor_vms(cloud).items() if state == "Running"}
    states = {vm["instancename"]: vm["state"] for vm in vms}
    ghosts = sorted(running - cloud_running)
    world.ghosts = len(ghosts)
    world.missing = len(cloud_running - running)
    if ghosts:
        seen = Counter(states.get(name, "unknown to the cloud") for name in ghosts)
        world.notes.append(f"ghosts by cloud state: {dict(seen)}")


def _check_jobs(api: Api, vms: list[dict], world: World) -> None:
    jobs = api.listing("listAsyncJobs", "asyncjobs", listall="true")
    deploys = [j for j in jobs if "deploy" in str(j.get("cmd", "")).lower()]
    with_job = {j.get("jobinstanceid") for j in deploys}
    pending = {j.get("jobinstanceid") for j in jobs if j.get("jobstatus") == 0}
    listed = {vm["id"] for vm in vms}
    jobless = [vm for vm in vms if vm["id"] not in with_job]
    vm_less = [j for j in deploys if j.get("jobinstanceid") not in listed]
    stuck = [vm for vm in vms if vm["state"] in PASSING and vm["id"] not in pending]
    world.orphans = len(jobless) + len(vm_less) + len(stuck)
    for what, items in (
        ("VMs without a deploy job", jobless),
        ("deploy jobs without a VM", vm_less),
        ("VMs stuck Starting/Stopping", stuck),
    ):
        if items:
            world.notes.append(f"{what}: {len(items)}")


def _check_room(api: Api, vms: list[dict], world: World) -> None:
    hosts = api.listing("listHosts", "host", type="Routing")
    for host in hosts:
        placed = sum(
            vm["memory"] for vm in vms if vm.get("hostid") == host["id"] and vm["state"] in HOLDING
        )
        allocated = int(host.get("memoryallocated", 0)) // MIB
        if allocated > placed:
            world.leaked_mib += allocated - placed
        elif allocated < placed:
            world.notes.append(f"host {host['name']}: {placed - allocated} MiB placed but not held")


def read_models_against_rebuild(cloud: Cloud) -> dict[str, str]:
    """With the cloud stopped: each read model caught up to the head, dumped, rebuilt from
    event zero, dumped again; for each one whose rows differ, the first row that does."""
    from entrypoint.installation import open_runtime
    from stratus.rebuild import rebuild
    from stratus.settings import Settings

    runtime = open_runtime(Settings.from_env(cloud.process_env))
    differing = {}
    try:
        runtime.runner.catch_up()
        for projection in runtime.runner.projections.values():
            before = _rows(runtime, projection.tables)
            rebuild(projection, runtime.source, runtime.db)
            after = _rows(runtime, projection.tables)
            if after != before:
                differing[projection.name] = _first_difference(before, after)
    finally:
        runtime.close()
    return differing


def _rows(runtime: Any, tables: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Each table's rows, sorted, with sealed values opened: a rebuild seals a secret again
    under a new nonce, so only what it seals can be compared. A row's kept JSON is left out:
    the API fills it as it lists, and a rebuild starts without it."""
    unseal = _opener(runtime.store.box)
    with runtime.db.read() as cursor:
        return {
            table: sorted(
                (
                    tuple(sorted((k, unseal(v)) for k, v in dict(row).items() if k != KEPT_COLUMN))
                    for row in cursor.execute(f"SELECT * FROM {table}").fetchall()
                ),
                key=repr,
            )
            for table in tables
        }


def _opener(box: Any) -> Any:
    def unseal(value: Any) -> Any:
        if not isinstance(value, str) or len(value) < 40:
            return value
        try:
            return ("sealed", box.open(value))
        except Exception:  # not a sealed value: compared as it is
            return value

    return unseal


def _first_difference(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> str:
    """Where a table first differs, naming columns only (values may be secrets)."""
    for table, rows in before.items():
        if rows == after[table]:
            continue
        live, rebuilt = ({_key(r): dict(r) for r in side} for side in (rows, after[table]))
        if set(live) != set(rebuilt):
            return f"{table}: {len(live)} rows live, {len(rebuilt)} rebuilt, keys differ"
        for key, row in live.items():
            columns = sorted(c for c in row if row[c] != rebuilt[key].get(c))
            if columns:
                return f"{table}: row {key} differs in {columns}"
        return f"{table}: the same rows a different number of times"
    return "?"


def _key(row: tuple) -> Any:
    values = dict(row)
    return values.get("id", row)


def audit_verifies(cloud: Cloud) -> bool:
    return cloud.cli("audit", "verify").returncode == 0
