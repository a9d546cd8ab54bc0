"""listHosts latency over HTTP with 10,000 hosts, pagesize 500, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/list_hosts.py [--url postgresql://postgres@127.0.0.1:5432/test]

The hosts are bare-metal hosts (records only, no adapter), written as events through the event
store in batches, in twenty clusters of one pod, and then projected by the read-model runner;
nothing is written into the read model directly. A real `stratus serve` then answers signed
`listHosts page=N pagesize=500` requests over one keep-alive connection, cycling through every
page, and the script prints p50/p99 beside the target. On PostgreSQL the hosts table is
vacuumed and analysed after the load, as autovacuum would (it is off on the test server).
"""

from __future__ import annotations

import argparse
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
from domain.host import Host
from domain.infrastructure import Cluster
from domain.values import Secret
from entrypoint.installation import open_runtime
from stratus.settings import Settings, parse_database_url
from tests.conftest import TEST_KEY
from tests.e2e.conftest import start_server, stop_server

TARGET_P99_MS = 25.0
CLUSTERS = 20
BATCH = 250


def populate(settings: Settings, hosts: int) -> float:
    """Write `hosts` bare-metal hosts as events and project them; returns the seconds it took."""
    started = time.perf_counter()
    runtime = open_runtime(settings)
    try:
        zone = places.create_zone(
            runtime.store, places.CreateZone("bench-zone", "Advanced", {"dns1": "8.8.8.8"})
        ).id
        pod_spec = places.CreatePod(zone, "bench-pod", "10.0.0.1", "255.255.0.0", "10.0.0.2")
        pod = places.create_pod(runtime.store, pod_spec).id
        per_cluster = -(-hosts // CLUSTERS)
        for number in range(CLUSTERS):
            count = min(per_cluster, hosts - number * per_cluster)
            _cluster_of_hosts(runtime.store, zone, pod, number, count)
        settle(runtime)
    finally:
        runtime.close()
    if settings.postgres:
        _vacuum(settings)
    return time.perf_counter() - started


def _vacuum(settings: Settings) -> None:
    """What autovacuum does after a bulk load; the test server runs with autovacuum off, and
    without the visibility map and statistics the planner cannot page on the index alone."""
    assert settings.postgres is not None
    with psycopg.connect(settings.postgres.conninfo, autocommit=True) as connection:
        connection.execute(f'VACUUM ANALYZE "{settings.postgres.schema}".hosts')


def _cluster_of_hosts(store, zone, pod, number: int, count: int) -> None:
    added = places.add_cluster(
        store, places.AddCluster(zone, pod, f"bench-cluster-{number}", "BareMetal")
    )
    cluster = store.get(Cluster, added.id)
    batch = []
    for index in range(count):
        address = f"10.{number}.{index // 250}.{index % 250 + 1}"
        host = Host(
            f"bm-{number}-{index}", zone, pod, cluster.id, "BareMetal", f"http://{address}",
            "root", Secret("bench"), "Enabled", (),
        )  # fmt: skip
        cluster.attach(host.id)
        batch.append(host)
        if len(batch) == BATCH:
            store.save(*batch, cluster)
            batch = []
    if batch:
        store.save(*batch, cluster)


def measure(server, hosts: int, rounds: int, pagesize: int) -> list[float]:
    pages = -(-hosts // pagesize)
    latencies = []
    with httpx.Client(timeout=30) as http:
        for request in range(rounds * pages + pages):
            params = {"command": "listHosts", "page": str(request % pages + 1)}
            params["pagesize"] = str(pagesize)
            params = signed(server, params)
            started = time.perf_counter()
            answer = http.get(server.url, params=params)
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            if request >= pages:  # the first pass only warms caches
                latencies.append(elapsed)
    body = answer.json()["listhostsresponse"]
    assert body["count"] == hosts, body["count"]
    return latencies


def run(name: str, settings: Settings, env: dict[str, str], args: argparse.Namespace) -> None:
    seconds = populate(settings, args.hosts)
    server = start_server(settings.data_dir, env)
    try:
        latencies = measure(server, args.hosts, args.rounds, args.pagesize)
    finally:
        stop_server(server)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
    print(
        f"{name:<9} listHosts pagesize {args.pagesize} of {args.hosts} hosts "
        f"({len(ordered)} requests; populated in {seconds:.0f} s): "
        f"p50 {statistics.median(ordered):5.1f} ms, p99 {p99:5.1f} ms "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (the embedded store is measured too)")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--pagesize", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10, help="passes over every page")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory) / "data"
            run("sqlite", Settings(data_dir=data, secret_key=TEST_KEY), {}, args)
    if args.url:
        _run_postgres(args)


def _run_postgres(args: argparse.Namespace) -> None:
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
