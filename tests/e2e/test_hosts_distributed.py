"""Hosts on a distributed cloud: one server on PostgreSQL and NATS, adapters as their own processes.

The hypervisors are the protocol-level peers of the driver tests: libvirt's test driver for KVM,
govmomi's vSphere simulator for VMware, and the XAPI and WS-Man stand-ins (threads of this test
process, reached by the adapter processes over HTTP). Everything goes through the `cs` client.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import psycopg
import pytest
from cs import CloudStack, CloudStackApiException

from stratus.settings import parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.e2e.conftest import Server, start_server, stop_server
from tests.peers.model import GIB, HostShape

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

NATS_URL = os.environ.get("STRATUS_TEST_NATS_URL")
# Heartbeats fast enough to watch a host go Disconnected, then Down, within seconds.
FAST_HEARTBEATS = {
    "STRATUS_HEARTBEAT_INTERVAL": "0.5",
    "STRATUS_HEARTBEAT_TIMEOUT": "2",
    "STRATUS_HOST_DOWN_TIMEOUT": "4",
}


@dataclass
class Adapter:
    kind: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cloud:
    """A running distributed cloud and the processes a test may start, kill and restart."""

    server: Server
    env: dict[str, str]
    schema: str
    workdir: Path
    adapters: list[Adapter] = field(default_factory=list)

    @property
    def admin(self) -> CloudStack:
        return self.server.client()

    def start_adapter(self, kind: str, *, name: str | None = None) -> Adapter:
        """An adapter worker process with the server's settings; returns once it has joined."""
        name = name or f"{kind}-{uuid.uuid4().hex[:6]}"
        log = self.workdir / f"adapter-{name}.log"
        argv = [sys.executable, "-m", "entrypoint.cli", "adapter", kind]
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, env=self.env, stdout=sink, stderr=subprocess.STDOUT)
        adapter = Adapter(kind, process, log)
        self.adapters.append(adapter)
        wait_for(lambda: " started" in adapter.output() or process.poll() is not None, 30)
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} adapter exited: {adapter.output()}")
        return adapter

    def stop(self) -> None:
        for adapter in self.adapters:
            _end(adapter.process)
        stop_server(self.server)

    def connected_events(self, host_id: str) -> int:
        """How many times the event log recorded the host as connected."""
        conninfo = parse_database_url(postgres_url() or "").conninfo
        with psycopg.connect(conninfo) as connection:
            row = connection.execute(
                f'SELECT count(*) FROM "{self.schema}".stratus_events '
                "WHERE originator_id = %s AND topic LIKE %s",
                (uuid.UUID(host_id), "%.Connected"),
            ).fetchone()
        assert row is not None
        return int(row[0])


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """The first truthy answer of `check` within `timeout` seconds, or the last falsy one."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(interval)


@contextlib.contextmanager
def distributed_cloud(workdir: Path, **settings: str) -> Iterator[Cloud]:
    """A server on a fresh schema, a stream and subjects of its own; all removed afterwards."""
    base, nats_url = postgres_url(), NATS_URL
    if not base:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    if not nats_url:
        pytest.skip("STRATUS_TEST_NATS_URL is not set")
    token = uuid.uuid4().hex[:10]
    schema, stream = f"e2e_{token}", f"E2E_{token}"
    env = {
        "STRATUS_DATABASE_URL": f"{base}?schema={schema}",
        "STRATUS_NATS_URL": nats_url,
        "STRATUS_BUS_PREFIX": f"e2e{token}",
        "STRATUS_NATS_STREAM": stream,
        **settings,
    }
    data_dir = workdir / "data"
    server = start_server(data_dir, env)
    process_env = dict(os.environ, STRATUS_DATA=str(data_dir), STRATUS_SECRET_KEY=TEST_KEY, **env)
    cloud = Cloud(server, process_env, schema, workdir)
    try:
        yield cloud
    finally:
        cloud.stop()
        asyncio.run(_delete_stream(nats_url, stream))
        with psycopg.connect(parse_database_url(base).conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _delete_stream(url: str, stream: str) -> None:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        for name in (stream, f"{stream}_EVENTS"):  # the bus's, and the event feed's
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(name)
        with contextlib.suppress(nats.js.errors.NotFoundError, nats.js.errors.BucketNotFoundError):
            await js.delete_key_value(f"{stream}-requests")
    finally:
        await client.close()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    with distributed_cloud(tmp_path) as running:
        yield running


@pytest.fixture
def fast_heartbeat_cloud(tmp_path: Path) -> Iterator[Cloud]:
    with distributed_cloud(tmp_path, **FAST_HEARTBEATS) as running:
        yield running


# ---- the cloud's places ---------------------------------------------------------------------


@dataclass
class Place:
    zone_id: str
    pod_id: str
    clusters: dict[str, str] = field(default_factory=dict)  # hypervisor → cluster id


def make_place(admin: CloudStack, *hypervisors: str) -> Place:
    zone = admin.createZone(
        name=f"zone-{uuid.uuid4().hex[:6]}", networktype="Advanced", dns1="8.8.8.8",
        internaldns1="10.0.0.2",
    )["zone"]  # fmt: skip
    pod = admin.createPod(
        name="pod-1", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.255.0",
        startip="10.1.0.10", endip="10.1.0.200",
    )["pod"]  # fmt: skip
    place = Place(zone["id"], pod["id"])
    for hypervisor in hypervisors:
        cluster = admin.addCluster(
            clustername=f"{hypervisor.lower()}-cluster", podid=pod["id"], zoneid=zone["id"],
            hypervisor=hypervisor, clustertype="CloudManaged",
        )["cluster"][0]  # fmt: skip
        place.clusters[hypervisor] = cluster["id"]
    return place


def add_host(
    admin: CloudStack, place: Place, hypervisor: str, url: str, username: str, password: str
) -> dict[str, Any]:
    return admin.addHost(
        zoneid=place.zone_id, podid=place.pod_id, clusterid=place.clusters[hypervisor],
        hypervisor=hypervisor, url=url, username=username, password=password,
    )["host"][0]  # fmt: skip


def host_state(admin: CloudStack, host_id: str) -> str:
    return admin.listHosts(id=host_id)["host"][0]["state"]


def host_alerts(admin: CloudStack, host_name: str) -> list[str]:
    alerts = admin.listAlerts(type=7).get("alert", [])
    return [a["description"] for a in alerts if host_name in a["description"]]


# ---- the peers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What listHosts must show for a host: what its peer reports."""

    sockets: int
    cores: int
    mhz: int
    memory: int
    version: str | None = None


def kvm_node(tmp_path: Path) -> tuple[str, Expected]:
    """A libvirt test-driver host with its own shape and login; its URL names the file."""
    node = tmp_path / "kvm-node.xml"
    node.write_text(
        "<node>\n"
        '  <auth><user password="kvm-password">admin</user></auth>\n'
        "  <cpu><mhz>2200</mhz><model>x86_64</model><active>48</active>\n"
        "    <nodes>1</nodes><sockets>4</sockets><cores>6</cores><threads>2</threads></cpu>\n"
        f"  <memory>{32 * 1024 * 1024}</memory>\n"
        "</node>\n"
    )
    return f"test://{node}", Expected(sockets=4, cores=24, mhz=2200, memory=32 * GIB)


def expected_of(shape: HostShape) -> Expected:
    return Expected(shape.sockets, shape.cores, shape.mhz, shape.memory_bytes, shape.version)


XEN_SHAPE = HostShape(name="xen-1", version="6.2.0", sockets=2, cores=12, mhz=2500,
                      memory_bytes=96 * GIB)  # fmt: skip
HYPERV_SHAPE = HostShape(name="hv-1", version="6.3.9600", sockets=1, cores=8, mhz=3100,
                         memory_bytes=48 * GIB)  # fmt: skip
VMWARE_SHAPE = HostShape(name="esx-1", version="6.5.0", sockets=3, cores=18, mhz=2800,
                         memory_bytes=128 * GIB)  # fmt: skip


@contextlib.contextmanager
def vmware_peer() -> Iterator[tuple[str, Expected] | str]:
    """The vSphere simulator's host URL and shape, or why it cannot run here."""
    from tests.peers import vsphere

    reason = vsphere.missing_prerequisites()
    if reason:
        yield reason
        return
    with vsphere.running(VMWARE_SHAPE, "administrator", "vc-password") as simulator:
        yield (
            f"{simulator.url}?host=DC0_C0_H1",
            dataclasses.replace(expected_of(VMWARE_SHAPE), version=None),
        )


def assert_shows(host: dict[str, Any], expected: Expected) -> None:
    assert host["state"] == "Up", host
    assert (host["cpusockets"], host["cpunumber"], host["cpuspeed"], host["memorytotal"]) == (
        expected.sockets,
        expected.cores,
        expected.mhz,
        expected.memory,
    )
    if expected.version:
        assert host["hypervisorversion"] == expected.version


# ---- scenarios --------------------------------------------------------------------------------


def test_hosts_of_every_hypervisor_come_up_with_what_their_peers_report(
    cloud: Cloud, tmp_path: Path
) -> None:
    from tests.peers.wsman import WsmanPeer
    from tests.peers.xapi import XapiPeer

    pytest.importorskip("libvirt", reason="libvirt-python is not installed (extra `kvm`)")
    xapi = XapiPeer(XEN_SHAPE, "root", "xen-password")
    wsman = WsmanPeer(HYPERV_SHAPE, "Administrator", "hv-password")
    with xapi.serving() as xen_url, wsman.serving() as hv_url, vmware_peer() as vmware:
        peers = {
            "KVM": (*kvm_node(tmp_path), "admin", "kvm-password"),
            "XenServer": (xen_url, expected_of(XEN_SHAPE), "root", "xen-password"),
            # The stand-in speaks Basic authentication only; the URL says so.
            "Hyperv": (
                hv_url + "?transport=basic",
                expected_of(HYPERV_SHAPE),
                "Administrator",
                "hv-password",
            ),
        }
        if not isinstance(vmware, str):
            peers["VMware"] = (*vmware, "administrator", "vc-password")
        hosts = _add_every_host(cloud, peers)
        _check_listings(cloud.admin, hosts, kvm_sockets=peers["KVM"][1].sockets)
    if isinstance(vmware, str):
        pytest.skip(f"VMware part not run: {vmware}")


def _add_every_host(cloud: Cloud, peers: dict[str, tuple[str, Expected, str, str]]) -> list[dict]:
    for hypervisor in peers:
        cloud.start_adapter(hypervisor.lower())
    admin = cloud.admin
    place = make_place(admin, *peers)
    hosts = []
    for hypervisor, (url, expected, username, password) in peers.items():
        host = add_host(admin, place, hypervisor, url, username, password)
        assert host["hypervisor"] == hypervisor
        assert_shows(host, expected)
        hosts.append(host)
    return hosts


def _check_listings(admin: CloudStack, hosts: list[dict], *, kvm_sockets: int) -> None:
    kvm = admin.listHosts(hypervisor="KVM")["host"]
    assert [(h["hypervisor"], h["cpusockets"]) for h in kvm] == [("KVM", kvm_sockets)]
    listed = admin.listHosts()["host"]
    assert {h["id"] for h in listed} == {h["id"] for h in hosts}
    summary = admin.listInfrastructure()["infrastructure"]
    per_hypervisor = {s["hypervisor"]: (s["hosts"], s["cpusockets"]) for s in summary["sockets"]}
    wanted: dict[str, tuple[int, int]] = {}
    for h in listed:
        count, sockets = wanted.get(h["hypervisor"], (0, 0))
        wanted[h["hypervisor"]] = (count + 1, sockets + h["cpusockets"])
    assert per_hypervisor == wanted
    assert summary["hosts"] == len(listed)
    assert summary["cpusockets"] == sum(h["cpusockets"] for h in listed)
    capacity = {c["type"]: c["capacitytotal"] for c in admin.listCapacity()["capacity"]}
    assert capacity[0] == sum(h["memorytotal"] for h in listed)
    assert capacity[1] == sum(h["cpunumber"] * h["cpuspeed"] for h in listed)


def test_a_host_refusing_the_credentials_is_answered_with_the_reason_and_raises_an_alert(
    cloud: Cloud,
) -> None:
    from tests.peers.xapi import XapiPeer

    cloud.start_adapter("xenserver")
    admin = cloud.admin
    place = make_place(admin, "XenServer")
    wrong = f"not-{uuid.uuid4().hex}"
    peer = XapiPeer(XEN_SHAPE, "root", "xen-password")
    with peer.serving() as url, pytest.raises(CloudStackApiException) as refused:
        add_host(admin, place, "XenServer", url, "root", wrong)
    text = refused.value.error["errortext"]
    assert "bad credentials" in text and wrong not in text
    host = admin.listHosts(hypervisor="XenServer")["host"][0]
    assert host["state"] == "Alert"
    assert host_alerts(admin, host["name"])
    jobs = admin.listAsyncJobs()["asyncjobs"]
    adding = [j for j in jobs if j["cmd"].endswith("AddHostCmd")]
    assert [j["jobstatus"] for j in adding] == [2]
    assert wrong not in str(adding[0]["jobresult"])


def test_a_host_whose_adapter_dies_goes_down_and_comes_back_with_a_new_adapter(
    fast_heartbeat_cloud: Cloud,
) -> None:
    cloud = fast_heartbeat_cloud
    adapter = cloud.start_adapter("simulator")
    admin = cloud.admin
    place = make_place(admin, "Simulator")
    host = add_host(admin, place, "Simulator", "simulator://sim-hb?sockets=2", "root", "pw")
    assert host["state"] == "Up"
    adapter.process.send_signal(signal.SIGKILL)
    adapter.process.wait(timeout=10)
    assert wait_for(lambda: host_state(admin, host["id"]) == "Disconnected", 20)
    assert wait_for(lambda: host_state(admin, host["id"]) == "Down", 20)
    alerts = host_alerts(admin, host["name"])
    assert any("disconnected" in a for a in alerts) and any("is down" in a for a in alerts)
    cloud.start_adapter("simulator")
    # The probe sent when heartbeats stopped waits on the bus for any live simulator worker.
    assert wait_for(lambda: host_state(admin, host["id"]) == "Up", 60, interval=0.25)


def test_a_connect_whose_worker_dies_mid_way_is_finished_by_another_worker_once(
    cloud: Cloud,
) -> None:
    workers = [cloud.start_adapter("simulator", name=f"sim-{n}") for n in "ab"]
    admin = cloud.admin
    place = make_place(admin, "Simulator")
    # The connect takes 10 s: time enough, on a loaded machine, to kill its worker before it ends.
    url = "simulator://sim-slow?sockets=2&connect_delay=10"
    with ThreadPoolExecutor(1) as pool:
        # addHost answers after at most 30 s, longer than the client's default read timeout.
        patient = cloud.server.client(timeout=60)
        adding = pool.submit(add_host, patient, place, "Simulator", url, "root", "pw")
        taker = wait_for(lambda: _worker_connecting(workers), 15, interval=0.05)
        assert taker is not None, "no simulator worker took the connect request"
        taker.process.send_signal(signal.SIGKILL)
        host = adding.result(timeout=60)
    other = next(w for w in workers if w is not taker)
    # The bus hands the request on once the dead worker's ack deadline (30 s) has passed.
    assert wait_for(lambda: host_state(admin, host["id"]) == "Up", 60, interval=0.25)
    assert "attempt 2" in other.output()
    assert cloud.connected_events(host["id"]) == 1
    jobs = [j for j in admin.listAsyncJobs()["asyncjobs"] if j["cmd"].endswith("AddHostCmd")]
    assert [j["jobstatus"] for j in jobs] == [1]


def _worker_connecting(workers: list[Adapter]) -> Adapter | None:
    return next((w for w in workers if re.search(r"connect_host for host", w.output())), None)
