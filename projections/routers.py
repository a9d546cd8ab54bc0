"""The system VMs read model (listRouters, listSystemVms): routers, secondary storage VMs and
console proxies in one table told apart by `role`, and the networks each router serves.

Service monitoring's restarts, failures and recoveries also appear in listEvents: they are
registered with the events view's table of direct entries below.
"""

from __future__ import annotations

from typing import Any

from domain.router import version_key
from domain.system_vm import Role, State, SystemVm
from projections.events import DIRECT
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

VM: Any = SystemVm  # events made by the library's decorator: type checkers cannot see them

DIRECT[VM.ServiceRestarted] = (
    "ROUTER.SERVICE.RESTART",
    "Service {service} of router {router_name} was found stopped and was restarted",
)
DIRECT[VM.ServiceFailed] = (
    "ROUTER.SERVICE.FAILURE",
    "Service {service} of router {router_name} is down and could not be restarted",
)
DIRECT[VM.ServiceRecovered] = (
    "ROUTER.SERVICE.RECOVER",
    "Service {service} of router {router_name} is running again",
)


def _id(e: Any) -> str:
    return str(e.originator_id)


# Every change of a system VM's row ends the revision its listed JSON was rendered for.
_CHANGED = "listed = NULL, revision = revision + 1, "


def _job(e: Any) -> str | None:
    return str(e.job_id) if e.job_id else None


class SystemVmsProjection(Projection):
    """Keeps `system_vms` and `router_networks`."""

    name = "system_vms"
    summary = "routers and other system VMs"
    tables = ("system_vms", "router_networks")

    @on(VM.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        compute = e.compute
        c.execute(
            f"INSERT INTO {t.system_vms} (id, role, name, instance_name, account_id, domain_id, "
            "zone_id, vpc_id, state, template_id, service_offering_id, hypervisor, cpu_number, "
            "cpu_speed, memory, services, guest_network_id, created, seq) VALUES (%s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"(SELECT COALESCE(max(seq), 0) + 1 FROM {t.system_vms}))",
            (
                _id(e),
                e.role,
                getattr(e, "display_name", "") or e.instance_name,  # events before it: none
                e.instance_name,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                str(e.zone_id),
                str(e.vpc_id) if e.vpc_id else None,
                State.STOPPED,
                str(compute["template_id"]),
                str(compute["offering_id"]),
                compute["hypervisor"],
                compute["cpu_number"],
                compute["cpu_speed"],
                compute["memory"],
                ",".join(e.services),
                str(e.network_ids[0]) if e.network_ids else None,
                e.timestamp.isoformat(),
            ),
        )
        if e.role == Role.ROUTER:  # a service instance's networks do not make it their router
            c.executemany(
                f"INSERT INTO {t.router_networks} (router_id, network_id) VALUES (%s, %s)",
                [(_id(e), str(network_id)) for network_id in e.network_ids],
            )

    def _set(self, c: Cursor, t: Tables, e: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        c.execute(
            f"UPDATE {t.system_vms} SET {_CHANGED}{assignments} WHERE id = %s",
            (*columns.values(), _id(e)),
        )

    @on(VM.StartRequested)
    def start_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(
            c,
            t,
            e,
            state=State.STARTING,
            host_id=str(e.host_id),
            pod_id=str(e.pod_id) if e.pod_id else None,
            cluster_id=str(e.cluster_id) if e.cluster_id else None,
            pending_job_id=_job(e),
        )

    @on(VM.RootDiskPlaced)
    def root_placed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, root_pool_id=str(e.pool_id) if e.pool_id else None)

    @on(VM.StopRequested, VM.DestroyRequested)
    def stopping(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=State.STOPPING, pending_job_id=_job(e))

    @on(VM.RebootRequested, VM.UpgradeRequested, VM.ScaleRequested, VM.MigrateRequested)
    def busy(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, pending_job_id=_job(e))

    @on(VM.Migrated)
    def migrated(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(
            c,
            t,
            e,
            host_id=str(e.host_id),
            last_host_id=str(e.host_id),
            pod_id=str(e.pod_id) if e.pod_id else None,
            cluster_id=str(e.cluster_id) if e.cluster_id else None,
            pending_job_id=None,
            state_reason="",
        )

    @on(VM.Started, VM.Rebooted)
    def running(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(
            c,
            t,
            e,
            state=State.RUNNING,
            pending_job_id=None,
            state_reason="",
            failed_services="",
            **_release(e),
        )

    @on(VM.Upgraded)
    def upgraded(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(
            c,
            t,
            e,
            state=State.RUNNING,
            pending_job_id=None,
            upgrading=0,
            failed_services="",
            template_id=str(e.compute["template_id"]),
            **_release(e),
        )

    @on(VM.ReleaseReported)
    def release_reported(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, **_release(e))

    @on(VM.Stopped)
    def stopped(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, State.STOPPED)

    @on(VM.StartFailed)
    def start_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, e.state, e.reason)

    @on(VM.Destroyed)
    def destroyed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._off_host(c, t, e, State.DESTROYED)
        self._set(c, t, e, removed=1, upgrading=0)

    def _off_host(self, c: Cursor, t: Tables, e: Any, state: str, reason: str = "") -> None:
        c.execute(
            f"UPDATE {t.system_vms} SET {_CHANGED}state = %s, state_reason = %s, "
            "pending_job_id = NULL, last_host_id = COALESCE(host_id, last_host_id), "
            "host_id = NULL WHERE id = %s",
            (state, reason, _id(e)),
        )

    @on(VM.RequestFailed)
    def request_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        extra = {"upgrading": 0} if e.action == "upgrade" else {}
        self._set(c, t, e, state=e.state, pending_job_id=None, state_reason=e.reason, **extra)

    @on(VM.PlacementFailed)
    def placement_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state=e.state, state_reason=e.reason)

    @on(VM.ComputeChanged)
    def compute_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        compute = e.compute
        self._set(
            c,
            t,
            e,
            service_offering_id=str(compute["offering_id"]),
            template_id=str(compute["template_id"]),
            cpu_number=compute["cpu_number"],
            cpu_speed=compute["cpu_speed"],
            memory=compute["memory"],
        )

    @on(VM.Scaled)
    def scaled(self, e: Any, c: Cursor, t: Tables) -> None:
        self.compute_changed(e, c, t)
        self._set(c, t, e, state=State.RUNNING, pending_job_id=None, state_reason="")

    @on(VM.UpgradeScheduled)
    def upgrade_scheduled(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, upgrading=1)

    @on(VM.UpgradeAbandoned)
    def upgrade_abandoned(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, upgrading=0)

    @on(VM.ServiceFailed)
    def service_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._failed_services(c, t, e, lambda failed: failed | {e.service})

    @on(VM.ServiceRecovered)
    def service_recovered(self, e: Any, c: Cursor, t: Tables) -> None:
        self._failed_services(c, t, e, lambda failed: failed - {e.service})

    def _failed_services(self, c: Cursor, t: Tables, e: Any, change: Any) -> None:
        row = c.execute(
            f"SELECT failed_services FROM {t.system_vms} WHERE id = %s", (_id(e),)
        ).fetchone()
        failed = set(filter(None, (row["failed_services"] if row else "").split(",")))
        self._set(c, t, e, failed_services=",".join(sorted(change(failed))))


def _release(e: Any) -> dict[str, Any]:
    return {"version": e.release, "version_key": version_key(e.release)}


def upgrading_routers(cursor: Cursor, network_ids: list[str]) -> list[str]:
    """Names of the routers of these networks that are being upgraded (or wait to be)."""
    if not network_ids:
        return []
    marks = ", ".join(["%s"] * len(network_ids))
    rows = cursor.execute(
        "SELECT DISTINCT r.name FROM system_vms AS r JOIN router_networks AS n "
        f"ON n.router_id = r.id WHERE r.upgrading = 1 AND n.network_id IN ({marks}) "
        "ORDER BY r.name",
        network_ids,
    ).fetchall()
    return [row["name"] for row in rows]


def running_routers(cursor: Cursor) -> list[dict[str, Any]]:
    """Running routers that are not busy, with what service monitoring needs of them."""
    rows = cursor.execute(
        "SELECT id, instance_name, zone_id, host_id, hypervisor, services FROM system_vms "
        "WHERE role = 'VIRTUAL_ROUTER' AND removed = 0 AND state = 'Running' "
        "AND pending_job_id IS NULL AND host_id IS NOT NULL ORDER BY seq"
    ).fetchall()
    return [dict(row) for row in rows]


def check_targets(cursor: Cursor) -> list[dict[str, Any]]:
    """Running routers to monitor, with the daemons each watches and may restart, as the
    zone's `network.router.EnableServiceMonitoring` and `router.service.monitoring.norestart`
    say (a zone with monitoring off is left out)."""
    settings: dict[tuple[str, str], str] = {}
    for row in cursor.execute(
        "SELECT name, scope, scope_id, value FROM configuration_values WHERE name IN (%s, %s)",
        (_ENABLED, _NO_RESTART),
    ).fetchall():
        settings[(row["name"], row["scope_id"] if row["scope"] == "zone" else "")] = row["value"]
    targets = []
    for router in running_routers(cursor):
        zone = router["zone_id"]
        if _setting(settings, _ENABLED, zone) != "true":
            continue
        services = tuple(filter(None, router["services"].split(",")))
        kept = {s.strip() for s in _setting(settings, _NO_RESTART, zone).split(",")}
        targets.append(
            {**router, "services": services, "restart": tuple(s for s in services if s not in kept)}
        )
    return targets


_ENABLED = "network.router.EnableServiceMonitoring"
_NO_RESTART = "router.service.monitoring.norestart"


def _setting(settings: dict[tuple[str, str], str], name: str, zone_id: str) -> str:
    from domain.configuration import DEFINITIONS

    return settings.get((name, zone_id), settings.get((name, ""), DEFINITIONS[name].default))


def abandoned(cursor: Cursor) -> list[str]:
    """System VMs still waiting on a request whose job has ended (failed by the stuck-job
    sweeper, say): their request must be given up."""
    rows = cursor.execute(
        "SELECT r.id FROM system_vms AS r JOIN jobs AS j ON j.id = r.pending_job_id "
        "WHERE r.pending_job_id IS NOT NULL AND j.status <> 0"
    ).fetchall()
    return [row["id"] for row in rows]


READ_MODELS = (SystemVmsProjection,)
