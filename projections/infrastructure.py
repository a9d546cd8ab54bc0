"""Infrastructure read models: zones, pods, clusters and hosts (listHosts), and alerts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from domain.alert import Alert
from domain.host import Host
from domain.infrastructure import DNS_FIELDS, ZONE_NETWORK_FIELDS, Cluster, Container, Pod, Zone
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

# Domain field → column, per table, for the shared Updated event of zones, pods and clusters.
_COLUMNS = {
    "Zone": (
        "zones",
        {
            "name": "name",
            "allocation_state": "allocation_state",
            "guest_cidr": "guest_cidr",
            "local_storage": "local_storage",
            "domain_id": "domain_id",
            "details": "details",
            **{field: field for field in (*DNS_FIELDS, *ZONE_NETWORK_FIELDS)},
        },
    ),
    "Pod": (
        "pods",
        {
            "name": "name",
            "allocation_state": "allocation_state",
            "gateway": "gateway",
            "netmask": "netmask",
            "start_ip": "start_ip",
            "end_ip": "end_ip",
        },
    ),
    "Cluster": (
        "clusters",
        {"name": "name", "allocation_state": "allocation_state", "managed_state": "managed_state"},
    ),
}
_HOST_COLUMNS = {
    "name": "name",
    "resource_state": "resource_state",
    "os_category_id": "os_category_id",
}


def _iso(event: Any) -> str:
    return event.timestamp.isoformat()


class InfrastructureProjection(Projection):
    """Keeps `zones`, `pods`, `clusters` and `hosts`."""

    name = "infrastructure"
    summary = "zones, pods, clusters and hosts"
    tables = ("zones", "pods", "clusters", "hosts", "host_reservation_releases")

    @on(Zone.Created)
    def zone_created(self, e: Any, c: Cursor, t: Tables) -> None:
        dns = e.dns
        c.execute(
            f"INSERT INTO {t.zones} (id, name, network_type, dns1, dns2, internal_dns1, "
            "internal_dns2, guest_cidr, domain_id, allocation_state, local_storage, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                e.network_type,
                dns.get("dns1", ""),
                dns.get("dns2", ""),
                dns.get("internal_dns1", ""),
                dns.get("internal_dns2", ""),
                e.guest_cidr,
                str(e.domain_id) if e.domain_id else None,
                e.allocation_state,
                int(e.local_storage),
                _iso(e),
            ),
        )

    @on(Pod.Created)
    def pod_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.pods} (id, name, zone_id, gateway, netmask, start_ip, end_ip, "
            "allocation_state, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                str(e.zone_id),
                e.gateway,
                e.netmask,
                e.start_ip,
                e.end_ip,
                e.allocation_state,
                _iso(e),
            ),
        )

    @on(Cluster.Created)
    def cluster_created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.clusters} (id, name, zone_id, pod_id, hypervisor, cluster_type, "
            "allocation_state, managed_state, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'Managed', %s)",
            (
                str(e.originator_id),
                e.name,
                str(e.zone_id),
                str(e.pod_id),
                e.hypervisor,
                e.cluster_type,
                e.allocation_state,
                _iso(e),
            ),
        )

    @on(Container.Updated)
    def container_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        table, columns = _COLUMNS[e.kind]
        changes = dict(e.changes)
        changes.update(changes.pop("dns", {}))  # a zone's DNS servers, one column each
        for field, value in changes.items():
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, dict):  # a zone's details
                value = orjson.dumps(value).decode()
            elif isinstance(value, UUID):
                value = str(value)
            if field in columns:
                c.execute(
                    f"UPDATE {getattr(t, table)} SET {columns[field]} = %s WHERE id = %s",
                    (value, str(e.originator_id)),
                )

    @on(Container.Removed)
    def container_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        table = getattr(t, _COLUMNS[e.kind][0])
        c.execute(f"UPDATE {table} SET removed = 1 WHERE id = %s", (str(e.originator_id),))

    @on(Host.Added)
    def host_added(self, e: Any, c: Cursor, t: Tables) -> None:
        state = "Up" if e.hypervisor == "BareMetal" else "Connecting"
        c.execute(
            f"INSERT INTO {t.hosts} (id, name, zone_id, pod_id, cluster_id, hypervisor, url, "
            "state, resource_state, host_tags, last_state_change, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.name,
                str(e.zone_id),
                str(e.pod_id),
                str(e.cluster_id),
                e.hypervisor,
                _public_url(e.url),
                state,
                e.allocation_state,
                ",".join(e.host_tags),
                _iso(e),
                _iso(e),
            ),
        )

    def _state(self, c: Cursor, t: Tables, e: Any, state: str, reason: str = "") -> None:
        c.execute(
            f"UPDATE {t.hosts} SET {_HOST_CHANGED}state = %s, state_reason = %s, "
            "last_state_change = %s, "
            "disconnected = CASE WHEN %s IN ('Disconnected', 'Down') THEN %s "
            "ELSE disconnected END WHERE id = %s",
            (state, reason, _iso(e), state, _iso(e), str(e.originator_id)),
        )

    @on(Host.ConnectRequested)
    def host_connecting(self, e: Any, c: Cursor, t: Tables) -> None:
        if not e.probe:
            self._state(c, t, e, "Connecting")

    @on(Host.Connected)
    def host_connected(self, e: Any, c: Cursor, t: Tables) -> None:
        self._inventory(c, t, e)
        self._state(c, t, e, "Up")

    @on(Host.Described)
    def host_described(self, e: Any, c: Cursor, t: Tables) -> None:
        self._inventory(c, t, e)

    def _inventory(self, c: Cursor, t: Tables, e: Any) -> None:
        inv = e.inventory
        c.execute(
            f"UPDATE {t.hosts} SET {_HOST_CHANGED}hypervisor_version = %s, cpu_sockets = %s, "
            "cpu_number = %s, cpu_speed = %s, memory_total = %s, local_storage_total = %s, "
            "capabilities = %s WHERE id = %s",
            (
                inv.get("hypervisor_version", ""),
                inv.get("cpu_sockets", 0),
                inv.get("cpu_cores", 0),
                inv.get("cpu_speed_mhz", 0),
                inv.get("memory_bytes", 0),
                inv.get("local_storage_bytes", 0),
                ",".join(inv.get("capabilities", ())),
                str(e.originator_id),
            ),
        )

    @on(Host.ReservationReleased)
    def host_reservation_released(self, e: Any, c: Cursor, t: Tables) -> None:
        for machine_id in e.machine_ids:
            c.execute(
                f"INSERT INTO {t.host_reservation_releases} (host_id, machine_id) "
                "VALUES (%s, %s) ON CONFLICT (host_id, machine_id) DO NOTHING",
                (str(e.originator_id), machine_id),
            )

    @on(Host.ConnectionFailed)
    def host_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, "Alert", e.reason)

    @on(Host.Disconnected)
    def host_disconnected(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, "Disconnected", "missed heartbeats")

    @on(Host.WentDown)
    def host_down(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, "Down", "missed heartbeats")

    @on(Host.Reconnected)
    def host_back(self, e: Any, c: Cursor, t: Tables) -> None:
        self._state(c, t, e, "Up")

    @on(Host.Updated)
    def host_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        for field, value in e.changes.items():
            if field == "host_tags":
                c.execute(
                    f"UPDATE {t.hosts} SET {_HOST_CHANGED}host_tags = %s WHERE id = %s",
                    (",".join(value), str(e.originator_id)),
                )
            elif field in _HOST_COLUMNS:
                c.execute(
                    f"UPDATE {t.hosts} SET {_HOST_CHANGED}{_HOST_COLUMNS[field]} = %s "
                    "WHERE id = %s",
                    (str(value) if isinstance(value, UUID) else value, str(e.originator_id)),
                )

    def _resource(self, c: Cursor, t: Tables, e: Any, state: str) -> None:
        c.execute(
            f"UPDATE {t.hosts} SET {_HOST_CHANGED}resource_state = %s WHERE id = %s",
            (state, str(e.originator_id)),
        )

    @on(Host.MaintenanceRequested)
    def host_preparing(self, e: Any, c: Cursor, t: Tables) -> None:
        self._resource(c, t, e, "PrepareForMaintenance")

    @on(Host.MaintenanceEntered)
    def host_maintenance(self, e: Any, c: Cursor, t: Tables) -> None:
        self._resource(c, t, e, "Maintenance")

    @on(Host.MaintenanceFailed)
    def host_maintenance_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._resource(c, t, e, "ErrorInMaintenance")

    @on(Host.MaintenanceCancelled)
    def host_enabled(self, e: Any, c: Cursor, t: Tables) -> None:
        self._resource(c, t, e, "Enabled")

    @on(Host.Removed)
    def host_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.hosts} SET {_HOST_CHANGED}removed = 1 WHERE id = %s",
            (str(e.originator_id),),
        )


# Every change of a host's row ends the revision its listed JSON was rendered for.
_HOST_CHANGED = "listed = NULL, revision = revision + 1, "


def _public_url(url: str) -> str:
    """A host URL without any user or password that an operator may have put in it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


class AlertsProjection(Projection):
    """Keeps `alerts`."""

    name = "alerts"
    summary = "alerts"
    tables = ("alerts",)

    @on(Alert.Raised)
    def raised(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.alerts} (id, type, name, description, zone_id, pod_id, "
            "resource_id, sent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.type_code,
                e.name,
                e.description,
                _text(e.zone_id),
                _text(e.pod_id),
                _text(e.resource_id),
                _iso(e),
            ),
        )

    @on(Alert.Archived)
    def archived(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.alerts} SET archived = 1 WHERE id = %s", (str(e.originator_id),))

    @on(Alert.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.alerts} SET deleted = 1 WHERE id = %s", (str(e.originator_id),))


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def watched_hosts(cursor: Cursor) -> list[tuple[str, str]]:
    """(id, state) of the hosts whose heartbeats are watched."""
    rows = cursor.execute(
        "SELECT id, state FROM hosts WHERE removed = 0 AND hypervisor <> 'BareMetal' "
        "AND state IN ('Up', 'Disconnected')"
    ).fetchall()
    return [(r["id"], r["state"]) for r in rows]


def host_capacity(
    cursor: Cursor, zone_id: str | None, pod_id: str | None, cluster_id: str | None
) -> list[Any]:
    """Per zone and cluster, what the Up hosts in a scope offer (memory bytes, CPU MHz, local
    storage bytes) and what reservations hold on them (memory MiB, CPU MHz): listCapacity's
    figures, before the clusters' over-provisioning factors."""
    where, params = ["h.removed = 0", "h.state = 'Up'"], []
    for value, column in ((zone_id, "zone_id"), (pod_id, "pod_id"), (cluster_id, "cluster_id")):
        if value:
            where.append(f"h.{column} = %s")
            params.append(value)
    return cursor.execute(
        "SELECT h.zone_id, h.cluster_id, sum(h.memory_total) AS memory, "
        "sum(h.cpu_number * h.cpu_speed) AS cpu, sum(h.local_storage_total) AS storage, "
        "sum(coalesce(r.cpu, 0)) AS cpu_held, sum(coalesce(r.memory, 0)) AS memory_held "
        "FROM hosts h LEFT JOIN ("
        "SELECT host_id, sum(cpu_mhz) AS cpu, sum(memory_mb) AS memory FROM host_reservations "
        "GROUP BY host_id) r ON r.host_id = h.id WHERE "
        + " AND ".join(where)
        + " GROUP BY h.zone_id, h.cluster_id ORDER BY h.zone_id, h.cluster_id",
        params,
    ).fetchall()


READ_MODELS = (AlertsProjection, InfrastructureProjection)
