"""Round trip of a hypervisor job on the distributed mode: API → NATS → adapter → result → done.

Run: .venv/bin/python bench/job_roundtrip.py --url postgresql://postgres@127.0.0.1:5432/test
     [--nats nats://127.0.0.1:4222] [--jobs 200]

Starts `stratus serve` on PostgreSQL and NATS JetStream (a schema, subjects and a stream of its
own) and one simulator adapter as its own process, adds a Simulator host, then times --jobs
`reconnectHost` jobs one after another. Each is timed on the client, from sending the signed
request until `queryAsyncJobResult` (polled back to back over one keep-alive connection, no
sleep) first shows the job finished; so a figure includes the HTTP of both calls, the commit,
the outbox relay, NATS both ways, the adapter, the result command and the read model, plus up
to one poll request (printed too). p50/p99 are printed beside the target.

Two runs: the server as it comes, where a poll of a pending job is held up to 20 ms in case the
job ends meanwhile, and with `STRATUS_JOB_QUERY_HOLD=0`, every poll answered at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import nats
import nats.js.errors
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import signed
from stratus.settings import parse_database_url
from tests.conftest import TEST_KEY
from tests.e2e.conftest import start_server, stop_server

TARGET_P99_MS = 20.0


def add_simulator_host(server) -> str:
    admin = server.client(timeout=60)
    zone = admin.createZone(
        name="bench", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2"
    )["zone"]
    pod = admin.createPod(
        name="pod", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.255.0",
        startip="10.1.0.10",
    )["pod"]  # fmt: skip
    cluster = admin.addCluster(
        clustername="sim", podid=pod["id"], zoneid=zone["id"], hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]  # fmt: skip
    host = admin.addHost(
        zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="Simulator",
        url="simulator://bench-host?sockets=2", username="root", password="bench",
    )["host"][0]  # fmt: skip
    assert host["state"] == "Up", host
    return host["id"]


def one_job(http: httpx.Client, server, host_id: str) -> tuple[float, float, int]:
    """(round trip ms, submit ms, polls) of one reconnectHost job."""
    params = signed(server, {"command": "reconnectHost", "id": host_id})
    started = time.perf_counter()
    answer = http.get(server.url, params=params).json()["reconnecthostresponse"]
    submitted = time.perf_counter()
    polls = 0
    while True:
        polls += 1
        query = signed(server, {"command": "queryAsyncJobResult", "jobid": answer["jobid"]})
        job = http.get(server.url, params=query).json()["queryasyncjobresultresponse"]
        if job["jobstatus"] != 0:
            break
    done = time.perf_counter()
    if job["jobstatus"] != 1:
        raise RuntimeError(f"job failed: {job}")
    return (done - started) * 1000, (submitted - started) * 1000, polls


def measure(server, host_id: str, jobs: int) -> list[tuple[float, float, int]]:
    with httpx.Client(timeout=30) as http:
        for _ in range(10):  # warm the connection, the caches and the adapter's session
            one_job(http, server, host_id)
        return [one_job(http, server, host_id) for _ in range(jobs)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(samples: list[tuple[float, float, int]], hold: str | None) -> None:
    trips = [s[0] for s in samples]
    submits = [s[1] for s in samples]
    p99 = percentile(trips, 0.99)
    verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
    polls = "polls held (the default)" if hold is None else f"STRATUS_JOB_QUERY_HOLD={hold}"
    print(
        f"reconnectHost round trip over {len(trips)} jobs (PostgreSQL + NATS + simulator "
        f"adapter process; {polls}): p50 {statistics.median(trips):.1f} ms, p99 {p99:.1f} ms "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms: {verdict}); of which the reconnectHost "
        f"answer p50 {statistics.median(submits):.1f} ms; polls per job p50 "
        f"{statistics.median(s[2] for s in samples):.0f}"
    )


def run(args: argparse.Namespace) -> None:
    """The server as configured by default, then with polls answered at once."""
    for hold in (None, "0"):
        run_once(args, hold)


def run_once(args: argparse.Namespace, hold: str | None) -> None:
    token = uuid.uuid4().hex[:8]
    schema, stream = f"bench_{token}", f"BENCH_{token}"
    env = {
        "STRATUS_DATABASE_URL": f"{args.url}?schema={schema}",
        "STRATUS_NATS_URL": args.nats,
        "STRATUS_BUS_PREFIX": f"bench{token}",
        "STRATUS_NATS_STREAM": stream,
        **({"STRATUS_JOB_QUERY_HOLD": hold} if hold is not None else {}),
    }
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "data"
        server = start_server(data, env)
        adapter = _start_adapter(data, env)
        try:
            report(measure(server, add_simulator_host(server), args.jobs), hold)
        finally:
            adapter.terminate()
            adapter.wait(timeout=15)
            stop_server(server)
            _clean(args, schema, stream)


def _start_adapter(data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process_env = dict(os.environ, STRATUS_DATA=str(data), STRATUS_SECRET_KEY=TEST_KEY, **env)
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoint.cli", "adapter", "simulator"],
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _clean(args: argparse.Namespace, schema: str, stream: str) -> None:
    with psycopg.connect(parse_database_url(args.url).conninfo, autocommit=True) as c:
        c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    asyncio.run(_delete_stream(args.nats, stream))


async def _delete_stream(url: str, stream: str) -> None:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        feed = js.delete_stream(f"{stream}_EVENTS")  # the event feed's stream
        for delete in (js.delete_stream(stream), js.delete_key_value(f"{stream}-requests"), feed):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await delete
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--jobs", type=int, default=200)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
