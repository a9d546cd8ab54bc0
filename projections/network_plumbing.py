"""The read models of what physical networks carry (listTrafficTypes,
listNetworkServiceProviders, listVirtualRouterElements): traffic types with their hypervisor
labels, service providers and the router elements of those providers; and pods' storage
network ranges (listStorageNetworkIpRange)."""

from __future__ import annotations

from typing import Any

import orjson

from domain.network_physical import PhysicalNetwork, default_elements, default_providers
from domain.network_storage import StorageIpRanges
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

# Events made by the library's decorator: type checkers cannot see them.
PHYSICAL: Any = PhysicalNetwork
RANGES: Any = StorageIpRanges

_LABEL_COLUMNS = {"kvm": "kvm_label", "xen": "xen_label", "vmware": "vmware_label"}
_LABEL_COLUMNS["hyperv"] = "hyperv_label"


def _insert_provider(
    c: Cursor, t: Tables, e: Any, provider: dict[str, Any], ordinal: int = 0
) -> None:
    c.execute(
        f"INSERT INTO {t.network_service_providers} (id, physical_network_id, name, state, "
        "services, created, ordinal) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            provider["id"],
            str(e.originator_id),
            provider["name"],
            provider["state"],
            ",".join(provider["services"]),
            e.timestamp.isoformat(),
            ordinal,
        ),
    )


def _insert_element(c: Cursor, t: Tables, e: Any, element: dict[str, Any], ordinal: int) -> None:
    c.execute(
        f"INSERT INTO {t.virtual_router_elements} (id, physical_network_id, provider_id, "
        "enabled, created, ordinal) VALUES (%s, %s, %s, %s, %s, %s)",
        (
            element["id"],
            str(e.originator_id),
            element["provider_id"],
            int(element["enabled"]),
            e.timestamp.isoformat(),
            ordinal,
        ),
    )


class NetworkPlumbingProjection(Projection):
    """Keeps `physical_network_traffic_types`, `network_service_providers` and
    `virtual_router_elements`."""

    name = "network_plumbing"
    summary = "traffic types, network service providers and router elements"
    tables = (
        "physical_network_traffic_types",
        "network_service_providers",
        "virtual_router_elements",
    )

    @on(PHYSICAL.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        providers = getattr(e, "providers", None)
        elements = getattr(e, "elements", None)
        if providers is None:  # recorded before providers were kept: they were working
            providers = default_providers(e.originator_id, "Enabled")
            elements = default_elements(e.originator_id, True)
        for ordinal, provider in enumerate(providers):
            _insert_provider(c, t, e, provider, ordinal)
        for ordinal, element in enumerate(elements or ()):
            _insert_element(c, t, e, element, ordinal)

    @on(PHYSICAL.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        for table in self.tables:
            c.execute(
                f"DELETE FROM {getattr(t, table)} WHERE physical_network_id = %s",
                (str(e.originator_id),),
            )

    @on(PHYSICAL.TrafficTypeAdded)
    def traffic_added(self, e: Any, c: Cursor, t: Tables) -> None:
        labels = {column: e.labels.get(key) for key, column in _LABEL_COLUMNS.items()}
        c.execute(
            f"INSERT INTO {t.physical_network_traffic_types} (id, physical_network_id, "
            "traffic_type, kvm_label, xen_label, vmware_label, hyperv_label, vlan, isolation, "
            "created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.traffic_type_id,
                str(e.originator_id),
                e.traffic_type,
                *labels.values(),
                e.vlan,
                e.isolation,
                e.timestamp.isoformat(),
            ),
        )

    @on(PHYSICAL.TrafficTypeUpdated)
    def traffic_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        for key, value in e.labels.items():
            c.execute(
                f"UPDATE {t.physical_network_traffic_types} SET {_LABEL_COLUMNS[key]} = %s "
                "WHERE id = %s",
                (value, e.traffic_type_id),
            )

    @on(PHYSICAL.TrafficTypeDeleted)
    def traffic_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.physical_network_traffic_types} WHERE id = %s", (e.traffic_type_id,)
        )

    @on(PHYSICAL.ProviderAdded)
    def provider_added(self, e: Any, c: Cursor, t: Tables) -> None:
        provider = {"id": e.provider_id, "name": e.name, "state": "Disabled"}
        _insert_provider(c, t, e, {**provider, "services": e.services})

    @on(PHYSICAL.ProviderUpdated)
    def provider_updated(self, e: Any, c: Cursor, t: Tables) -> None:
        if "state" in e.changes:
            c.execute(
                f"UPDATE {t.network_service_providers} SET state = %s WHERE id = %s",
                (e.changes["state"], e.provider_id),
            )
        if "services" in e.changes:
            c.execute(
                f"UPDATE {t.network_service_providers} SET services = %s WHERE id = %s",
                (",".join(e.changes["services"]), e.provider_id),
            )

    @on(PHYSICAL.ProviderDeleted)
    def provider_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.network_service_providers} WHERE id = %s", (e.provider_id,))
        c.execute(
            f"DELETE FROM {t.virtual_router_elements} WHERE provider_id = %s", (e.provider_id,)
        )

    @on(PHYSICAL.RouterElementCreated)
    def element_created(self, e: Any, c: Cursor, t: Tables) -> None:
        element = {"id": e.element_id, "provider_id": e.provider_id, "enabled": False}
        _insert_element(c, t, e, element, 0)

    @on(PHYSICAL.RouterElementConfigured)
    def element_configured(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.virtual_router_elements} SET enabled = %s WHERE id = %s",
            (int(e.enabled), e.element_id),
        )


def traffic_labels(cursor: Cursor, zone_id: str, traffic_type: str) -> dict[str, str]:
    """Each hypervisor's label for a kind of traffic in a zone (its first physical network
    carrying it), e.g. {"kvm": "cloudbr1"}: how an adapter finds the bridge or port group."""
    row = cursor.execute(
        "SELECT t.* FROM physical_network_traffic_types t JOIN physical_networks p "
        "ON p.id = t.physical_network_id WHERE p.zone_id = %s AND p.removed = 0 "
        "AND t.traffic_type = %s ORDER BY p.created, p.id LIMIT 1",
        (zone_id, traffic_type),
    ).fetchone()
    if row is None:
        return {}
    return {key: row[column] for key, column in _LABEL_COLUMNS.items() if row[column]}


def providers_not_enabled(cursor: Cursor, network_id: str) -> list[tuple[str, str, str]]:
    """(provider, service, physical network name) for each provider the network's offering
    needs that is not Enabled on its physical network; empty for a network without one."""
    row = cursor.execute(
        "SELECT n.physical_network_id, o.services, p.name FROM networks n "
        "JOIN network_offerings o ON o.id = n.offering_id "
        "JOIN physical_networks p ON p.id = n.physical_network_id WHERE n.id = %s",
        (network_id,),
    ).fetchone()
    if row is None:
        return []
    states = {
        r["name"]: r["state"]
        for r in cursor.execute(
            "SELECT name, state FROM network_service_providers WHERE physical_network_id = %s",
            (row["physical_network_id"],),
        ).fetchall()
    }
    services = orjson.loads(row["services"] or "{}")
    return [
        (provider, service, row["name"])
        for service, providers in sorted(services.items())
        for provider in providers
        if states.get(provider) != "Enabled"
    ]


class StorageIpRangesProjection(Projection):
    """Keeps `storage_ip_ranges`."""

    name = "storage_ip_ranges"
    summary = "pods' storage network IP ranges"
    tables = ("storage_ip_ranges",)

    @on(RANGES.RangeAdded)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        c.execute(
            f"INSERT INTO {t.storage_ip_ranges} (id, pod_id, zone_id, start_ip, end_ip, gateway, "
            "netmask, vlan, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                e.range_id,
                str(e.pod_id),
                str(e.zone_id),
                terms["start_ip"],
                terms["end_ip"],
                terms["gateway"],
                terms["netmask"],
                terms["vlan"],
                e.timestamp.isoformat(),
            ),
        )

    @on(RANGES.RangeUpdated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        c.execute(
            f"UPDATE {t.storage_ip_ranges} SET start_ip = %s, end_ip = %s, netmask = %s, "
            "vlan = %s WHERE id = %s",
            (terms["start_ip"], terms["end_ip"], terms["netmask"], terms["vlan"], e.range_id),
        )

    @on(RANGES.RangeDeleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"DELETE FROM {t.storage_ip_ranges} WHERE id = %s", (e.range_id,))


READ_MODELS = (NetworkPlumbingProjection, StorageIpRangesProjection)
