"""A list page against the wire's floor: listVirtualMachines, listHosts, listRouters and
listVolumes at pagesize 500, each beside a bare server answering the same bytes from memory.

Run: .venv/bin/python bench/list_page.py [--vms 100000] [--url postgresql://postgres@127.0.0.1:5432/test]

For the embedded store (and PostgreSQL with --url) a real `stratus serve` is started once (it
bootstraps the admin) and stopped; then --vms VMs (each with its ROOT volume, as a deploy makes
it), --hosts bare-metal hosts and --routers running routers are written as events through the
event store in batches and projected by the read-model runner (nothing writes a read model
directly), and the server is started again and left to finish its first billing run.

One signed request per sampled page (--pages pages spread over the whole list) gives each page's
exact bytes. A bare Starlette app on uvicorn (the same uvicorn settings and socket options as
`stratus serve`) then holds those pages, decoded once, and answers each request with
`orjson.dumps` of the page, as a server that has its answer in memory would. One keep-alive
client sends --requests requests per command to each server, interleaved (Stratus, bare,
Stratus, bare…) and signed afresh each time, so noise on the shared machine hits both sides
alike; p50/p99 of both and their ratios are printed per command and store, beside the target
(<= 3x at p50, <= 5x at p99).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import list_hosts, routers
from bench.api import BILLING, billing_warm, settle, signed
from commands import infrastructure as places
from commands.offerings import seed_id
from commands.volumes import root_volume
from domain.compute import Compute
from domain.vm import VirtualMachine
from entrypoint.installation import open_runtime
from stratus.settings import Settings, parse_database_url
from tests.conftest import TEST_KEY
from tests.e2e.conftest import free_port, start_server, stop_server

TARGET_P50, TARGET_P99 = 3.0, 5.0
BATCH = 500
# (command, the answer's item key, extra parameters)
COMMANDS = (
    ("listVirtualMachines", "virtualmachine", {"listall": "true"}),
    ("listHosts", "host", {}),
    ("listRouters", "router", {"listall": "true"}),
    ("listVolumes", "volume", {"listall": "true"}),
)


# ---- populating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    vms: int
    hosts: int
    routers: int


def populate(settings: Settings, owner: dict[str, str], sizes: Sizes) -> float:
    """Write the VMs (with their ROOT volumes), hosts and routers as events; seconds taken."""
    started = time.perf_counter()
    runtime = open_runtime(settings)
    try:
        store = runtime.store
        zone = places.create_zone(
            store, places.CreateZone("bench-zone", "Advanced", {"dns1": "8.8.8.8"})
        ).id
        _vms(store, owner, zone, sizes.vms)
        _hosts(store, zone, sizes.hosts)
        account = {"id": owner["account_id"], "domain_id": owner["domain_id"]}
        _routers(store, zone, account, sizes.routers)
        settle(runtime)
    finally:
        runtime.close()
    if settings.postgres:
        _vacuum(settings)
    return time.perf_counter() - started


def _vms(store, owner: dict[str, str], zone, count: int) -> None:
    compute = Compute(
        seed_id("service", "Small Instance"), 1, 500, 512, False, uuid.uuid4(), "Simulator", 5
    ).facts()
    for first in range(0, count, BATCH):
        batch = []
        for number in range(first, min(first + BATCH, count)):
            vm_id = uuid.uuid4()
            vm = VirtualMachine(
                vm_id, f"vm-{number}", f"vm-{number}", f"i-{vm_id.hex[:12]}-VM",
                uuid.UUID(owner["account_id"]), uuid.UUID(owner["domain_id"]), zone, "", compute,
            )  # fmt: skip
            batch += [vm, root_volume(vm)]
        store.save(*batch)


def _hosts(store, zone, count: int) -> None:
    pod_spec = places.CreatePod(zone, "bench-pod", "10.0.0.1", "255.255.0.0", "10.0.0.2")
    pod = places.create_pod(store, pod_spec).id
    for number in range(-(-count // BATCH)):
        hosts = min(BATCH, count - number * BATCH)
        list_hosts._cluster_of_hosts(store, zone, pod, number, hosts)


def _routers(store, zone, account: dict[str, str], count: int) -> None:
    compute = Compute(uuid.uuid4(), 1, 500, 256, False, uuid.uuid4(), "Simulator", 0)
    placements = routers._hosts(store, zone)
    batch = []
    for index in range(count):
        batch.append(routers._router(index, zone, account, compute, placements[index % 10]))
        if len(batch) == routers.BATCH:
            store.save(*batch)
            batch = []
    if batch:
        store.save(*batch)


def _vacuum(settings: Settings) -> None:
    """What autovacuum does after a bulk load (it is off on the test server)."""
    assert settings.postgres is not None
    schema = settings.postgres.schema
    with psycopg.connect(settings.postgres.conninfo, autocommit=True) as connection:
        for table in ("virtual_machines", "volumes", "hosts", "system_vms", "accounts"):
            connection.execute(f'VACUUM ANALYZE "{schema}".{table}')


def _sqlite_billing_warm(path: Path, since: datetime, timeout: float = 300.0) -> None:
    """billing_warm for the embedded store: the first billing run's state row is newer than
    the server's start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT updated_at FROM usage_billing WHERE name = ?", (BILLING,)
            ).fetchone()
        if row and datetime.fromisoformat(row[0]) >= since:
            return
        time.sleep(0.2)
    raise RuntimeError("the server's first billing run did not finish in time")


# ---- the bare server ------------------------------------------------------------------------


def serve_bare(directory: Path, port: int) -> None:
    """Serve the pages in `directory` (`<command>-<n>.json`) from memory, decoded once and
    encoded with orjson per request, as the n-th page of `command` answers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    pages = {
        tuple(path.stem.rsplit("-", 1)): orjson.loads(path.read_bytes())
        for path in directory.glob("*.json")
    }

    async def answer(request: Request) -> Response:
        query = request.query_params
        body = pages[(query["command"], query["sample"])]
        return Response(orjson.dumps(body), media_type="application/json; charset=UTF-8")

    app = Starlette(routes=[Route("/client/api", answer)])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))


def start_bare(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare", str(directory), "--port", str(port)],
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])),
    )
    url = f"http://127.0.0.1:{port}/client/api"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bare server did not start")


# ---- measuring ------------------------------------------------------------------------------


def sample_pages(total: int, pagesize: int, samples: int) -> list[int]:
    """`samples` full pages spread from the first to the last full one."""
    full = max(total // pagesize, 1)
    if samples <= 1 or full == 1:
        return [1]
    return sorted({1 + round(i * (full - 1) / (samples - 1)) for i in range(samples)})


def fetch_pages(server, directory: Path, command: tuple, numbers: list[int], size: int) -> int:
    """Store each sampled page's exact bytes for the bare server; the pages' total count."""
    name, key, extra = command
    count = 0
    with httpx.Client(timeout=120) as http:
        for sample, number in enumerate(numbers):
            params = {"command": name, **extra, "page": str(number), "pagesize": str(size)}
            answer = http.get(server.url, params=signed(server, params))
            answer.raise_for_status()
            body = answer.json()[f"{name.lower()}response"]
            assert len(body[key]) == size, (name, number, len(body[key]))
            count = body["count"]
            (directory / f"{name}-{sample}.json").write_bytes(answer.content)
    return count


def measure(server, bare_url: str, command: tuple, numbers: list[int], args) -> tuple:
    """Interleaved requests to Stratus and the bare server; both sides' latencies in ms."""
    name, _, extra = command
    ours: list[float] = []
    floor: list[float] = []
    with httpx.Client(timeout=120) as http:
        for request in range(args.requests + args.warmup):
            sample = request % len(numbers)
            params = {"command": name, **extra, "page": str(numbers[sample])}
            params = signed(server, params | {"pagesize": str(args.pagesize)})
            for url, into, query in (
                (server.url, ours, params),
                (bare_url, floor, params | {"sample": str(sample)}),
            ):
                started = time.perf_counter()
                answer = http.get(url, params=query)
                elapsed = (time.perf_counter() - started) * 1000
                answer.raise_for_status()
                if request >= args.warmup:
                    into.append(elapsed)
    return ours, floor


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(store: str, name: str, count: int, size: int, ours, floor) -> None:
    p50, p99 = statistics.median(ours), _p(ours, 0.99)
    b50, b99 = statistics.median(floor), _p(floor, 0.99)
    r50, r99 = p50 / b50, p99 / b99
    verdict = "met" if r50 <= TARGET_P50 and r99 <= TARGET_P99 else "MISSED"
    print(
        f"{store:<8} {name:<19} page of 500 of {count:>6} ({size // 1024:>4} KB, {len(ours)} req): "
        f"stratus p50 {p50:6.1f} p99 {p99:6.1f} ms | bare p50 {b50:5.1f} p99 {b99:5.1f} ms | "
        f"ratio p50 {r50:4.1f}x p99 {r99:4.1f}x ({verdict})",
        flush=True,
    )


# ---- running --------------------------------------------------------------------------------


def run(store: str, settings: Settings, env: dict[str, str], args) -> None:
    server = start_server(settings.data_dir, env)
    try:
        account = server.client().listAccounts(name="admin")["account"][0]
    finally:
        stop_server(server)
    owner = {"account_id": account["id"], "domain_id": account["domainid"]}
    seconds = populate(settings, owner, Sizes(args.vms, args.hosts, args.routers))
    print(f"{store:<8} populated {args.vms} VMs in {seconds:.0f} s", flush=True)
    started = datetime.now(UTC)
    server = start_server(settings.data_dir, env)
    try:
        if settings.postgres:
            billing_warm(settings.postgres.conninfo, settings.postgres.schema, started)
        else:
            _sqlite_billing_warm(settings.sqlite_path, started)
        _compare(store, server, settings.data_dir.parent, args)
    finally:
        stop_server(server)


def _compare(store: str, server, directory: Path, args) -> None:
    pages = directory / "pages"
    pages.mkdir(exist_ok=True)
    totals = {"listVirtualMachines": args.vms, "listVolumes": args.vms}
    totals |= {"listHosts": args.hosts, "listRouters": args.routers}
    numbers = {}
    for command in COMMANDS:
        numbers[command[0]] = sample_pages(totals[command[0]], args.pagesize, args.pages)
        fetch_pages(server, pages, command, numbers[command[0]], args.pagesize)
    bare, bare_url = start_bare(pages)
    try:
        for command in COMMANDS:
            name = command[0]
            count = totals[name]
            ours, floor = measure(server, bare_url, command, numbers[name], args)
            size = (pages / f"{name}-0.json").stat().st_size
            report(store, name, count, size, ours, floor)
    finally:
        bare.terminate()
        bare.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (the embedded store is measured too)")
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=1_000)
    parser.add_argument("--routers", type=int, default=1_000)
    parser.add_argument("--pagesize", type=int, default=500)
    parser.add_argument("--pages", type=int, default=5, help="sampled pages per command")
    parser.add_argument("--requests", type=int, default=300, help="per command and side")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--serve-bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.port)
        return
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory) / "data"
            run("sqlite", Settings(data_dir=data, secret_key=TEST_KEY), {}, args)
    if args.url:
        _run_postgres(args)


def _run_postgres(args) -> None:
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
