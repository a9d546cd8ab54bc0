"""The cost of a `/metrics` scrape with 10,000 VMs, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/metrics.py [--url postgresql://postgres@127.0.0.1:5432/test]

The VMs (with their ROOT volumes) and 100 hosts are written as events through the event store
in batches and projected by the read-model runner; nothing writes a read model directly. A real
`stratus serve` with the operations listener then answers `--rounds` scrapes of `/metrics` with
the read-model cache off (`STRATUS_METRICS_CACHE=0`, so every scrape reads the read models), and
the script prints p50/p99 of a whole scrape over HTTP and the size of the answer. On
PostgreSQL the VMs' table is vacuumed and analysed after the load, as autovacuum would.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import settle
from commands import infrastructure as places
from commands.offerings import seed_id
from domain.compute import Compute
from domain.host import Host
from domain.infrastructure import Cluster
from domain.values import Secret
from domain.vm import VirtualMachine
from entrypoint.installation import open_runtime
from entrypoint.server import prepare
from stratus.settings import Settings, parse_database_url
from tests.conftest import TEST_KEY
from tests.e2e.conftest import start_server, stop_server

BATCH = 500
HOSTS = 100
LISTENER = re.compile(r"operations listener \(health, metrics\) on (http://127\.0\.0\.1:\d+)")


def populate(settings: Settings, vms: int) -> float:
    """Bootstrap, then write `vms` VMs and `HOSTS` hosts as events and project them."""
    started = time.perf_counter()
    runtime = open_runtime(settings)
    try:
        prepare(runtime, public_url="http://127.0.0.1/client/api")
        with runtime.db.read() as cursor:
            owner = cursor.execute(
                "SELECT id, domain_id FROM accounts WHERE name = 'admin'"
            ).fetchone()
        zone = places.create_zone(
            runtime.store, places.CreateZone("bench-zone", "Advanced", {"dns1": "8.8.8.8"})
        ).id
        pod_spec = places.CreatePod(zone, "bench-pod", "10.0.0.1", "255.255.0.0", "10.0.0.2")
        pod = places.create_pod(runtime.store, pod_spec).id
        _hosts(runtime.store, zone, pod)
        compute = Compute(
            seed_id("service", "Small Instance"), 1, 500, 512, False, uuid.uuid4(), "Simulator", 5
        ).facts()
        account, domain = uuid.UUID(owner["id"]), uuid.UUID(owner["domain_id"])
        for first in range(0, vms, BATCH):
            runtime.store.save(
                *(
                    _vm(account, domain, zone, compute, n)
                    for n in range(first, min(first + BATCH, vms))
                )
            )
        settle(runtime)
    finally:
        runtime.close()
    if settings.postgres is not None:  # what autovacuum does after a bulk load (off here)
        with psycopg.connect(settings.postgres.conninfo, autocommit=True) as connection:
            connection.execute(f'VACUUM ANALYZE "{settings.postgres.schema}".virtual_machines')
    return time.perf_counter() - started


def _hosts(store, zone, pod) -> None:
    """Bare-metal hosts (records only, Up at once), in one cluster."""
    added = places.add_cluster(store, places.AddCluster(zone, pod, "bench-cluster", "BareMetal"))
    cluster = store.get(Cluster, added.id)
    hosts = []
    for number in range(HOSTS):
        host = Host(
            f"bm-{number}", zone, pod, cluster.id, "BareMetal", f"http://10.9.0.{number + 1}",
            "root", Secret("bench"), "Enabled", (),
        )  # fmt: skip
        cluster.attach(host.id)
        hosts.append(host)
    store.save(*hosts, cluster)


def _vm(account, domain, zone, compute: dict, number: int) -> VirtualMachine:
    vm_id = uuid.uuid4()
    return VirtualMachine(
        vm_id, f"vm-{number}", f"vm-{number}", f"i-{vm_id.hex[:12]}-VM",
        account, domain, zone, "", compute,
    )  # fmt: skip


def scrape(data: Path, env: dict[str, str], rounds: int) -> tuple[list[float], int]:
    settings = {"STRATUS_HEALTH_PORT": "0", "STRATUS_METRICS_CACHE": "0", **env}
    server = start_server(data, settings)
    try:
        found = None
        while found is None:
            found = LISTENER.search(server.output())
            time.sleep(0.05)  # a poll interval while the server logs its listener
        latencies, size = [], 0
        with httpx.Client(timeout=60) as http:
            for number in range(rounds + 3):
                started = time.perf_counter()
                answer = http.get(found.group(1) + "/metrics")
                elapsed = (time.perf_counter() - started) * 1000
                answer.raise_for_status()
                size = len(answer.content)
                if number >= 3:  # the first few warm caches
                    latencies.append(elapsed)
        return sorted(latencies), size
    finally:
        stop_server(server)


def run(name: str, settings: Settings, env: dict[str, str], args: argparse.Namespace) -> None:
    seconds = populate(settings, args.vms)
    latencies, size = scrape(settings.data_dir, env, args.rounds)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"{name:8}  /metrics with {args.vms} VMs and {HOSTS} hosts ({len(latencies)} scrapes; "
        f"populated in {seconds:.0f} s): p50 {statistics.median(latencies):6.1f} ms, "
        f"p99 {p99:6.1f} ms, {size / 1024:.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (the embedded store is measured too)")
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "data"
        run("sqlite", Settings(data_dir=data, secret_key=TEST_KEY), {}, args)
    if not args.url:
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = f"{args.url}?schema={schema}"
    try:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory) / "data"
            settings = Settings(
                data_dir=data, secret_key=TEST_KEY, postgres=parse_database_url(url)
            )
            run("postgres", settings, {"STRATUS_DATABASE_URL": url}, args)
    finally:
        with psycopg.connect(parse_database_url(args.url).conninfo, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
