"""Operating a running cloud: health checks a load balancer asks, `/metrics` a Prometheus scrapes
(parsed with Prometheus' own parser), and one JSON log line per request that never holds a
secret. One server per leg, with the operations listener on and JSON logs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import psycopg
import pytest
from cs import CloudStack, CloudStackApiException
from prometheus_client.parser import text_string_to_metric_families

from stratus.settings import parse_database_url
from tests.conftest import TEST_KEY, postgres_url
from tests.e2e.factories import custom_offering, make_tenant
from tests.e2e.legs import LEGS, Deployment, _delete_stream, deployed
from tests.e2e.sandbox import Sandbox
from tests.e2e.servers import start_server, stop_server
from tests.e2e.test_routers import SYSTEM_TEMPLATE, build, ensure_router, register_template
from tests.e2e.test_vms import Place, _deploy, _host, _template
from tests.support.waiting import wait_until

SETTINGS = {
    "STRATUS_HEALTH_PORT": "0",
    "STRATUS_LOG_FORMAT": "json",
    "STRATUS_METRICS_CACHE": "0",
    "STRATUS_METRICS_ALLOW": "127.0.0.1/32,::1",
}
SERVE = (sys.executable, "-m", "entrypoint.cli", "serve")
DEPLOY_CMD = "org.apache.cloudstack.api.command.user.vm.DeployVMCmd"
OPERATIONS = re.compile(r"operations listener \(health, metrics\) on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="module", params=LEGS)
def ops_leg(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp(request.param)
    with deployed(request.param, workdir, settings=SETTINGS) as deployment:
        yield deployment


@pytest.fixture
def sandbox(ops_leg: Deployment) -> Sandbox:
    return Sandbox.open(ops_leg)


def _operations_url(sandbox: Sandbox) -> str:
    found = wait_until(
        lambda: OPERATIONS.search(sandbox.server.output()), 30, "the operations listener"
    )
    return found.group(1)


def _api_base(sandbox: Sandbox) -> str:
    return sandbox.url.removesuffix("/client/api")


def _scrape(sandbox: Sandbox) -> dict[str, Any]:
    """Every sample of a scrape, by name and labels, through Prometheus' text parser."""
    answer = httpx.get(_operations_url(sandbox) + "/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: dict[str, Any] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _sum(samples: dict[str, Any], name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    return sum(
        value
        for (sample, have), value in samples.items()
        if sample == name and set(labels.items()) <= set(have)
    )


def _zone(admin: CloudStack) -> tuple[Place, str]:
    """A zone of this test's own (its name is the metrics' zone label) with a template."""
    name = f"ops-{uuid.uuid4().hex[:8]}"
    zone = admin.createZone(
        name=name, networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="p1",
        zoneid=zone["id"],
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip="10.1.0.10",
        endip="10.1.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername="c1",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    custom = custom_offering(admin)
    place = Place(zone["id"], pod["id"], cluster["id"], small, custom, "")
    place.template = _template(admin, zone["id"])
    return place, name


# ---- health -------------------------------------------------------------------------------


def test_live_and_ready_answer_anyone_on_both_ports_with_no_tenant_data(sandbox) -> None:
    for base in (_api_base(sandbox), _operations_url(sandbox)):
        live = httpx.get(base + "/health/live")
        assert live.status_code == 200 and live.json() == {"status": "live", "role": "all"}
        ready = httpx.get(base + "/health/ready")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "ready"
        assert set(body["checks"]) == {"store", "bus", "read_models"}
        assert all(check["ok"] for check in body["checks"].values())
        assert sandbox.domain_name not in ready.text and sandbox.admin_name not in ready.text


def test_metrics_are_served_on_the_operations_port_only_to_the_allow_list(sandbox) -> None:
    assert httpx.get(_api_base(sandbox) + "/metrics").status_code == 404
    elsewhere = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with elsewhere:
        refused = elsewhere.get(_operations_url(sandbox) + "/metrics")
        assert refused.status_code == 403
        assert "cloudstack_" not in refused.text
        assert elsewhere.get(_operations_url(sandbox) + "/health/live").status_code == 200


# ---- metrics ------------------------------------------------------------------------------


def test_a_scrape_shows_hosts_vms_volumes_and_capacity_of_each_zone(sandbox) -> None:
    admin = sandbox.client()
    place, zone = _zone(admin)
    for name in ("h1", "h2"):
        _host(admin, place, f"{name}-{uuid.uuid4().hex[:6]}", cores=4, memory=8)
    tenant = make_tenant(sandbox, admin)
    running = _deploy(tenant.client, place, place.small)
    stopped = _deploy(tenant.client, place, place.small)
    tenant.client.stopVirtualMachine(id=stopped["id"], fetch_result=True)

    def shown() -> dict[str, Any] | None:
        samples = _scrape(sandbox)
        vms = {
            s: _value(samples, "cloudstack_vms_total", zone=zone, filter=s)
            for s in ("Running", "Stopped")
        }
        return samples if vms == {"Running": 1, "Stopped": 1} else None

    samples = wait_until(shown, 30, "the VMs on /metrics")
    assert _value(samples, "cloudstack_hosts_total", zone=zone, filter="Up") == 2
    assert _sum(samples, "cloudstack_volumes_total", zone=zone) == 2  # the ROOT disks
    # Two hosts of 4 x 1000 MHz and 8 GiB; one running Small Instance (500 MHz, 512 MiB).
    capacity = {
        (kind, what): _value(
            samples, "cloudstack_capacity_total", zone=zone, type=kind, filter=what
        )
        for kind in ("cpu", "memory")
        for what in ("used", "total")
    }
    assert capacity == {
        ("cpu", "total"): 8000,
        ("cpu", "used"): 500,
        ("memory", "total"): 16384,
        ("memory", "used"): 512,
    }
    assert (
        _sum(samples, "cloudstack_host_cpu_usage_mhz_total", zone=zone, filter="allocated") == 500
    )
    assert (
        _sum(samples, "cloudstack_host_memory_usage_mibs_total", zone=zone, filter="total") == 16384
    )
    assert running["id"] not in str(samples) and tenant.username not in str(samples)


def test_a_scrape_shows_the_public_addresses_of_each_zone(sandbox) -> None:
    admin = sandbox.client()
    place, zone = _zone(admin)
    admin.createVlanIpRange(
        zoneid=place.zone,
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.13",
        forvirtualnetwork="true",
    )

    def shown() -> dict[str, Any] | None:
        samples = _scrape(sandbox)
        total = _value(samples, "cloudstack_public_ips_total", zone=zone, filter="total")
        return samples if total == 4 else None

    samples = wait_until(shown, 30, "the addresses on /metrics")
    assert _value(samples, "cloudstack_public_ips_total", zone=zone, filter="Free") == 4


def test_a_scrape_shows_the_servers_own_measurements(sandbox) -> None:
    admin = sandbox.client()
    place, _ = _zone(admin)
    _host(admin, place, f"h-{uuid.uuid4().hex[:6]}")
    _deploy(admin, place, place.small)
    with pytest.raises(CloudStackApiException):
        admin.listZones(id="not-a-uuid")
    samples = _scrape(sandbox)
    assert (
        _value(samples, "stratus_api_responses_total", command="deployVirtualMachine", status="200")
        >= 1
    )
    assert _value(samples, "stratus_api_responses_total", command="listZones", status="431") >= 1
    assert _value(samples, "stratus_api_request_seconds_count", command="createZone") >= 1
    assert _value(samples, "stratus_commit_seconds_count") > 0
    assert _value(samples, "stratus_events_appended_total") > 0
    assert _value(samples, "stratus_log_head") > 0
    lags = {
        labels: v
        for (name, labels), v in samples.items()
        if name == "stratus_projection_lag_events"
    }
    assert (("read_model", "virtual_machines"),) in lags and len(lags) > 10
    # The deploy's start went to an adapter and came back: one round trip at least, timed.
    assert _sum(samples, "stratus_adapter_round_trips_total", outcome="ok") >= 1
    assert _sum(samples, "stratus_adapter_round_trip_seconds_count") >= 1


def test_the_job_queue_depth_counts_jobs_until_they_finish(sandbox) -> None:
    admin = sandbox.client()
    place, _ = _zone(admin)
    host = f"slow-{uuid.uuid4().hex[:6]}"
    _host(admin, place, host)

    def pending() -> float:  # jobs are named by their `cmd`, as queryAsyncJobResult names them
        return _value(_scrape(sandbox), "stratus_jobs_pending", command=DEPLOY_CMD)

    before = pending()
    sandbox.control_file.write_bytes(orjson.dumps({"slow_hosts": {host: 3}}))
    try:
        job = admin.deployVirtualMachine(
            zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template
        )
        wait_until(lambda: pending() == before + 1, 10, "the deploy in the job queue")
    finally:
        sandbox.control_file.write_bytes(orjson.dumps({}))
    done = admin._jobresult(job["jobid"])  # waits for the job, as fetch_result does
    assert done["virtualmachine"]["state"] == "Running"
    wait_until(lambda: pending() == before, 30, "the job leaving the queue")


# ---- request logs -------------------------------------------------------------------------


def _signed_get(url: str, keys: dict[str, str], params: dict[str, str], request_id: str) -> str:
    """A request signed as CloudStack clients sign; returns its signature."""
    query = {**params, "apikey": keys["apikey"], "response": "json"}
    canonical = "&".join(
        f"{k.lower()}={quote(v, safe='*').lower()}" for k, v in sorted(query.items())
    )
    digest = hmac.new(keys["secretkey"].encode(), canonical.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()
    answer = httpx.get(
        url, params={**query, "signature": signature}, headers={"X-Request-Id": request_id}
    )
    assert answer.status_code == 200, answer.text
    return signature


def test_each_request_is_one_json_line_and_no_secret_reaches_the_log(sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    keys = admin.registerUserKeys(id=tenant.user_id)["userkeys"]
    user = sandbox.client(keys["apikey"], keys["secretkey"])
    marker = uuid.uuid4().hex
    request_id = f"ops-{marker}"
    httpx.get(
        sandbox.url,
        params={"command": "listZones", "response": "json"},
        headers={"X-Request-Id": request_id},
    )
    signed_id = f"signed-{marker}"
    signature = _signed_get(sandbox.url, keys, {"command": "listVolumes"}, signed_id)
    login = httpx.post(
        sandbox.url,
        data={
            "command": "login",
            "username": tenant.username,
            "password": tenant.password,
            "domainid": sandbox.domain_id,
            "response": "json",
        },
    )
    assert login.status_code == 200, login.text
    session_key = login.json()["loginresponse"]["sessionkey"]
    httpx.get(
        sandbox.url,
        params={"command": "listVirtualMachines", "sessionkey": session_key, "response": "json"},
        cookies=login.cookies,
    )
    user.listVirtualMachines()
    new_password = f"pw-{marker}"
    admin.updateUser(id=tenant.user_id, password=new_password)

    log = sandbox.server.output()
    for secret in (
        keys["apikey"],
        keys["secretkey"],
        tenant.password,
        session_key,
        new_password,
        sandbox.admin["secretkey"],
        signature,
    ):
        assert secret not in log
    lines = [orjson.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "stratus.requests"]
    mine = [r for r in requests if r["request_id"] == request_id]
    assert len(mine) == 1
    assert mine[0]["command"] == "listZones" and mine[0]["status"] == 401
    assert mine[0]["account"] is None and mine[0]["duration_ms"] >= 0
    signed = [r for r in requests if r["request_id"] == signed_id]
    assert [(r["command"], r["account"], r["status"]) for r in signed] == [
        ("listVolumes", tenant.username, 200)
    ]
    by_tenant = [r for r in requests if r["account"] == tenant.username]
    assert {(r["command"], r["status"]) for r in by_tenant} >= {
        ("login", 200),
        ("listVirtualMachines", 200),
    }
    assert all(
        set(r) >= {"time", "level", "request_id", "command", "account", "status", "duration_ms"}
        for r in requests
    )


# ---- health per role ----------------------------------------------------------------------


@pytest.fixture
def distributed_env(tmp_path) -> Iterator[dict[str, str]]:
    """Settings of a cloud on a PostgreSQL schema of its own (dropped afterwards) and NATS."""
    base = postgres_url()
    if not base:
        pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
    nats_url = os.environ.get("STRATUS_TEST_NATS_URL")
    if not nats_url:  # every role but `all` runs on PostgreSQL and NATS
        pytest.skip("STRATUS_TEST_NATS_URL is not set")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        yield {
            "STRATUS_DATABASE_URL": f"{base}?schema={schema}",
            "STRATUS_NATS_URL": nats_url,
            "STRATUS_READY_MAX_LAG": "0",
            "STRATUS_WRITE_VISIBLE_TIMEOUT": "0.2",
            "STRATUS_READ_YOUR_WRITES_TIMEOUT": "0.2",
        }
    finally:
        with psycopg.connect(parse_database_url(base).conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _serve_role(tmp_path, env: dict[str, str], role: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{role}.log"
    process_env = dict(os.environ, STRATUS_DATA=str(tmp_path / role), **env)
    process_env["STRATUS_SECRET_KEY"] = TEST_KEY
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SERVE, "--role", role, "--health-port", "0"],
            env=process_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return process, log


def test_each_role_is_ready_when_what_it_depends_on_is(tmp_path, distributed_env) -> None:
    api = start_server(tmp_path / "api", distributed_env, role="api")
    projections = None
    try:
        base = api.url.removesuffix("/client/api")
        ready = httpx.get(base + "/health/ready")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"store", "read_models"}  # the API has no bus
        # A write, and no process keeps the read models: the API stops being ready, and says why.
        with contextlib.suppress(CloudStackApiException):
            api.client().createDomain(name=f"d-{uuid.uuid4().hex[:6]}")
        lagging = wait_until(
            lambda: (r := httpx.get(base + "/health/ready")).status_code == 503 and r.json(),
            10,
            "the API not ready",
        )
        assert lagging["status"] == "not ready" and lagging["checks"]["store"]["ok"]
        assert not lagging["checks"]["read_models"]["ok"]
        assert "identity" in lagging["checks"]["read_models"]["lagging"]
        assert httpx.get(base + "/health/live").status_code == 200

        projections, own = _role_process(tmp_path, "projections", distributed_env)
        wait_until(lambda: httpx.get(own + "/health/ready").status_code == 200, 30, "catch-up")
        assert set(httpx.get(own + "/health/ready").json()["checks"]) == {"store", "read_models"}
        scrape = httpx.get(own + "/metrics").text
        lags = [
            s.value
            for f in text_string_to_metric_families(scrape)
            for s in f.samples
            if s.name == "stratus_projection_lag_events"
        ]
        assert lags and set(lags) == {0.0}
        wait_until(lambda: httpx.get(base + "/health/ready").status_code == 200, 30, "API ready")
    finally:
        if projections is not None:
            projections.terminate()
            projections.wait(timeout=15)
        stop_server(api)


def _role_process(
    tmp_path: Path, role: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """`serve --role ROLE` with the operations listener; returns it and the listener's URL."""
    process, log = _serve_role(tmp_path, env, role)
    found = wait_until(
        lambda: OPERATIONS.search(log.read_text(errors="replace")) or process.poll() is not None,
        60,
        f"the {role} process's listener",
    )
    assert process.poll() is None, log.read_text()
    return process, found.group(1)


def test_a_relay_is_ready_with_the_store_and_its_bus(tmp_path, distributed_env) -> None:
    token = uuid.uuid4().hex[:10]
    env = {
        **distributed_env,
        "STRATUS_BUS_PREFIX": f"ops{token}",
        "STRATUS_NATS_STREAM": f"OPS_{token}",
    }
    process, url = _role_process(tmp_path, "relay", env)
    try:
        ready = wait_until(
            lambda: (r := httpx.get(url + "/health/ready")).status_code == 200 and r.json(),
            30,
            "the relay ready",
        )
        assert ready["role"] == "relay"
        assert ready["checks"]["bus"] == {"ok": True} and ready["checks"]["store"]["ok"]
        assert set(ready["checks"]) == {"store", "bus"}  # a relay keeps no read models
    finally:
        process.terminate()
        process.wait(timeout=15)
        asyncio.run(_delete_stream(env["STRATUS_NATS_URL"], f"OPS_{token}"))


def test_routers_and_those_older_than_the_zones_minimum_are_counted(sandbox) -> None:
    admin = sandbox.client()
    zone_id = build(admin, zones=1, pods=1).zones[0]
    zone = admin.listZones(id=zone_id)["zone"][0]["name"]
    register_template(
        admin, SYSTEM_TEMPLATE
    )  # the routers' image (the only test here that needs it)
    tenant = make_tenant(sandbox, admin)
    made = [ensure_router(admin, zone_id, tenant) for _ in range(2)]
    assert not any(router["requiresupgrade"] for router in made)

    def counted(total: int, old: int) -> bool:
        samples = _scrape(sandbox)
        return (
            _value(samples, "cloudstack_routers_total", zone=zone, filter="total") == total
            and _value(samples, "cloudstack_routers_total", zone=zone, filter="upgrade_needed")
            == old
        )

    wait_until(lambda: counted(2, 0), 30, "the routers on /metrics")
    # The zone now asks for a newer release than its routers run.
    admin.updateConfiguration(name="minreq.sysvmtemplate.version", value="9.0.0", zoneid=zone_id)
    wait_until(lambda: counted(2, 2), 30, "the routers needing an upgrade on /metrics")
