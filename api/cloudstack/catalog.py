"""What deploying a VM reads about service offerings and templates, in one place.

The offerings and templates read models belong to their own API group; VMs need only a compute
shape, a hypervisor, a disk size and names, and read them through these few functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from api.cloudstack.common import names_by_id
from api.dispatch import Call
from api.params import not_found
from domain.compute import OfferingShape
from domain.errors import InvalidParameter, PermissionDenied
from domain.storage import parse_tags
from domain.storage_qos import IopsTerms, disk_qos
from domain.template import ISO
from domain.volume import check_size
from projections.offerings import offered_in
from projections.templates import may_launch

GIB = 1024**3


@dataclass(frozen=True)
class DiskQosTerms:
    """An offering's storage QoS and I/O throttling rates, which its disks carry."""

    iops: IopsTerms
    io_limits: dict[str, int]


def qos_terms(row: dict[str, Any]) -> DiskQosTerms:
    """The storage QoS terms of an offering's row (compute or disk offering)."""
    iops = IopsTerms(
        bool(row["customized_iops"]),
        _number(row["min_iops"]),
        _number(row["max_iops"]),
        _number(row["hypervisor_snapshot_reserve"]),
    )
    return DiskQosTerms(iops, dict(orjson.loads(row["io_limits"] or "{}")))


def qos_of_disk(
    terms: DiskQosTerms | None, asked: tuple[int | None, int | None] = (None, None)
) -> dict[str, Any]:
    """What a new disk of an offering carries of its storage QoS (`asked`: the IOPS a
    createVolume asks for, min and max)."""
    if terms is None:
        return disk_qos(IopsTerms(), {}, asked)
    return disk_qos(terms.iops, terms.io_limits, asked)


@dataclass(frozen=True)
class Offering:
    id: str
    name: str
    shape: OfferingShape
    storage_tags: tuple[str, ...] = ()  # what the ROOT disk's pool must carry
    qos: DiskQosTerms | None = None  # what its ROOT disk gets of storage QoS


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    hypervisor: str  # "" for an ISO: the deploy names one
    disk_gb: int
    guest_os_id: str
    password_enabled: bool = False
    is_iso: bool = False
    bootable: bool = True
    display_text: str = ""
    url: str = ""


@dataclass(frozen=True)
class DiskOffering:
    id: str
    name: str
    size_gb: int  # 0 for a custom one: the size is asked for
    customized: bool
    storage_tags: tuple[str, ...] = ()
    qos: DiskQosTerms | None = None


def _one(call: Call, sql: str, key: str | tuple[str, ...], param: str) -> dict[str, Any]:
    values = key if isinstance(key, tuple) else (key,)
    with call.read() as cursor:
        row = cursor.execute(sql, values).fetchone()
    if row is None:
        raise not_found(param, values[-1])
    return dict(row)


def _usable(
    call: Call, sql: str, named: tuple[str, str], domain_path: str, kind: str
) -> dict[str, Any]:
    """An offering's row (`named`: its id and the parameter that names it), if it is public or
    limited to a domain above `domain_path`."""
    row = _one(call, sql, named[0], named[1])
    if not offered_in(row["domain_path"], domain_path):
        raise PermissionDenied(f"{kind} offering {row['name']} is not available in this domain")
    return row


def offering(call: Call, offering_id: str, domain_path: str) -> Offering:
    """A tenant compute offering usable in `domain_path` (public, or limited to an ancestor)."""
    sql = "SELECT * FROM service_offerings WHERE id = %s AND removed = 0 AND is_system = 0"
    row = _usable(call, sql, (offering_id, "serviceofferingid"), domain_path, "Service")
    shape = OfferingShape(
        UUID(row["id"]),
        _number(row["cpu_number"]),
        _number(row["cpu_speed"]),
        _number(row["memory"]),
    )
    return Offering(row["id"], row["name"], shape, parse_tags(row["tags"]), qos_terms(row))


def template(call: Call, template_id: str, zone_id: str, account_id: str) -> Template:
    """A template the owner may use, ready in the zone; its disk size in whole GiB."""
    row = _one(
        call,
        "SELECT t.*, z.state AS zone_state, z.size AS zone_size FROM templates AS t "
        "LEFT JOIN template_zones AS z ON z.template_id = t.id AND z.zone_id = %s "
        "WHERE t.id = %s AND t.removed = 0",
        (zone_id, template_id),
        "templateid",
    )
    with call.read() as cursor:
        allowed = may_launch(cursor, row, account_id)
    if not allowed:
        raise PermissionDenied(f"Template {row['name']} is not available to this account")
    if row["zone_state"] != "Ready":
        raise InvalidParameter(
            f"Template {row['name']} has not been completely downloaded to zone {zone_id}"
        )
    size = int(row["zone_size"] or row["size"] or 0)
    return Template(
        row["id"],
        row["name"],
        row["hypervisor"] or "",
        -(-size // GIB),  # whole GiB, rounded up
        str(row["os_type_id"] or ""),
        bool(row["password_enabled"]),
        is_iso=row["format"] == ISO,
        bootable=bool(row["bootable"]),
        display_text=row["display_text"] or "",
        url=row["url"] or "",
    )


def disk_offering(call: Call, offering_id: str, domain_path: str) -> DiskOffering:
    """A disk offering usable in `domain_path` (public, or limited to an ancestor)."""
    sql = "SELECT * FROM disk_offerings WHERE id = %s AND removed = 0"
    row = _usable(call, sql, (offering_id, "diskofferingid"), domain_path, "Disk")
    return DiskOffering(
        row["id"],
        row["name"],
        int(row["disk_size"] or 0),
        bool(row["customized"]),
        parse_tags(row["tags"]),
        qos_terms(row),
    )


def disk_size(offering: DiskOffering, size: int | None) -> int:
    """The GiB a disk of the offering gets: a custom offering's asked-for size, a fixed one's
    own (which takes no other), as 4.3 answers both."""
    if offering.customized:
        if size is None:
            raise InvalidParameter("This disk offering requires a custom size specified")
        return check_size(size)
    if size is not None:
        raise InvalidParameter("This disk offering does not allow custom size")
    return offering.size_gb


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def offering_names(call: Call, ids: set[str]) -> dict[str, str]:
    return names_by_id(call, "service_offerings", ids)


def template_names(call: Call, ids: set[str]) -> dict[str, str]:
    return names_by_id(call, "templates", ids)
