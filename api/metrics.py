"""`/metrics` in Prometheus' text format: the cloud as CloudStack's exporter shows it, and Stratus.

The `cloudstack_*` families (hosts, their CPU, memory and storage, VMs, volumes, capacity,
public addresses, routers) are read from the read models at scrape time, kept for
`STRATUS_METRICS_CACHE` seconds so that several scrapers cost one reading. The `stratus_*`
families are this process's own (stratus/telemetry.py) plus the read models' lag and the job
queue. Served on the operations listener only, to the addresses in `STRATUS_METRICS_ALLOW`
(loopback by default), as CloudStack serves its exporter on a port of its own with an allow-list.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from projections.gauges import CloudGauges, read_gauges
from stratus.runtime import Runtime
from stratus.settings import IpNetwork


def allowed(address: str, networks: tuple[IpNetwork, ...]) -> bool:
    """Whether a client at `address` may read the metrics."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class CloudCollector(Collector):
    """The read models' families, read at most once per cache period."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._gauges = CloudGauges()
        self._read_seconds = 0.0

    def describe(self) -> list[Metric]:
        return []  # nothing to read when registered: the first scrape reads

    def collect(self) -> Iterator[Metric]:
        gauges = self._reading()
        yield from _cloud_families(gauges)
        yield from self._stratus_families(gauges)

    def _reading(self) -> CloudGauges:
        with self._lock:  # one scrape reads; the others of the same moment reuse it
            if time.monotonic() - self._read_at >= self.runtime.settings.metrics_cache:
                started = time.perf_counter()
                with self.runtime.db.read() as cursor:
                    self._gauges = read_gauges(cursor)
                self._read_seconds = time.perf_counter() - started
                self._read_at = time.monotonic()
            return self._gauges

    def _stratus_families(self, gauges: CloudGauges) -> Iterator[Metric]:
        runner = self.runtime.runner
        statuses = runner.status()
        head = GaugeMetricFamily("stratus_log_head", "Position of the newest event in the log")
        head.add_metric([], statuses[0].head if statuses else self.runtime.store.head())
        yield head
        lag = GaugeMetricFamily(
            "stratus_projection_lag_events",
            "Events of the log a read model has not applied yet",
            labels=["read_model"],
        )
        failing = GaugeMetricFamily(
            "stratus_projection_failing",
            "1 when this process's runner keeps failing to apply a read model",
            labels=["read_model"],
        )
        failures = dict(runner.failures)
        for status in statuses:
            lag.add_metric([status.name], status.lag)
            failing.add_metric([status.name], 1 if status.name in failures else 0)
        yield lag
        yield failing
        jobs = GaugeMetricFamily(
            "stratus_jobs_pending", "Asynchronous jobs not finished yet", labels=["command"]
        )
        for command, n in sorted(gauges.pending_jobs.items()):
            jobs.add_metric([command], n)
        yield jobs
        cost = GaugeMetricFamily(
            "stratus_metrics_read_seconds", "Time the last reading of the read models took"
        )
        cost.add_metric([], self._read_seconds)
        yield cost


def _by_zone(name: str, text: str, values: dict[tuple[str, str], int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, text, labels=["zone", "filter"])
    for (zone, what), n in sorted(values.items()):
        family.add_metric([zone, what], n)
    return family


def _cloud_families(gauges: CloudGauges) -> Iterator[Metric]:
    yield _by_zone("cloudstack_hosts_total", "Hosts by zone and state", gauges.hosts)
    yield from _host_families(gauges)
    yield _by_zone("cloudstack_vms_total", "Virtual machines by zone and state", gauges.vms)
    yield _by_zone("cloudstack_volumes_total", "Volumes by zone and state", gauges.volumes)
    yield _by_zone(
        "cloudstack_volumes_size_gibs_total",
        "Volume sizes (GiB) by zone and state",
        gauges.volume_gib,
    )
    ips = dict(gauges.public_ips)
    for zone in {zone for zone, _ in gauges.public_ips}:
        ips[(zone, "total")] = sum(n for (z, _), n in gauges.public_ips.items() if z == zone)
    yield _by_zone(
        "cloudstack_public_ips_total", "Public addresses by zone: by state and in all", ips
    )
    yield _by_zone(
        "cloudstack_routers_total",
        "Virtual routers by zone: all, and those older than the zone's minimum version",
        gauges.routers,
    )


def _host_families(gauges: CloudGauges) -> Iterator[Metric]:
    labels = ["zone", "hostname", "filter"]
    cpu = GaugeMetricFamily(
        "cloudstack_host_cpu_usage_mhz_total", "Host CPU (MHz): allocated and total", labels=labels
    )
    memory = GaugeMetricFamily(
        "cloudstack_host_memory_usage_mibs_total",
        "Host memory (MiB): allocated and total",
        labels=labels,
    )
    storage = GaugeMetricFamily(
        "cloudstack_host_local_storage_gibs_total", "Host local storage (GiB)", labels=labels
    )
    capacity: dict[tuple[str, str, str], int] = {}
    for host in gauges.host_capacity:
        zone, name = host["zone"], host["host"]
        for family, kind in ((cpu, "cpu"), (memory, "memory")):
            family.add_metric([zone, name, "allocated"], host[f"{kind}_used"])
            family.add_metric([zone, name, "total"], host[f"{kind}_total"])
        storage.add_metric([zone, name, "total"], host["storage_total"])
        if host["up"]:  # capacity counts the hosts that can take VMs, as listCapacity does
            for kind in ("cpu", "memory"):
                for what in ("used", "total"):
                    key = (zone, kind, what)
                    capacity[key] = capacity.get(key, 0) + host[f"{kind}_{what}"]
            key = (zone, "storage", "total")
            capacity[key] = capacity.get(key, 0) + host["storage_total"]
    total = GaugeMetricFamily(
        "cloudstack_capacity_total",
        "Capacity of the Up hosts per zone and type (cpu MHz, memory MiB, storage GiB)",
        labels=["zone", "type", "filter"],
    )
    for (zone, kind, what), n in sorted(capacity.items()):
        total.add_metric([zone, kind, what], n)
    yield from (cpu, memory, storage, total)


class Exporter:
    """The `/metrics` endpoint of one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.registry = runtime.telemetry.registry
        self.registry.register(CloudCollector(runtime))

    async def metrics(self, request: Request) -> Response:
        client = request.client.host if request.client else ""
        if not allowed(client, self.runtime.settings.metrics_allow):
            return PlainTextResponse("metrics are not served to this address\n", status_code=403)
        body = await asyncio.to_thread(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def routes(self) -> list[Route]:
        return [Route("/metrics", self.metrics, methods=["GET"])]
