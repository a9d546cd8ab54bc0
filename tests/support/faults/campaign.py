"""One fault of the campaign from start to figures, and the table of faults by figures.

For each fault: a fresh cloud (embedded, or distributed on the campaign's own PostgreSQL and
NATS), simulator hosts, `clients` threads deploying VMs through the HTTP API; once a third of
the deploys are answered the fault is injected and held while another third are answered,
then the cloud recovers and the last third are answered. Then the hold: every accepted job
must be terminal within `hold` seconds, and the invariants of `checks` are measured.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.faults import checks
from tests.support.faults.cloud import Cloud, distributed_cloud, embedded_cloud
from tests.support.faults.load import Api, DeployLoad, Target, describe
from tests.support.faults.servers import Nats, Postgres, wait_for

HOSTS = 3
HOST_URL = "simulator://{name}?sockets=2&cores=32&mhz=2000&memory_gb=128"


@dataclass
class Stage:
    """What a fault runs against: the cloud, and the campaign's servers (distributed only)."""

    cloud: Cloud
    load: DeployLoad
    slice: int
    postgres: Postgres | None = None
    nats: Nats | None = None

    def during(self) -> None:
        """Keep the fault in effect while a slice of deploys is answered."""
        self.load.wait_for_answers(self.slice, timeout=180)


def kill(role: str) -> Callable[[Stage], None]:
    def inject(stage: Stage) -> None:
        stage.cloud.kill(role)
        stage.during()
        stage.cloud.start_role(role)

    return inject


def restart_postgres(stage: Stage) -> None:
    assert stage.postgres is not None
    stage.postgres.restart()
    stage.during()


def restart_nats(stage: Stage) -> None:
    assert stage.nats is not None
    stage.nats.restart()
    stage.during()


def slow_host(seconds: float) -> Callable[[Stage], None]:
    """Every action on host h0 takes `seconds` longer, through the simulator's control file."""

    def inject(stage: Stage) -> None:
        control = Path(stage.cloud.process_env["STRATUS_SIMULATOR_CONTROL"])
        _write(control, {"slow_hosts": {"h0": seconds}})
        stage.during()
        # Slow until the host is seen acting slowly: deploys alone may not have reached it yet.
        wait_for(lambda: "h0" in stage.cloud.busy_hosts(), 60, "host h0 acting", interval=0.05)
        _write(control, {})

    return inject


def _write(path: Path, content: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content))
    partial.replace(path)


@dataclass(frozen=True)
class Fault:
    name: str
    mode: str  # "embedded" or "distributed"
    inject: Callable[[Stage], None]
    # The cloud runs with the campaign's short stuck-job timeout, which the fault outlasts;
    # the others keep the default, so what they find is their own.
    outlasts_job_timeout: bool = False


FAULTS = (
    Fault("kill -9 embedded server", "embedded", kill("all")),
    Fault("kill -9 api", "distributed", kill("api")),
    Fault("kill -9 projections", "distributed", kill("projections")),
    Fault("kill -9 relay", "distributed", kill("relay")),
    Fault("kill -9 adapter", "distributed", kill("adapter")),
    Fault("restart PostgreSQL", "distributed", restart_postgres),
    Fault("restart NATS", "distributed", restart_nats),
    Fault("slow host (embedded)", "embedded", slow_host(12.0), outlasts_job_timeout=True),
    Fault("slow host (distributed)", "distributed", slow_host(12.0), outlasts_job_timeout=True),
)


@dataclass
class Settings:
    """How hard the campaign pushes: clients, deploys per fault, the hold, the job timeout."""

    clients: int = 8
    deploys: int = 60
    hold: float = 60.0
    job_timeout: float = 8.0  # the stuck-job sweeper's, for the faults that outlast it


@dataclass
class Figures:
    fault: str
    answers: dict[str, int] = field(default_factory=dict)
    jobs: checks.Jobs = field(default_factory=checks.Jobs)
    world: checks.World = field(default_factory=checks.World)
    read_models_differing: dict[str, str] = field(default_factory=dict)
    audit_ok: bool = False
    settled: bool = False  # the hosts and the cloud stopped changing within the hold
    crashed: list[str] = field(default_factory=list)  # roles whose process died on its own
    other_answers: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Each invariant broken, with its figure."""
        jobs, world = self.jobs, self.world
        broken = {
            "late jobs": jobs.late,
            "lost jobs": jobs.lost,
            "duplicated": jobs.duplicated,
            "ghost VMs": world.ghosts,
            "cloud-only running VMs": world.missing,
            "orphans": world.orphans,
            "leaked MiB": world.leaked_mib,
            "other answers": self.answers.get("other", 0),
            "carried-out deploys answered as errors": jobs.answered_as_errors,
            "read models differing": len(self.read_models_differing),
            "audit verify failed": 0 if self.audit_ok else 1,
            "still changing after the hold": 0 if self.settled else 1,
            "processes that died": len(self.crashed),
        }
        return [f"{name}: {value}" for name, value in broken.items() if value]


def run_fault(fault: Fault, settings: Settings, servers: tuple[Postgres, Nats] | None) -> Figures:
    root = Path(tempfile.mkdtemp(prefix="stratus-fault-"))
    if fault.mode == "distributed":
        assert servers is not None
        cloud = distributed_cloud(root, servers[0].url, servers[1].url)
    else:
        cloud = embedded_cloud(root)
    if fault.outlasts_job_timeout:
        cloud.env["STRATUS_HYPERVISOR_JOB_TIMEOUT"] = str(settings.job_timeout)
    cloud.env["STRATUS_SIMULATOR_CONTROL"] = str(root / "control.json")
    cloud.start()
    try:
        figures = _drive(fault, settings, cloud, servers)
    finally:
        cloud.stop()
    if figures.failures():
        figures.world.notes.append(f"logs and state kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return figures


def _drive(
    fault: Fault, settings: Settings, cloud: Cloud, servers: tuple[Postgres, Nats] | None
) -> Figures:
    admin = cloud.admin
    api_args = (cloud.url, admin["apikey"], admin["secretkey"])
    api = Api(*api_args)
    try:
        load = DeployLoad(api_args, build_place(api, HOSTS), tag="vm")
        stage = Stage(cloud, load, max(1, settings.deploys // 3), *(servers or (None, None)))
        recovered = _through(fault, stage, settings.clients)
        figures = Figures(fault.name, answers=dict(load.classes()))
        figures.other_answers = [describe(a) for a in load.others()]
        deadline = recovered + settings.hold
        figures.jobs = checks.hold_jobs(api, load.answers, deadline)
        figures.settled = checks.hold_world(cloud, api, deadline + settings.hold)
        figures.world = checks.check_world(cloud, api, load.answers, figures.jobs)
        figures.crashed = cloud.exited()
        figures.world.notes += [f"the {role} process died" for role in figures.crashed]
    finally:
        api.close()
    cloud.stop()
    figures.read_models_differing = checks.read_models_against_rebuild(cloud)
    figures.audit_ok = checks.audit_verifies(cloud)
    return figures


def _through(fault: Fault, stage: Stage, clients: int) -> float:
    """Deploys before, during and after the fault; returns when the cloud had recovered."""
    load = stage.load
    load.start(clients)
    try:
        load.wait_for_answers(stage.slice, timeout=180)
        load.windows.begin()
        fault.inject(stage)
        load.windows.end()
        recovered = time.monotonic()
        load.wait_for_answers(stage.slice, timeout=180)
    finally:
        load.stop()
    return recovered


def build_place(api: Api, hosts: int) -> Target:
    """A zone, pod and simulator cluster with `hosts` hosts, and a ready template."""
    zone = api.call(
        "createZone", name="z1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = api.call(
        "createPod",
        name="p1",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]
    cluster = api.call(
        "addCluster",
        clustername="c1",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    for number in range(hosts):
        api.call(
            "addHost",
            zoneid=zone["id"],
            podid=pod["id"],
            clusterid=cluster["id"],
            hypervisor="Simulator",
            url=HOST_URL.format(name=f"h{number}"),
            username="root",
            password="sim-password",
        )
    offerings = api.call("listServiceOfferings")["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    return Target(zone["id"], small["id"], _template(api, zone["id"]))


def _template(api: Api, zone_id: str) -> str:
    os_type = api.call("listOsTypes")["ostype"][0]["id"]
    template = api.call(
        "registerTemplate",
        name="tiny",
        displaytext="tiny",
        url="http://images.example.org/tiny.qcow2",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=os_type,
        zoneid=zone_id,
        ispublic="true",
    )["template"][0]

    def ready() -> bool:
        found = api.call("listTemplates", templatefilter="all", id=template["id"])["template"]
        return bool(found[0].get("isready"))

    wait_for(ready, 60, "the template ready", interval=0.2)
    return template["id"]


COLUMNS = (
    ("fault", 26),
    ("ok", 5),
    ("refused", 8),
    ("outage", 7),
    ("other", 6),
    ("accepted", 9),
    ("late", 5),
    ("lost", 5),
    ("dup", 4),
    ("ghosts", 7),
    ("missing", 8),
    ("orphans", 8),
    ("leakMiB", 8),
    ("unacked", 8),
    ("as-error", 9),
    ("rm!=rebuild", 12),
    ("audit", 6),
)


def table(rows: list[Figures]) -> str:
    """Faults by figures, one line per fault."""
    lines = ["".join(f"{name:<{width}}" for name, width in COLUMNS)]
    for f in rows:
        values = (
            f.fault,
            f.answers.get("ok", 0),
            f.answers.get("refused", 0),
            f.answers.get("outage", 0),
            f.answers.get("other", 0),
            f.jobs.accepted,
            f.jobs.late,
            f.jobs.lost,
            f.jobs.duplicated,
            f.world.ghosts,
            f.world.missing,
            f.world.orphans,
            f.world.leaked_mib,
            f.jobs.unacknowledged,
            f.jobs.answered_as_errors,
            len(f.read_models_differing),
            "ok" if f.audit_ok else "FAIL",
        )
        lines.append("".join(f"{v!s:<{w}}" for v, (_, w) in zip(values, COLUMNS, strict=True)))
    return "\n".join(lines)
