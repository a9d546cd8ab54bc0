"""A zone's vCenter datacenter: addVmwareDc, listVmwareDcs, removeVmwareDc.

As in 4.3, a zone takes one datacenter, before it has VMware clusters; a datacenter serves one
zone; adding checks on the vCenter, with the login given, that the datacenter exists and is no
other cloud's (its `cloud.zone` field), and marks it; removing unmarks it. Both are answered
once a VMware adapter has done that on the vCenter (through the outbox, as a host's connect
is). The login is sealed in the log and never answered.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack import infrastructure as places
from api.cloudstack.jobs import adapter_job, await_job
from api.dispatch import ApiCommand, Call, Listing
from api.params import Param, ParamType
from commands import vmware_datacenters as cmd
from domain.errors import InvalidParameter, ResourceInUse, ResourceUnavailable
from domain.vmware_datacenter import ASSOCIATED, UNASSOCIATED, datacenter_id
from projections.vmware_datacenters import datacenter_elsewhere, zone_datacenter

P = ParamType
ITEM = "vmwaredc"
VCENTER_WAIT = 60.0


def _render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "vcenter": row["vcenter"],
        "zoneid": row["zone_id"],
    }


def _datacenter(call: Call, zone_id: str) -> dict[str, Any] | None:
    places._row(call, "zones", zone_id, "zone")
    with call.read() as cursor:
        return zone_datacenter(cursor, zone_id)


def add_vmware_dc(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    zone_id, name, vcenter = args["zoneid"], args["name"].strip(), args["vcenter"].strip()
    for key in ("username", "password"):
        if not args[key]:
            raise InvalidParameter(f"Missing or invalid parameter {key}.")
    row = _datacenter(call, zone_id)
    if row and row["state"] == ASSOCIATED:
        same = (row["name"].lower(), row["vcenter"].lower()) == (name.lower(), vcenter.lower())
        if same:  # asked again: 4.3 answers the association it has
            return _render(row)
    _check_zone_is_free(call, zone_id, name, vcenter)
    text = f"Adding VMware DC {name}"
    dc_id = datacenter_id(UUID(zone_id))
    job_id = adapter_job(call, "VmwareDatacenter", dc_id, "VMWARE.DC.ADD", text)
    command = cmd.AssociateDatacenter(
        UUID(zone_id), name, vcenter, args["username"], args["password"], job_id
    )
    outcome = call.write(cmd.associate, command)
    await_job(call, str(job_id), str(outcome.id), VCENTER_WAIT)
    found = _datacenter(call, zone_id)
    if found is None or found["state"] != ASSOCIATED:
        raise ResourceUnavailable(
            f"No VMware adapter answered about VMware DC {name} in time; the association is "
            "made once one does (asking again supersedes the request)"
        )
    return _render(found)


def _check_zone_is_free(call: Call, zone_id: str, name: str, vcenter: str) -> None:
    """4.3's refusals: a zone with VMware clusters, a datacenter another zone has."""
    _refuse_clusters(call, zone_id, "add VMware datacenter to")
    with call.read() as cursor:
        elsewhere = datacenter_elsewhere(cursor, zone_id, name, vcenter)
    if elsewhere:
        raise ResourceInUse(
            "This DC is already part of other CloudStack zone(s). Cannot add this DC to more zones."
        )


def _refuse_clusters(call: Call, zone_id: str, what: str) -> None:
    with call.read() as cursor:
        clusters = cursor.execute(
            "SELECT count(*) AS n FROM clusters WHERE zone_id = %s AND removed = 0 "
            "AND hypervisor = 'VMware'",
            (zone_id,),
        ).fetchone()["n"]
    if clusters:
        raise ResourceInUse(
            f"Zone has one or more clusters. Can't {what} zone which already has clusters."
        )


def list_vmware_dcs(call: Call, args: dict[str, Any]) -> Listing:
    row = _datacenter(call, args["zoneid"])
    if row is None or row["state"] == UNASSOCIATED:
        return Listing([], 0)
    return Listing([_render(row)], 1)


def remove_vmware_dc(call: Call, args: dict[str, Any]) -> None:
    zone_id = args["zoneid"]
    row = _datacenter(call, zone_id)
    if row is None or row["state"] == UNASSOCIATED:
        raise InvalidParameter(f"Zone {zone_id} is not associated with any VMware datacenter.")
    _refuse_clusters(call, zone_id, "remove VMware datacenter to")
    text = f"Removing VMware DC {row['name']}"
    dc_id = datacenter_id(UUID(zone_id))
    job_id = adapter_job(call, "VmwareDatacenter", dc_id, "VMWARE.DC.DELETE", text)
    outcome = call.write(lambda store, _: cmd.release(store, UUID(zone_id), job_id), None)
    await_job(call, str(job_id), str(outcome.id), VCENTER_WAIT)


ZONE = (Param("zoneid", P.UUID, required=True),)

COMMANDS = (
    ApiCommand(
        "addVmwareDc",
        add_vmware_dc,
        (
            *ZONE,
            Param("name", P.STRING, required=True),
            Param("vcenter", P.STRING, required=True),
            Param("username", P.STRING),
            Param("password", P.STRING),
        ),
        role=Role.ROOT_ADMIN,
        item_key=ITEM,
        description="Associates a zone with a VMware datacenter of a vCenter",
    ),
    ApiCommand(
        "listVmwareDcs",
        list_vmware_dcs,
        ZONE,
        role=Role.ROOT_ADMIN,
        shape="list",
        item_key=ITEM,
        description="Lists the VMware datacenter associated with a zone",
    ),
    ApiCommand(
        "removeVmwareDc",
        remove_vmware_dc,
        ZONE,
        role=Role.ROOT_ADMIN,
        shape="success",
        description="Removes the association of a zone with its VMware datacenter",
    ),
)
