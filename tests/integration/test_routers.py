"""Routers below the API, on SQLite and PostgreSQL: requests leave through the outbox routes, a
simulator answers them through the adapters' session code, and the results become events that
the read model shows. Upgrades, service monitoring and the refusal while upgrading included."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters import Credentials, HypervisorError
from adapters.sessions import HostSession, perform
from adapters.simulator.driver import SimulatedWorld, SimulatorDriver
from commands import hosts, routers, system_vms
from commands.offerings import seed_offerings
from commands.outbox import routes
from commands.placement import Candidate
from commands.results import result_handlers
from commands.router_checks import CheckTarget, RouterMonitor
from domain.errors import ResourceUnavailable
from domain.infrastructure import Cluster, Pod, Zone
from domain.job import Job, JobStatus
from domain.system_vm import State, SystemVm
from entrypoint.installation import open_runtime
from projections.routers import check_targets, upgrading_routers
from stratus.messages import WorkRequest, WorkResult, decode_request, encode, open_credentials
from stratus.runtime import Runtime
from stratus.settings import Settings

OLD, NEW = uuid4(), uuid4()


@dataclass
class Cloud:
    """A store with its read models, a simulated world, and a pump playing the adapters."""

    runtime: Runtime
    world: SimulatedWorld = field(default_factory=SimulatedWorld)
    position: int = 0
    sessions: dict[str, HostSession] = field(default_factory=dict)
    zone_id: UUID = field(default_factory=uuid4)  # replaced by the zone's when a host is added
    zoned: bool = False

    @property
    def store(self) -> Any:
        return self.runtime.store

    def pump(self, limit: int | None = None) -> int:
        """Answer requests recorded since the last pump (at most `limit`); returns how many."""
        table, handlers, answered = routes(self.store.box), result_handlers(), 0
        while limit is None or answered < limit:
            notifications = self.store.recorder.select_notifications(
                self.position, 1, inclusive_of_start=False
            )
            if not notifications:
                break
            notification = notifications[0]
            self.position = notification.id
            if notification.topic in table:
                event = self.store.mapper.to_domain_event(notification)
                result = self.act(table[notification.topic](event).payload)
                handlers[result.action](self.store, result)
                answered += 1
        self.runtime.runner.catch_up()
        return answered

    def act(self, payload: bytes) -> WorkResult:
        request = decode_request(payload)
        opened = open_credentials(self.store.box, request.sealed_credentials or "")
        host_id = request.params["host_id"]
        session = self.sessions.setdefault(
            host_id, HostSession(host_id, lambda: SimulatorDriver(self.world))
        )
        credentials = Credentials(opened["url"], opened["username"], opened["password"])
        fields = dict(
            request_id=request.request_id,
            hypervisor=request.hypervisor,
            action=request.action,
            target_id=request.target_id,
        )
        params = dict(request.params)
        if opened.get("secrets"):  # as the worker does: the action's own sealed secrets
            params["secrets"] = opened["secrets"]
        try:
            data = perform(session, request.action, params, credentials)
        except HypervisorError as error:
            return WorkResult(**fields, ok=False, error=str(error))
        return WorkResult(**fields, ok=True, data=data)

    def host(self, name: str) -> Candidate:
        if not self.zoned:
            zone = Zone("z", "Advanced", {}, "", None, "Enabled", False)
            self.store.save(zone)
            self.zone_id, self.zoned = zone.id, True
        pod = Pod("p", self.zone_id, "10.0.0.1", "255.255.255.0", "10.0.0.2", "10.0.0.9", "Enabled")
        cluster = Cluster("c", self.zone_id, pod.id, "Simulator", "CloudManaged", "Enabled")
        self.store.save(pod, cluster)
        url = f"simulator://{name}?cores=8&mhz=2000&memory_gb=8"
        added = hosts.add_host(
            self.store,
            hosts.AddHost(self.zone_id, pod.id, cluster.id, "Simulator", url, "root", "pw"),
        )
        self.pump()
        assert added.id is not None
        return Candidate(added.id, 8 * 2000, 8 * 1024)

    def ensure(self, candidates: list[Candidate], template: UUID = OLD, **more: Any) -> UUID:
        ensured = routers.ensure_network_router(
            self.store,
            routers.EnsureNetworkRouter(
                more.pop("network_id", uuid4()),
                self.zone_id,
                uuid4(),
                uuid4(),
                "Simulator",
                template,
                candidates,
                **more,
            ),
        )
        self.pump()
        return ensured.router_id

    def router(self, router_id: UUID) -> SystemVm:
        return self.store.get(SystemVm, router_id)

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self.runtime.db.read() as cursor:
            return [dict(r) for r in cursor.execute(sql, params).fetchall()]


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        seed_offerings(runtime.store)
        made = Cloud(runtime)
        made.world.appliances.set_release(str(OLD), "4.2.0")
        yield made
    finally:
        runtime.close()


def test_a_network_gets_one_router_running_with_the_version_it_reports(cloud: Cloud) -> None:
    host = cloud.host("h1")
    network = uuid4()
    first = cloud.ensure([host], network_id=network)
    again = routers.ensure_network_router(
        cloud.store,
        routers.EnsureNetworkRouter(
            network, cloud.zone_id, uuid4(), uuid4(), "Simulator", OLD, [host]
        ),
    )
    assert again.router_id == first and again.job_id is None and not again.created
    router = cloud.router(first)
    assert (router.state, router.release, router.host_id) == (State.RUNNING, "4.2.0", host.host_id)
    row = cloud.rows("SELECT * FROM system_vms WHERE id = %s", str(first))[0]
    assert (row["state"], row["version"], row["pod_id"]) == ("Running", "4.2.0", str(router.pod_id))
    assert cloud.rows("SELECT network_id FROM router_networks") == [{"network_id": str(network)}]


def test_stop_start_reboot_and_destroy_go_through_the_adapter(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    name = cloud.router(router_id).instance_name
    system_vms.stop_system_vm(cloud.store, router_id, None, forced=True)
    cloud.pump()
    assert cloud.router(router_id).state == State.STOPPED
    assert cloud.world.hosts["h1"].vms[name].state == "Stopped"
    system_vms.start_system_vm(cloud.store, router_id, [host], None)
    cloud.pump()
    system_vms.reboot_system_vm(cloud.store, router_id, None)
    cloud.pump()
    assert cloud.world.hosts["h1"].boots(name) == 3
    system_vms.destroy_system_vm(cloud.store, router_id, None)
    cloud.pump()
    assert cloud.router(router_id).state == State.DESTROYED
    assert name not in cloud.world.hosts["h1"].vms
    assert cloud.rows("SELECT removed FROM system_vms")[0]["removed"] == 1


def test_a_destroyed_routers_network_gets_a_new_router(cloud: Cloud) -> None:
    host = cloud.host("h1")
    network = uuid4()
    first = cloud.ensure([host], network_id=network)
    system_vms.destroy_system_vm(cloud.store, first, None)
    cloud.pump()
    second = cloud.ensure([host], network_id=network)
    assert second != first and cloud.router(second).state == State.RUNNING


def _upgrade(cloud: Cloud, router_ids: list[UUID], parallelism: int) -> list[UUID]:
    planned = routers.upgrade_routers(
        cloud.store,
        routers.UpgradeRouters(
            [routers.UpgradeTarget(r, NEW, "new") for r in router_ids],
            parallelism,
            uuid4(),
            uuid4(),
        ),
    )
    return planned.job_ids


def test_upgrades_run_at_most_parallelism_at_once_and_all_finish(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_ids = [cloud.ensure([host]) for _ in range(5)]
    job_ids = _upgrade(cloud, router_ids, 2)
    assert len(job_ids) == 5
    pending = [r for r in router_ids if cloud.router(r).pending == "upgrade"]
    assert len(pending) == 2
    while cloud.pump(limit=1):
        in_flight = [r for r in router_ids if cloud.router(r).pending == "upgrade"]
        assert len(in_flight) <= 2
    for router_id, job_id in zip(router_ids, job_ids, strict=True):
        router = cloud.router(router_id)
        assert (router.release, router.compute.template_id) == ("4.3.0", NEW)
        assert cloud.store.get(Job, job_id).status == JobStatus.SUCCEEDED
    assert {r["version"] for r in cloud.rows("SELECT version FROM system_vms")} == {"4.3.0"}


def test_a_failed_upgrade_keeps_the_old_template_raises_an_alert_and_can_be_retried(
    cloud: Cloud,
) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    cloud.world.fail_next("start_vm")  # the new image does not come up
    [job_id] = _upgrade(cloud, [router_id], 1)
    cloud.pump()
    router = cloud.router(router_id)
    assert (router.state, router.release, router.compute.template_id) == ("Running", "4.2.0", OLD)
    assert cloud.world.hosts["h1"].vms[router.instance_name].state == "Running"
    job = cloud.store.get(Job, job_id)
    assert job.status == JobStatus.FAILED and "old template" in job.result["message"]
    alerts = cloud.rows("SELECT type, description FROM alerts")
    assert [a["type"] for a in alerts] == [9] and router.name in alerts[0]["description"]
    errors = cloud.rows(
        "SELECT description FROM events WHERE type = 'ROUTER.UPGRADE' AND level = 'ERROR'"
    )
    assert len(errors) == 1 and router.name in errors[0]["description"]
    _upgrade(cloud, [router_id], 1)
    cloud.pump()
    assert cloud.router(router_id).release == "4.3.0"


def test_network_changes_are_refused_while_its_router_upgrades(cloud: Cloud) -> None:
    host = cloud.host("h1")
    network = uuid4()
    router_id = cloud.ensure([host], network_id=network)
    routers.refuse_if_upgrading(cloud.store, [network])  # nothing happens: not upgrading
    _upgrade(cloud, [router_id], 1)
    with pytest.raises(ResourceUnavailable, match="being upgraded"):
        routers.refuse_if_upgrading(cloud.store, [uuid4(), network], "deploy a VM")
    cloud.runtime.runner.catch_up()
    with cloud.runtime.db.read() as cursor:
        assert upgrading_routers(cursor, [str(network)]) == [cloud.router(router_id).name]
    cloud.pump()
    routers.refuse_if_upgrading(cloud.store, [network])


def _check(cloud: Cloud) -> list[WorkResult]:
    with cloud.runtime.db.read() as cursor:
        targets = [
            CheckTarget(r["id"], r["instance_name"], r["host_id"], r["services"], r["restart"])
            for r in check_targets(cursor)
        ]
    monitor = RouterMonitor(cloud.store, None, lambda: targets, lambda: 1.0)
    results = []
    for request in monitor.requests():
        result = cloud.act(encode(request))
        routers.on_router_check(cloud.store, result)
        results.append(result)
    cloud.runtime.runner.catch_up()
    return results


def test_a_killed_service_is_restarted_and_a_broken_one_alerts_once(cloud: Cloud) -> None:
    host = cloud.host("h1")
    router_id = cloud.ensure([host], network_services=("Dhcp", "Dns", "UserData"))
    name = cloud.router(router_id).instance_name
    cloud.world.appliances.kill(name, "dnsmasq")
    [result] = _check(cloud)
    assert result.data["services"] == {
        "apache2": "running",
        "dnsmasq": "restarted",
        "ssh": "running",
    }
    types = [r["type"] for r in cloud.rows("SELECT type FROM events ORDER BY position")]
    assert "ROUTER.SERVICE.RESTART" in types
    cloud.world.appliances.break_service(name, "dnsmasq")
    for _ in range(3):
        _check(cloud)
    alerts = cloud.rows("SELECT type, description FROM alerts")
    assert len(alerts) == 1 and alerts[0]["type"] == 9 and "dnsmasq" in alerts[0]["description"]
    failures = cloud.rows("SELECT description FROM events WHERE type = 'ROUTER.SERVICE.FAILURE'")
    assert len(failures) == 1 and name in failures[0]["description"]
    cloud.world.appliances.break_service(name, "dnsmasq", broken=False)
    _check(cloud)  # restarted: recovered
    cloud.world.appliances.break_service(name, "dnsmasq")
    _check(cloud)
    assert len(cloud.rows("SELECT id FROM alerts")) == 2  # a new failure is news again


def test_a_service_the_operator_excluded_is_not_restarted(cloud: Cloud) -> None:
    from commands.configuration import UpdateConfiguration, update_configuration

    host = cloud.host("h1")
    router_id = cloud.ensure([host])
    update_configuration(
        cloud.store, UpdateConfiguration("router.service.monitoring.norestart", "dnsmasq")
    )
    cloud.runtime.runner.catch_up()
    cloud.world.appliances.kill(cloud.router(router_id).instance_name, "dnsmasq")
    [result] = _check(cloud)
    assert result.data["services"]["dnsmasq"] == "failed"


def test_the_check_request_names_the_routers_daemons(cloud: Cloud) -> None:
    host = cloud.host("h1")
    cloud.ensure([host], network_services=("Dns", "Lb"))
    with cloud.runtime.db.read() as cursor:
        [target] = check_targets(cursor)
    assert target["services"] == ("dnsmasq", "haproxy", "ssh")
    request = WorkRequest("x", "simulator", "check_router", target["id"])
    assert request.subject() == "stratus.work.simulator.check_router"


def test_a_request_nobody_answers_is_given_up_when_its_job_fails(cloud: Cloud) -> None:
    from commands.jobs import fail_job
    from projections.routers import abandoned

    host = cloud.host("h1")
    ensured = routers.ensure_network_router(
        cloud.store,
        routers.EnsureNetworkRouter(
            uuid4(), cloud.zone_id, uuid4(), uuid4(), "Simulator", OLD, [host]
        ),
    )
    assert ensured.job_id is not None
    assert cloud.router(ensured.router_id).state == State.STARTING  # no adapter answers
    fail_job(cloud.store, ensured.job_id, ResourceUnavailable("no adapter answered"))
    cloud.runtime.runner.catch_up()
    with cloud.runtime.db.read() as cursor:
        assert abandoned(cursor) == [str(ensured.router_id)]
    monitor = RouterMonitor(
        cloud.store, None, list, lambda: 1.0, abandoned=lambda: [str(ensured.router_id)]
    )
    assert monitor.give_up_abandoned() == 1
    router = cloud.router(ensured.router_id)
    assert (router.state, router.pending, router.reservation) == (State.ERROR, None, None)
    assert monitor.give_up_abandoned() == 0  # nothing left to give up


def test_the_read_model_rebuilt_from_event_zero_equals_the_live_one(cloud: Cloud) -> None:
    from projections.routers import SystemVmsProjection
    from stratus.rebuild import rebuild

    host = cloud.host("h1")
    router_ids = [cloud.ensure([host]) for _ in range(3)]
    _upgrade(cloud, router_ids[:2], 1)
    cloud.pump()
    system_vms.stop_system_vm(cloud.store, router_ids[2], None, forced=True)
    cloud.pump()
    query = "SELECT * FROM system_vms ORDER BY seq"
    before = cloud.rows(query), cloud.rows("SELECT * FROM router_networks ORDER BY router_id")
    rebuild(SystemVmsProjection(), cloud.runtime.source, cloud.runtime.db, batch_size=7)
    after = cloud.rows(query), cloud.rows("SELECT * FROM router_networks ORDER BY router_id")
    assert after == before
    assert [r["version"] for r in after[0]] == ["4.3.0", "4.3.0", "4.2.0"]


def test_a_zone_with_monitoring_off_is_not_checked(cloud: Cloud) -> None:
    from commands.configuration import UpdateConfiguration, update_configuration

    host = cloud.host("h1")
    cloud.ensure([host])
    update_configuration(
        cloud.store,
        UpdateConfiguration(
            "network.router.EnableServiceMonitoring", "false", "zone", cloud.zone_id
        ),
    )
    cloud.runtime.runner.catch_up()
    assert _check(cloud) == []
