"""Routers at scale: listRouters latency with 10,000 routers, and the wall time to upgrade 1,000
routers on the simulator with router.upgrade.parallelism 1, 10 and 50.

Run: .venv/bin/python bench/routers.py [--url postgresql://postgres@127.0.0.1:5432/test]
(STRATUS_TEST_POSTGRES_URL or STRATUS_DATABASE_URL also name the PostgreSQL server.)

listRouters: the routers are written as events (created, start requested on a host, started
with the version they report) through the event store in batches and projected by the runner;
nothing is written into the read model directly. A real `stratus serve` answers signed
`listRouters listall=true page=N pagesize=500` requests over one keep-alive connection,
cycling through every page; p50/p99 are printed beside the target.

Upgrade: a real embedded server (relay, in-process bus, simulator workers, projections) with
four simulator hosts. 1,000 routers are brought up through `ensureNetworkRouter` on a template
whose image the simulator says is release 4.0.0; each round raises the minimum version, points
router.template.simulator at a newer image and times `upgradeRouterTemplate zoneid=…` until
every router reports the new version.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import settle, signed
from commands import infrastructure as places
from domain.compute import Compute
from domain.host import Host
from domain.system_vm import Placement, Role, SystemVm
from domain.values import Secret
from domain.vm import HostAccess
from entrypoint.installation import open_runtime
from entrypoint.server import prepare
from stratus.settings import Settings, parse_database_url
from tests.conftest import TEST_KEY
from tests.e2e.conftest import start_server, stop_server

TARGET_P99_MS = 25.0
BATCH = 250
PODS = 10
# A server that just started is still busy for a moment (workers joining, the router monitor's
# first pass over every router): steady-state latency is measured after it.
SETTLE_SECONDS = 3.0


# ---- listRouters --------------------------------------------------------------------------


def populate(settings: Settings, routers: int) -> float:
    """Write `routers` running routers as events and project them; returns the seconds."""
    started = time.perf_counter()
    runtime = open_runtime(settings)
    try:
        prepare(runtime, public_url="http://127.0.0.1/client/api")
        with runtime.db.read() as cursor:
            account = cursor.execute("SELECT id, domain_id FROM accounts LIMIT 1").fetchone()
        zone = places.create_zone(
            runtime.store, places.CreateZone("bench-zone", "Advanced", {"dns1": "8.8.8.8"})
        ).id
        compute = Compute(uuid.uuid4(), 1, 500, 256, False, uuid.uuid4(), "Simulator", 0)
        hosts = _hosts(runtime.store, zone)
        batch = []
        for index in range(routers):
            batch.append(_router(index, zone, account, compute, hosts[index % PODS]))
            if len(batch) == BATCH:
                runtime.store.save(*batch)
                batch = []
        if batch:
            runtime.store.save(*batch)
        settle(runtime)
    finally:
        runtime.close()
    if settings.postgres:
        with psycopg.connect(settings.postgres.conninfo, autocommit=True) as connection:
            connection.execute(f'VACUUM ANALYZE "{settings.postgres.schema}".system_vms')
    return time.perf_counter() - started


def _hosts(store, zone) -> list[Placement]:
    """One host per pod, recorded but never connected (no adapter runs here), so the router
    monitor finds them not Up and sends nothing while the list is measured."""
    found = []
    for number in range(PODS):
        pod = places.create_pod(
            store, places.CreatePod(zone, f"p{number}", f"10.{number}.0.1", "255.255.0.0", "")
        ).id
        cluster = places.add_cluster(store, places.AddCluster(zone, pod, f"c{number}", "Simulator"))
        host = Host(
            f"h{number}", zone, pod, cluster.id, "Simulator", f"simulator://h{number}", "root",
            Secret("pw"), "Enabled", (),
        )  # fmt: skip
        store.save(host)
        access = HostAccess(host.id, host.url, "root", Secret("pw"), "Simulator")
        found.append(Placement(access, pod, cluster.id))
    return found


def _router(index: int, zone, account, compute: Compute, place: Placement) -> SystemVm:
    router_id = uuid.uuid4()
    router = SystemVm(
        router_id,
        Role.ROUTER,
        f"r-{router_id.hex[:12]}-VM",
        zone,
        uuid.UUID(account["id"]),
        uuid.UUID(account["domain_id"]),
        compute.facts(),
        network_ids=(uuid.uuid4(),),
        services=("dnsmasq", "ssh"),
    )
    router.request_start("start", None, place, "held")
    router.confirm("start", "4.2.0" if index % 3 else "4.3.0")
    return router


def measure(server, routers: int, rounds: int, pagesize: int) -> list[float]:
    pages = -(-routers // pagesize)
    latencies = []
    with httpx.Client(timeout=30) as http:
        for request in range(rounds * pages + pages):
            params = {"command": "listRouters", "listall": "true"}
            params |= {"page": str(request % pages + 1), "pagesize": str(pagesize)}
            started = time.perf_counter()
            answer = http.get(server.url, params=signed(server, params))
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            if request >= pages:  # the first pass only warms caches
                latencies.append(elapsed)
    assert answer.json()["listroutersresponse"]["count"] == routers
    return latencies


def bench_list(name: str, settings: Settings, env: dict[str, str], args) -> None:
    seconds = populate(settings, args.routers)
    server = start_server(settings.data_dir, env)
    try:
        time.sleep(SETTLE_SECONDS)
        ordered = sorted(measure(server, args.routers, args.rounds, args.pagesize))
    finally:
        stop_server(server)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
    print(
        f"{name:<9} listRouters pagesize {args.pagesize} of {args.routers} routers "
        f"({len(ordered)} requests; populated in {seconds:.0f} s): "
        f"p50 {statistics.median(ordered):5.1f} ms, p99 {p99:5.1f} ms "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms: {verdict})",
        flush=True,
    )


# ---- upgrades -----------------------------------------------------------------------------


def bench_upgrades(name: str, data: Path, env: dict[str, str], args) -> None:
    control = data.parent / "control.json"
    server = start_server(data, {**env, "STRATUS_SIMULATOR_CONTROL": str(control)})
    try:
        admin = server.client()
        admin.job_timeout = 600
        zone = _zone(admin)
        templates = [_template(admin, f"systemvm-{n}") for n in range(4)]
        releases = {t: f"4.{n}.0" for n, t in enumerate(templates)}
        control.write_text(json.dumps({"releases": releases}))
        admin.updateConfiguration(name="router.template.simulator", value="systemvm-0")
        started = time.perf_counter()
        _routers(admin, zone, args.upgrades)
        print(f"{name:<9} {args.upgrades} routers up in {time.perf_counter() - started:.0f} s")
        for round_number, parallelism in enumerate(args.parallelism, start=1):
            seconds = _upgrade_round(admin, zone, round_number, parallelism, args.upgrades)
            print(
                f"{name:<9} upgradeRouterTemplate of {args.upgrades} routers, parallelism "
                f"{parallelism:>3}: {seconds:6.1f} s ({args.upgrades / seconds:6.1f} routers/s)",
                flush=True,
            )
    finally:
        stop_server(server)


def _zone(admin) -> str:
    zone = admin.createZone(
        name="bench", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="p", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.0.0",
        startip="10.1.0.10", endip="10.1.0.200",
    )["pod"]  # fmt: skip
    cluster = admin.addCluster(
        clustername="c", podid=pod["id"], zoneid=zone["id"], hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    for number in range(4):
        admin.addHost(
            zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="Simulator",
            username="root", password="pw",
            url=f"simulator://bench{number}?sockets=4&cores=128&mhz=2000&memory_gb=128",
        )  # fmt: skip
    return zone["id"]


def _template(admin, name: str) -> str:
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    return admin.registerTemplate(
        name=name, displaytext=name, hypervisor="Simulator", format="QCOW2", ostypeid=os_type,
        url=f"http://images.example.org/{name}.qcow2", zoneid="-1", ispublic="true",
    )["template"][0]["id"]  # fmt: skip


def _routers(admin, zone: str, count: int) -> None:
    account = admin.listAccounts(name="admin")["account"][0]
    jobs = [
        admin.ensureNetworkRouter(
            networkid=str(uuid.uuid4()), zoneid=zone, account="admin",
            domainid=account["domainid"], hypervisor="Simulator",
        )["jobid"]
        for _ in range(count)
    ]  # fmt: skip
    _until(lambda: _count(admin, zone, state="Running") == count, 600)
    assert len(jobs) == count


def _upgrade_round(admin, zone: str, round_number: int, parallelism: int, count: int) -> float:
    wanted = f"4.{round_number}.0"
    admin.updateConfiguration(name="minreq.sysvmtemplate.version", value=wanted)
    admin.updateConfiguration(name="router.template.simulator", value=f"systemvm-{round_number}")
    admin.updateConfiguration(name="router.upgrade.parallelism", value=str(parallelism))
    started = time.perf_counter()
    jobs = admin.upgradeRouterTemplate(zoneid=zone).get("asyncjobs", [])
    assert len(jobs) == count, len(jobs)
    _until(lambda: _count(admin, zone, version=wanted) == count, 3600)
    return time.perf_counter() - started


def _count(admin, zone: str, **filters: str) -> int:
    return int(admin.listRouters(listall="true", zoneid=zone, pagesize=1, page=1,
                                 **filters).get("count", 0))  # fmt: skip


def _until(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the routers did not get there in time")
        time.sleep(0.2)


# ---- running ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (the embedded store is measured too)")
    parser.add_argument("--routers", type=int, default=10_000)
    parser.add_argument("--pagesize", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10, help="passes over every page")
    parser.add_argument("--upgrades", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--skip", choices=("list", "upgrade"), action="append", default=[])
    args = parser.parse_args()
    url = args.url or os.environ.get("STRATUS_TEST_POSTGRES_URL")
    url = url or os.environ.get("STRATUS_DATABASE_URL")
    with tempfile.TemporaryDirectory() as directory:
        run_all("sqlite", Path(directory), None, args)
    if url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            with tempfile.TemporaryDirectory() as directory:
                run_all("postgres", Path(directory), (url, schema), args)
        finally:
            with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as c:
                for suffix in ("l", "u"):
                    c.execute(f'DROP SCHEMA IF EXISTS "{schema}{suffix}" CASCADE')


def run_all(name: str, directory: Path, postgres: tuple[str, str] | None, args) -> None:
    def place(suffix: str) -> tuple[Settings, dict[str, str]]:
        data = directory / suffix / "data"
        if postgres is None:
            return Settings(data_dir=data, secret_key=TEST_KEY), {}
        url = f"{postgres[0]}?schema={postgres[1]}{suffix}"
        settings = Settings(data_dir=data, secret_key=TEST_KEY, postgres=parse_database_url(url))
        return settings, {"STRATUS_DATABASE_URL": url}

    if "list" not in args.skip:
        bench_list(name, *place("l"), args)
    if "upgrade" not in args.skip:
        settings, env = place("u")
        bench_upgrades(name, settings.data_dir, env, args)


if __name__ == "__main__":
    main()
