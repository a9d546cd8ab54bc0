"""Routers through the `cs` client on the embedded default (SQLite and PostgreSQL): listing with
versions, upgrades by scope, service monitoring, the router commands and system VMs.

The simulator runs inside the server here; the test reaches it through the control file named
by STRATUS_SIMULATOR_CONTROL (adapters/simulator/appliances.py). The helpers are shared with
the distributed test (test_routers_distributed.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.factories import make_tenant
from tests.e2e.sandbox import Sandbox

SYSTEM_TEMPLATE = "SystemVM Template (Simulator)"
SIM = "simulator://{name}?sockets=1&cores=8&mhz=2000&memory_gb=16"


@dataclass
class Layout:
    """Zones, their pods (each with one cluster and one host) and the tenants owning routers."""

    zones: list[str] = field(default_factory=list)
    pods: dict[str, list[str]] = field(default_factory=dict)  # zone → pods
    clusters: dict[str, str] = field(default_factory=dict)  # pod → cluster
    hosts: dict[str, str] = field(default_factory=dict)  # pod → host


def wait_for(check: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(interval)


def build(admin: CloudStack, zones: int, pods: int, hypervisor: str = "Simulator") -> Layout:
    layout = Layout()
    for z in range(zones):
        zone = admin.createZone(
            name=f"z{z}-{uuid.uuid4().hex[:4]}",
            networktype="Advanced",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
        )["zone"]
        layout.zones.append(zone["id"])
        for p in range(pods):
            add_pod(admin, layout, zone["id"], f"p{z}{p}", hypervisor, SIM.format(name=f"h{z}{p}"))
    return layout


def add_pod(
    admin: CloudStack,
    layout: Layout,
    zone: str,
    name: str,
    hypervisor: str,
    url: str,
    login: tuple[str, str] = ("root", "sim-password"),
) -> None:
    third = len(layout.clusters) + 1
    pod = admin.createPod(
        name=name,
        zoneid=zone,
        gateway=f"10.{third}.0.1",
        netmask="255.255.255.0",
        startip=f"10.{third}.0.10",
        endip=f"10.{third}.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername=f"c-{name}",
        podid=pod["id"],
        zoneid=zone,
        hypervisor=hypervisor,
        clustertype="CloudManaged",
    )["cluster"][0]
    host = admin.addHost(
        zoneid=zone,
        podid=pod["id"],
        clusterid=cluster["id"],
        hypervisor=hypervisor,
        url=url,
        username=login[0],
        password=login[1],
    )["host"][0]
    assert host["state"] == "Up", host
    layout.pods.setdefault(zone, []).append(pod["id"])
    layout.clusters[pod["id"]] = cluster["id"]
    layout.hosts[pod["id"]] = host["id"]


def register_template(
    admin: CloudStack,
    name: str,
    hypervisor: str = "Simulator",
    url: str | None = None,
    fmt: str = "QCOW2",
) -> str:
    os_type = admin.listOsTypes()["ostype"][0]["id"]
    template = admin.registerTemplate(
        name=name,
        displaytext=name,
        hypervisor=hypervisor,
        format=fmt,
        ostypeid=os_type,
        url=url or f"http://images.example.org/{uuid.uuid4().hex[:8]}.qcow2",
        zoneid="-1",
        ispublic="true",
    )["template"][0]
    return template["id"]


def control(path: Path, **knobs: Any) -> None:
    """Rewrite the simulator's control file (atomically, so it is never read half-written)."""
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(knobs)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(current))
    partial.replace(path)


def fail_next(path: Path, action: str, times: int = 1) -> None:
    """The simulator fails `times` more of the next `action` calls. Its failure counts only ever
    grow, so this adds to what the file already asks (another test's, on a shared server)."""
    current = json.loads(path.read_text()) if path.exists() else {}
    failures = dict(current.get("failures", {}))
    failures[action] = int(failures.get(action, 0)) + times
    control(path, failures=failures)


def ensure_router(admin: CloudStack, zone: str, tenant: Any, hypervisor="Simulator") -> dict:
    answer = admin.ensureNetworkRouter(
        networkid=str(uuid.uuid4()),
        zoneid=zone,
        account=tenant.username,
        domainid=tenant.domain_id,
        hypervisor=hypervisor,
        fetch_result=True,
    )
    return answer["router"]


def routers(admin: CloudStack, **filters: Any) -> list[dict]:
    return admin.listRouters(listall="true", **filters).get("router", [])


def finish(admin: CloudStack, job_ids: list[str], timeout: float = 60) -> list[dict]:
    def done() -> list[dict] | None:
        results = [admin.queryAsyncJobResult(jobid=j) for j in job_ids]
        return results if all(r["jobstatus"] != 0 for r in results) else None

    results = wait_for(done, timeout)
    assert results, "the jobs did not finish"
    return results


@pytest.fixture
def sim_sandbox(sandbox: Sandbox) -> tuple[Sandbox, Path]:
    """A sandbox on the module's shared server, and the simulator control file that server reads."""
    return sandbox, sandbox.control_file


@pytest.fixture
def sim_server(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh server with a simulator control file, for a test that changes the server's settings
    or counts everything on it."""
    from tests.conftest import postgres_url

    env = {"STRATUS_SIMULATOR_CONTROL": str(tmp_path / "control.json")}
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    url = postgres_url()
    if request.param == "postgres":
        if not url:
            pytest.skip("STRATUS_TEST_POSTGRES_URL is not set")
        env["STRATUS_DATABASE_URL"] = f"{url}?schema={schema}"
    running = start_server(tmp_path / "data", env)
    try:
        yield running, tmp_path / "control.json"
    finally:
        stop_server(running)
        if request.param == "postgres" and url:
            _drop_schema(url, schema)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    from stratus.settings import parse_database_url

    with psycopg.connect(parse_database_url(url).conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


BOTH = pytest.mark.parametrize(
    "sim_server", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@BOTH
def test_versions_filters_and_an_upgrade_of_one_pod(sim_server: tuple[Server, Path]) -> None:
    # A server of its own: the test changes the router template setting and counts every router.
    server, knobs = sim_server
    admin = server.client()
    layout = build(admin, zones=1, pods=2)
    zone = layout.zones[0]
    old = register_template(admin, SYSTEM_TEMPLATE)
    control(knobs, releases={old: "4.2.0"})
    tenants = [make_tenant(server, admin) for _ in range(2)]
    made = [ensure_router(admin, zone, tenants[i % 2]) for i in range(4)]
    assert {r["version"] for r in made} == {"4.2.0"} and all(r["requiresupgrade"] for r in made)
    assert {r["podid"] for r in made} == set(layout.pods[zone])  # spread over both pods

    register_template(admin, "systemvm-4.3")
    admin.updateConfiguration(name="router.template.simulator", value="systemvm-4.3")
    fresh = ensure_router(admin, zone, tenants[0])
    assert (fresh["version"], fresh["requiresupgrade"]) == ("4.3.0", False)
    assert len(routers(admin, version="4.2")) == 4
    assert [r["id"] for r in routers(admin, version="4.3")] == [fresh["id"]]
    mine = routers(admin, account=tenants[1].username, domainid=tenants[1].domain_id)
    assert len(mine) == 2
    first = made[0]
    assert [r["id"] for r in routers(admin, networkid=first["guestnetworkid"])] == [first["id"]]
    assert [r["id"] for r in routers(admin, name=first["name"][2:10])] == [first["id"]]
    on_host = {r["id"] for r in routers(admin, hostid=first["hostid"])}
    in_cluster = {r["id"] for r in routers(admin, clusterid=layout.clusters[first["podid"]])}
    assert first["id"] in on_host and on_host == in_cluster  # one host per cluster here
    assert len(routers(admin, state="Running", zoneid=zone)) == 5
    assert routers(admin, state="Stopped") == []

    pod = layout.pods[zone][0]
    in_pod = {r["id"] for r in routers(admin, podid=pod) if r["requiresupgrade"]}
    jobs = admin.upgradeRouterTemplate(podid=pod)["asyncjobs"]
    assert len(jobs) == len(in_pod)
    finish(admin, [j["jobid"] for j in jobs])
    after = {r["id"]: r for r in routers(admin)}
    for router_id, router in after.items():
        upgraded = router_id in in_pod or router_id == fresh["id"]
        assert router["version"] == ("4.3.0" if upgraded else "4.2.0")
        assert router["requiresupgrade"] is (not upgraded)
    assert admin.upgradeRouterTemplate(podid=pod) == {}  # nothing left to upgrade there


def test_the_selector_rules_and_admin_only(sim_sandbox: tuple[Sandbox, Path]) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    with pytest.raises(CloudStackApiException) as several:
        admin.upgradeRouterTemplate(zoneid=layout.zones[0], podid=layout.pods[layout.zones[0]][0])
    assert several.value.error["errorcode"] == 431
    assert "Multiple parameters not supported" in several.value.error["errortext"]
    with pytest.raises(CloudStackApiException) as none:
        admin.upgradeRouterTemplate()
    assert none.value.error["errorcode"] == 431
    tenant = make_tenant(server, admin)
    with pytest.raises(CloudStackApiException) as denied:
        tenant.client.upgradeRouterTemplate(zoneid=layout.zones[0])
    assert denied.value.error["errorcode"] == 432
    with pytest.raises(CloudStackApiException) as listing:
        tenant.client.listRouters()
    assert listing.value.error["errorcode"] == 432


@BOTH
def test_router_commands_and_monitoring(sim_server: tuple[Server, Path]) -> None:
    # A server of its own: the test changes how often every router is checked.
    server, knobs = sim_server
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    zone = layout.zones[0]
    register_template(admin, SYSTEM_TEMPLATE)
    tenant = make_tenant(server, admin)
    router = ensure_router(admin, zone, tenant)
    stopped = admin.stopRouter(id=router["id"], forced="true", fetch_result=True)["router"]
    assert stopped["state"] == "Stopped"
    routing = admin.createServiceOffering(
        name="bigger-router",
        displaytext="bigger",
        cpunumber=1,
        cpuspeed=1000,
        memory=512,
        issystem="true",
        systemvmtype="domainrouter",
    )["serviceoffering"]
    changed = admin.changeServiceForRouter(id=router["id"], serviceofferingid=routing["id"])
    assert changed["router"]["serviceofferingid"] == routing["id"]
    assert admin.startRouter(id=router["id"], fetch_result=True)["router"]["state"] == "Running"
    assert admin.rebootRouter(id=router["id"], fetch_result=True)["router"]["state"] == "Running"

    admin.updateConfiguration(name="router.alerts.check.interval", value="1")
    control(knobs, kills={router["name"]: {"dnsmasq": 1}})
    assert wait_for(lambda: _events(admin, "ROUTER.SERVICE.RESTART", router["name"]))
    control(knobs, broken={router["name"]: ["dnsmasq"]}, kills={router["name"]: {"dnsmasq": 2}})
    assert wait_for(lambda: _router_alerts(admin, router["name"]))
    # A quiet period, the behaviour under test: three more checks find it still down, and
    # none of them may raise another alert.
    time.sleep(3)
    assert len(_router_alerts(admin, router["name"])) == 1
    assert len(_events(admin, "ROUTER.SERVICE.FAILURE", router["name"])) == 1
    admin.destroyRouter(id=router["id"], fetch_result=True)
    assert routers(admin, id=router["id"]) == []


def _events(admin: CloudStack, kind: str, name: str) -> list[dict]:
    events = admin.listEvents(listall="true", type=kind).get("event", [])
    return [e for e in events if name in e["description"]]


def _router_alerts(admin: CloudStack, name: str) -> list[dict]:
    alerts = admin.listAlerts(type="9").get("alert", [])
    return [a for a in alerts if name in a["description"]]


def test_system_vms_are_created_listed_and_changed(sim_sandbox: tuple[Sandbox, Path]) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    zone = layout.zones[0]
    register_template(admin, SYSTEM_TEMPLATE)
    for kind in ("secondarystoragevm", "consoleproxy"):
        admin.createSystemVm(
            zoneid=zone, systemvmtype=kind, hypervisor="Simulator", fetch_result=True
        )
    listed = admin.listSystemVms(zoneid=zone)["systemvm"]
    assert sorted(v["systemvmtype"] for v in listed) == ["consoleproxy", "secondarystoragevm"]
    assert all(v["state"] == "Running" for v in listed)
    proxy = admin.listSystemVms(systemvmtype="consoleproxy", zoneid=zone)["systemvm"][0]
    assert admin.listSystemVms(hostid=proxy["hostid"], state="Running")["count"] == 2
    admin.stopSystemVm(id=proxy["id"], fetch_result=True)
    offering = admin.createServiceOffering(
        name="bigger-proxy",
        displaytext="bigger",
        cpunumber=2,
        cpuspeed=1000,
        memory=2048,
        issystem="true",
        systemvmtype="consoleproxy",
    )["serviceoffering"]
    scaled = admin.scaleSystemVm(
        id=proxy["id"], serviceofferingid=offering["id"], fetch_result=True
    )["systemvm"]
    assert (scaled["cpunumber"], scaled["memory"]) == (2, 2048)
    routing = next(
        o
        for o in admin.listServiceOfferings(issystem="true")["serviceoffering"]
        if o.get("systemvmtype") == "domainrouter"
    )
    with pytest.raises(CloudStackApiException) as wrong:
        admin.changeServiceForSystemVm(id=proxy["id"], serviceofferingid=routing["id"])
    assert wrong.value.error["errorcode"] == 431
    assert admin.startSystemVm(id=proxy["id"], fetch_result=True)["systemvm"]["state"] == "Running"
    admin.destroySystemVm(id=proxy["id"], fetch_result=True)
    assert admin.listSystemVms(systemvmtype="consoleproxy", zoneid=zone) == {}


def test_system_vms_are_found_by_the_pool_their_root_disk_is_on(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _ = sim_sandbox
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    zone = layout.zones[0]
    pod = layout.pods[zone][0]
    pool = admin.createStoragePool(
        name=f"primary-{uuid.uuid4().hex[:4]}",
        zoneid=zone,
        podid=pod,
        clusterid=layout.clusters[pod],
        url="nfs://10.0.0.5/export/primary",
    )["storagepool"]
    register_template(admin, SYSTEM_TEMPLATE)
    made = admin.createSystemVm(
        zoneid=zone, systemvmtype="secondarystoragevm", hypervisor="Simulator", fetch_result=True
    )["systemvm"]
    on_pool = admin.listSystemVms(storageid=pool["id"])
    assert [v["id"] for v in on_pool["systemvm"]] == [made["id"]]
    # Started again on the same host, its root disk stays where it was.
    admin.stopSystemVm(id=made["id"], fetch_result=True)
    admin.startSystemVm(id=made["id"], fetch_result=True)
    assert admin.listSystemVms(storageid=pool["id"])["count"] == 1
    assert admin.listSystemVms(storageid=str(uuid.uuid4())) == {}
