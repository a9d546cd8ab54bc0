"""Offering read models: compute offerings (`service_offerings`) and `disk_offerings`."""

from __future__ import annotations

from typing import Any

import orjson

from domain.offering import DiskOffering, Offering, ServiceOffering
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

_TABLES = {"ServiceOffering": "service_offerings", "DiskOffering": "disk_offerings"}
_UPDATABLE = {
    "name": "name",
    "display_text": "display_text",
    "sort_key": "sort_key",
    "display_offering": "display_offering",
}


def _json(value: Any) -> str:
    return orjson.dumps(value or {}).decode()


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


class OfferingsProjection(Projection):
    """Keeps `service_offerings` and `disk_offerings`."""

    name = "offerings"
    summary = "service and disk offerings"
    tables = ("service_offerings", "disk_offerings")

    @on(ServiceOffering.Created)
    def service_created(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        custom = terms["cpu_number"] is None
        c.execute(
            f"INSERT INTO {t.service_offerings} (id, name, display_text, cpu_number, cpu_speed, "
            "memory, custom, storage_type, offer_ha, limit_cpu_use, is_volatile, tags, "
            "host_tags, system_vm_type, is_system, network_rate, deployment_planner, io_limits, "
            "details, default_use, sort_key, domain_id, domain_path, created) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s)",
            (
                str(e.originator_id),
                terms["name"],
                terms["display_text"],
                terms["cpu_number"],
                terms["cpu_speed"],
                terms["memory"],
                int(custom),
                terms["storage_type"],
                int(terms["offer_ha"]),
                int(terms["limit_cpu_use"]),
                int(terms["is_volatile"]),
                terms["tags"],
                terms["host_tags"],
                terms["system_vm_type"],
                int(terms["system_vm_type"] is not None),
                terms["network_rate"],
                terms["deployment_planner"],
                _json(terms["io_limits"]),
                _json(terms["details"]),
                int(terms["default_use"]),
                terms["sort_key"],
                _text(e.domain_id),
                e.domain_path,
                e.timestamp.isoformat(),
            ),
        )
        self._set_iops(e, c, t.service_offerings)

    @on(DiskOffering.Created)
    def disk_created(self, e: Any, c: Cursor, t: Tables) -> None:
        terms = e.terms
        c.execute(
            f"INSERT INTO {t.disk_offerings} (id, name, display_text, disk_size, customized, "
            "storage_type, tags, io_limits, display_offering, sort_key, domain_id, domain_path, "
            "created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                terms["name"],
                terms["display_text"],
                terms["disk_size"],
                int(terms["customized"]),
                terms["storage_type"],
                terms["tags"],
                _json(terms["io_limits"]),
                int(terms["display_offering"]),
                terms["sort_key"],
                _text(e.domain_id),
                e.domain_path,
                e.timestamp.isoformat(),
            ),
        )
        self._set_iops(e, c, t.disk_offerings)

    @staticmethod
    def _set_iops(e: Any, c: Cursor, table: str) -> None:
        """An offering's storage QoS terms (none in events from before storage QoS)."""
        terms = e.terms
        c.execute(
            f"UPDATE {table} SET customized_iops = %s, min_iops = %s, max_iops = %s, "
            "hypervisor_snapshot_reserve = %s WHERE id = %s",
            (
                int(bool(terms.get("customized_iops"))),
                terms.get("min_iops"),
                terms.get("max_iops"),
                terms.get("hypervisor_snapshot_reserve"),
                str(e.originator_id),
            ),
        )

    @on(Offering.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        table = getattr(t, _TABLES[e.kind])
        for key, value in e.changes.items():
            if key in _UPDATABLE:
                c.execute(
                    f"UPDATE {table} SET {_UPDATABLE[key]} = %s WHERE id = %s",
                    (int(value) if isinstance(value, bool) else value, str(e.originator_id)),
                )

    @on(Offering.Deleted, Offering.Retired)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        table = getattr(t, _TABLES[e.kind])
        c.execute(f"UPDATE {table} SET removed = 1 WHERE id = %s", (str(e.originator_id),))


# Who may use an offering: it is public (no domain) or limited to the owner's domain or one of
# its ancestors. One rule, as a predicate on a row and as SQL on `domain_path` with the owner's
# path as its parameter.
OFFERED_IN_SQL = "substr(%s, 1, length(domain_path)) = domain_path"


def offered_in(offering_domain_path: str | None, domain_path: str) -> bool:
    """Whether an offering limited to `offering_domain_path` ('' or None: public) may be used
    by an owner in `domain_path`."""
    return domain_path.startswith(offering_domain_path or "")


READ_MODELS = (OfferingsProjection,)
