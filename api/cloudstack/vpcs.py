"""VPC offerings (create/update/delete: root admins; listed by everyone) and VPCs: createVPC,
updateVPC, restartVPC, deleteVPC, listVPCs. A VPC's tiers are guest networks created with
`vpcid` (api/cloudstack/networks.py); its router is a virtual router keyed by the VPC."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import orjson

from api import display
from api.access import Role, check_reach, list_scope
from api.cloudstack import infrastructure as places
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    PROJECT_ID,
    limit_sql,
    resolve_owner_filters,
)
from api.cloudstack.jobs import run_async
from api.cloudstack.network_offerings import render_services, router_offering
from api.cloudstack.network_rules import submitted, write
from api.cloudstack.networks import network_row, new_owner, public_pool, render_network
from api.cloudstack.routers import ensure_router
from api.custom_ids import CUSTOM_ID
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_stored_date
from api.params import Param, ParamType, not_found
from api.tagging import TAGS_FILTER, narrow
from commands import network_acls as acls
from commands import vpc_offerings as offers
from commands import vpcs as cmd
from commands.network_rules import JobSpec
from commands.system_vms import destroy_system_vm
from domain.errors import (
    DomainError,
    InvalidParameter,
    PermissionDenied,
    ResourceInUse,
    ResourceUnavailable,
)
from domain.vpc import vpc_cidr
from domain.vpc_offering import VpcOfferingTerms
from projections.vpcs import VPC_SELECT, tiers_of, vpc_by_id, vpcs_using_offering
from stratus.db import contains

log = logging.getLogger(__name__)
P = ParamType
RA = Role.ROOT_ADMIN
ADMIN_PKG = "org.apache.cloudstack.api.command.admin.vpc"
USER_PKG = "org.apache.cloudstack.api.command.user.vpc"
VPC_UNBUILT = "distributed and region-level VPC routers came after 4.3"
GUEST_DOMAIN_SUFFIX = "cloud.internal"  # 4.3's guest.domain.suffix


# ---- VPC offerings --------------------------------------------------------------------------


def _offering_row(call: Call, offering_id: str, name: str = "id") -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM vpc_offerings WHERE id = %s AND removed = 0", (offering_id,)
        ).fetchone()
    if row is None:
        raise not_found(name, offering_id)
    return dict(row)


def render_vpc_offering(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "isdefault": bool(row["is_default"]),
        "state": row["state"],
        "created": format_stored_date(row["created"]),
        "distributedvpcrouter": False,
        "supportsregionLevelvpc": False,
        "service": render_services(orjson.loads(row["services"] or "{}")),
    }


def _offering(call: Call, offering_id: str) -> dict[str, Any]:
    return render_vpc_offering(_offering_row(call, offering_id))


def _offering_job(call: Call, offering_id: UUID, event: str, text: str, work: Any) -> Submitted:
    return run_async(
        call,
        instance_type="VpcOffering",
        instance_id=offering_id,
        event_type=f"VPC.OFFERING.{event}",
        description=text,
        work=work,
        creates=event == "CREATE",
    )


def create_vpc_offering(call: Call, args: dict[str, Any]) -> Submitted:
    providers: dict[str, list[str]] = {}
    for group in args["serviceproviderlist"] or ():
        if "service" in group and "provider" in group:
            providers.setdefault(group["service"].lower(), []).append(group["provider"])
    services = {s: providers.get(s.lower(), []) for s in args["supportedservices"] or ()}
    terms = VpcOfferingTerms(
        args["name"],
        args["displaytext"],
        services,
        router_offering(call, args["serviceofferingid"]),
    )
    terms.checked()  # refused at once, before a job exists
    command = offers.CreateVpcOffering(terms)

    def work() -> dict[str, Any]:
        outcome = offers.create_vpc_offering(call.store, command)
        return {"object": "vpcoffering", "id": str(outcome.id)}

    text = f"Creating VPC offering {args['name']}"
    return _offering_job(call, command.offering_id, "CREATE", text, work)


def update_vpc_offering(call: Call, args: dict[str, Any]) -> Submitted:
    row = _offering_row(call, args["id"])
    changes = {
        field: args[key]
        for key, field in (("name", "name"), ("displaytext", "display_text"), ("state", "state"))
        if args[key] is not None
    }

    def work() -> dict[str, Any]:
        offers.update_vpc_offering(call.store, UUID(row["id"]), changes)
        return {"object": "vpcoffering", "id": row["id"]}

    text = f"Updating VPC offering {row['name']}"
    return _offering_job(call, UUID(row["id"]), "UPDATE", text, work)


def delete_vpc_offering(call: Call, args: dict[str, Any]) -> Submitted:
    row = _offering_row(call, args["id"])
    if row["is_default"]:
        raise InvalidParameter("Default VPC offering can't be deleted")

    def work() -> dict[str, Any]:
        with call.read() as cursor:
            using = vpcs_using_offering(cursor, row["id"])
        offers.delete_vpc_offering(call.store, UUID(row["id"]), using)
        return {}

    text = f"Deleting VPC offering {row['name']}"
    return _offering_job(call, UUID(row["id"]), "DELETE", text, work)


_OFFERING_FILTERS = (
    ("id", "id = %s"),
    ("name", "lower(name) = lower(%s)"),
    ("displaytext", "display_text = %s"),
    ("state", "lower(state) = lower(%s)"),
    ("isdefault", "is_default = %s"),
)


def list_vpc_offerings(call: Call, args: dict[str, Any]) -> Listing:
    where, params = ["removed = 0"], []
    for key, clause in _OFFERING_FILTERS:
        if args[key] is not None:
            where.append(clause)
            params.append(int(args[key]) if isinstance(args[key], bool) else args[key])
    for service in args["supportedservices"] or ():
        where.append("lower(services) LIKE %s")
        params.append(f'%"{service.lower()}"%')
    if args.get("keyword"):
        clause, values = contains(("name", "display_text"), args["keyword"])
        where.append(clause)
        params += values
    sql = " FROM vpc_offerings WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT *" + sql + " ORDER BY created, id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([render_vpc_offering(dict(r)) for r in rows], int(count))


# ---- VPCs -----------------------------------------------------------------------------------


def vpc_row(call: Call, vpc_id: str, name: str = "id") -> dict[str, Any]:
    """A VPC the caller reaches: 431 when there is none, 531 when it is another's."""
    with call.read() as cursor:
        row = vpc_by_id(cursor, vpc_id)
    if row is None:
        raise not_found(name, vpc_id)
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what="the VPC"
    )
    return row


def _render_all(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with call.read() as cursor:
        tiers = tiers_of(cursor, [r["id"] for r in rows])
    return [_render(call, row, tiers[row["id"]]) for row in display.mark(call, rows)]


def _render(call: Call, row: dict[str, Any], tier_ids: list[str]) -> dict[str, Any]:
    networks = []
    for tier in display.mark(call, [network_row(call, tier_id) for tier_id in tier_ids]):
        tier["services"] = tier["services"] or {}
        networks.append(render_network(tier, {row["zone_id"]: row["zone_name"] or ""}))
    return {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "cidr": row["cidr"],
        "zoneid": row["zone_id"],
        "zonename": row["zone_name"] or "",
        "vpcofferingid": row["offering_id"],
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
        "networkdomain": row["network_domain"],
        "created": format_stored_date(row["created"]),
        "restartrequired": False,
        "regionlevelvpc": False,
        "distributedvpcrouter": False,
        "fordisplay": display.shown(row),
        "service": render_services(orjson.loads(row["services"] or "{}")),
        "network": networks,
    }


def render_vpc(call: Call, vpc_id: str) -> dict[str, Any]:
    return _render_all(call, [vpc_row(call, vpc_id)])[0]


def network_domain(text: str | None, account_id: str) -> str:
    """The VPC's DNS domain: as given (checked as 4.3 checks it), else cs<account>.<suffix>."""
    if not text:
        return f"cs{UUID(account_id).hex[:8]}.{GUEST_DOMAIN_SUFFIX}"
    labels = text.split(".")
    valid = len(text) <= 190 and all(
        0 < len(label) <= 63
        and label.replace("-", "").isalnum()
        and label.isascii()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )
    if not valid or labels[0][:1].isdigit():
        raise InvalidParameter(
            "Invalid network domain. Total length shouldn't exceed 190 chars. Each domain label "
            "must be between 1 and 63 characters long, can contain ASCII letters 'a' through "
            "'z', the digits '0' through '9', and the hyphen ('-'); can't start or end with "
            '"-"; and can\'t start with digit'
        )
    return text


def zone_hypervisor(call: Call, zone_id: str, what: str = "the VPC") -> str:
    """The hypervisor a router (of a VPC, or of `what`) runs on when no VM asks for it: that
    of the zone's first Up, Enabled host."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT hypervisor FROM hosts WHERE zone_id = %s AND removed = 0 AND state = 'Up' "
            "AND resource_state = 'Enabled' ORDER BY created, id LIMIT 1",
            (zone_id,),
        ).fetchone()
    if row is None:
        raise ResourceUnavailable(
            f"Unable to start {what}: the zone has no Up host to run its virtual router"
        )
    return str(row["hypervisor"])


def start_router(call: Call, row: dict[str, Any]) -> None:
    """Create and start the VPC's router when it has none running (its own ROUTER.START job),
    the VPC taking its source NAT address first if it has none yet (533 when none is free)."""
    services = tuple(orjson.loads(row["services"] or "{}"))
    hypervisor = zone_hypervisor(call, row["zone_id"])
    pool = public_pool(call, row["zone_id"], row["account_id"])
    call.write(cmd.ensure_source_nat, cmd.VpcSourceNat(UUID(row["id"]), pool))
    owner = (row["account_id"], row["domain_id"])
    ensure_router(call, row["id"], row["zone_id"], owner, hypervisor, services, vpc_id=row["id"])


def create_vpc(call: Call, args: dict[str, Any]) -> Submitted:
    zone = places._row(call, "zones", args["zoneid"], "zone")
    offering = _offering_row(call, args["vpcofferingid"], "vpcofferingid")
    if offering["state"] != "Enabled":
        raise InvalidParameter(f"VPC offering {offering['name']} is not enabled")
    if zone["network_type"] != "Advanced":
        raise InvalidParameter(f"Can't create a VPC in zone {zone['name']}: it is not Advanced")
    if zone["allocation_state"] == "Disabled" and call.caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied(f"Cannot perform this operation, Zone {zone['name']} is disabled")
    account_id, domain_id = new_owner(call, args)
    command = cmd.CreateVpc(
        args["name"],
        args["displaytext"],
        UUID(zone["id"]),
        UUID(offering["id"]),
        UUID(account_id),
        UUID(domain_id),
        vpc_cidr(args["cidr"]),
        network_domain(args["networkdomain"], account_id),
    )
    display.hide_new(call, args, "Vpc", command.vpc_id)
    outcome = call.write(cmd.create_vpc, command)
    vpc_id = str(outcome.id)
    start = args["start"] is not False

    def work() -> dict[str, Any]:
        if start:
            with call.read() as cursor:
                row = vpc_by_id(cursor, vpc_id)
            if row is not None:
                start_router(call, row)
        return {"object": "vpc", "id": vpc_id}

    return _vpc_job(call, UUID(vpc_id), "CREATE", f"Creating VPC {args['name']}", work)


def _vpc_job(call: Call, vpc_id: UUID, event: str, text: str, work: Any) -> Submitted:
    return run_async(
        call,
        instance_type="Vpc",
        instance_id=vpc_id,
        event_type=f"VPC.{event}",
        description=text,
        work=work,
        creates=event == "CREATE",
    )


def update_vpc(call: Call, args: dict[str, Any]) -> Submitted:
    row = vpc_row(call, args["id"])
    changes = {
        field: args[key]
        for key, field in (("name", "name"), ("displaytext", "display_text"))
        if args[key] is not None
    }
    display.change(call, args, "Vpc", row["id"])

    def work() -> dict[str, Any]:
        cmd.update_vpc(call.store, UUID(row["id"]), changes)
        return {"object": "vpc", "id": row["id"]}

    return _vpc_job(call, UUID(row["id"]), "UPDATE", f"Updating VPC {row['name']}", work)


def delete_vpc(call: Call, args: dict[str, Any]) -> Submitted:
    row = vpc_row(call, args["id"])
    with call.read() as cursor:
        tiers = tiers_of(cursor, [row["id"]])[row["id"]]
    if tiers:  # refused at once; the VPC's own record refuses it again in the job
        raise InvalidParameter(
            f"Can't delete VPC {row['name']} as its used by {len(tiers)} networks"
        )
    with call.read() as cursor:
        gateways = cursor.execute(
            "SELECT count(*) AS n FROM private_gateways WHERE vpc_id = %s", (row["id"],)
        ).fetchone()["n"]
    if gateways:
        raise ResourceInUse(
            f"Can't delete VPC {row['name']} while it has {gateways} private gateway(s): delete "
            "them first"
        )
    with call.read() as cursor:
        vpns = cursor.execute(
            "SELECT count(*) AS n FROM remote_access_vpns WHERE vpc_id = %s AND state <> 'Removed'",
            (row["id"],),
        ).fetchone()["n"]
    if vpns:
        raise ResourceInUse(
            f"Can't delete VPC {row['name']} while its remote access VPN is there: delete it first"
        )

    def work() -> dict[str, Any]:
        with call.read() as cursor:
            addresses = cursor.execute(
                "SELECT id FROM public_ips WHERE vpc_id = %s AND state = 'Allocated'", (row["id"],)
            ).fetchall()
        cmd.delete_vpc(call.store, UUID(row["id"]), [UUID(a["id"]) for a in addresses])
        router = cmd.vpc_router(call.store, UUID(row["id"]))
        if router is not None:
            try:
                destroy_system_vm(call.store, router.id, None)
            except DomainError as error:  # starting, say: the operator destroys it later
                log.warning(
                    "the router %s of deleted VPC %s stays: %s", router.id, row["id"], error
                )
        return {}

    return _vpc_job(call, UUID(row["id"]), "DELETE", f"Deleting VPC {row['name']}", work)


def restart_vpc(call: Call, args: dict[str, Any]) -> Submitted:
    """Start the VPC's router if it is not running (it takes every tier's ACLs when it boots)
    and send a running one the VPC's whole ACL set again; the job ends with its answer."""
    row = vpc_row(call, args["id"])
    router = cmd.vpc_router(call.store, UUID(row["id"]))
    if router is None or router.state not in ("Running", "Starting"):
        start_router(call, row)
    text = f"Restarting VPC {row['name']}"
    spec = job_of(call, f"{USER_PKG}.RestartVPCCmd", "VPC.RESTART", text, "Vpc")
    applying = write(call, acls.reapply, acls.ReapplyAcls(UUID(row["id"]), spec))
    return submitted(call, applying, creates=False)


def job_of(call: Call, java_class: str, event_type: str, text: str, kind: str) -> JobSpec:
    """The job a change of a VPC (or its ACLs) runs as, submitted by its caller; the VPC's
    router finishes it."""
    return JobSpec(
        java_class, UUID(call.caller.account_id), UUID(call.caller.user_id), kind, event_type, text
    )


_FILTERS = (
    ("id", "v.id = %s"),
    ("zoneid", "v.zone_id = %s"),
    ("name", "lower(v.name) = lower(%s)"),
    ("displaytext", "v.display_text = %s"),
    ("cidr", "v.cidr = %s"),
    ("vpcofferingid", "v.offering_id = %s"),
    ("state", "lower(v.state) = lower(%s)"),
    ("restartrequired", "%s = 0"),  # nothing marks a VPC for restart
)


def list_vpcs(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    scope = list_scope(call.caller, prefix="a.", account_column="id", **owner)
    where, params = ["v.removed = 0", f"({scope.clause})"], list(scope.params)
    for key, clause in _FILTERS:
        if args[key] is not None:
            where.append(clause)
            params.append(int(args[key]) if isinstance(args[key], bool) else args[key])
    for service in args["supportedservices"] or ():
        where.append("lower(v.services) LIKE %s")
        params.append(f'%"{service.lower()}"%')
    if args.get("keyword"):
        clause, values = contains(("v.name", "v.display_text"), args["keyword"])
        where.append(clause)
        params += values
    narrow(args, "Vpc", "v.id", where, params)
    display.narrow(call, args, "v.id", where)
    sql = VPC_SELECT + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY v.created, v.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(_render_all(call, [dict(r) for r in rows]), int(count))


# ---- the table ------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
SERVICES = Param("supportedservices", P.LIST, element=P.STRING)

COMMANDS = (
    ApiCommand(
        "createVPCOffering",
        create_vpc_offering,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True),
            Param("supportedservices", P.LIST, element=P.STRING, required=True),
            Param("serviceproviderlist", P.MAP),
            Param("servicecapabilitylist", P.MAP, unsupported=VPC_UNBUILT),
            Param("serviceofferingid", P.UUID),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="vpcoffering",
        render=_offering,
        java_class=f"{ADMIN_PKG}.CreateVPCOfferingCmd",
        description="Creates VPC offering",
    ),
    ApiCommand(
        "updateVPCOffering",
        update_vpc_offering,
        (
            ID,
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("state", P.STRING),
        ),
        role=RA,
        shape="async",
        is_async=True,
        item_key="vpcoffering",
        render=_offering,
        java_class=f"{ADMIN_PKG}.UpdateVPCOfferingCmd",
        description="Updates VPC offering",
    ),
    ApiCommand(
        "deleteVPCOffering",
        delete_vpc_offering,
        (ID,),
        role=RA,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.DeleteVPCOfferingCmd",
        description="Deletes VPC offering",
    ),
    ApiCommand(
        "listVPCOfferings",
        list_vpc_offerings,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("isdefault", P.BOOLEAN),
            Param("state", P.STRING),
            SERVICES,
        ),
        shape="list",
        item_key="vpcoffering",
        java_class=f"{USER_PKG}.ListVPCOfferingsCmd",
        description="Lists VPC offerings",
    ),
    ApiCommand(
        "createVPC",
        create_vpc,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True),
            Param("cidr", P.STRING, required=True),
            Param("vpcofferingid", P.UUID, required=True),
            Param("zoneid", P.UUID, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("networkdomain", P.STRING),
            Param("start", P.BOOLEAN, default=True),
            display.FOR_DISPLAY,
            PROJECT_ID,
        ),
        shape="async",
        is_async=True,
        item_key="vpc",
        render=render_vpc,
        java_class=f"{USER_PKG}.CreateVPCCmd",
        description="Creates a VPC",
    ),
    ApiCommand(
        "updateVPC",
        update_vpc,
        (
            ID,
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            CUSTOM_ID,
            display.FOR_DISPLAY_CHANGE,
        ),
        shape="async",
        is_async=True,
        item_key="vpc",
        render=render_vpc,
        java_class=f"{USER_PKG}.UpdateVPCCmd",
        description="Updates a VPC",
    ),
    ApiCommand(
        "restartVPC",
        restart_vpc,
        (ID,),
        shape="async",
        is_async=True,
        item_key="vpc",
        render=render_vpc,
        java_class=f"{USER_PKG}.RestartVPCCmd",
        description="Restarts a VPC: its router runs and holds every tier's ACLs again",
    ),
    ApiCommand(
        "deleteVPC",
        delete_vpc,
        (ID,),
        shape="async",
        is_async=True,
        java_class=f"{USER_PKG}.DeleteVPCCmd",
        description="Deletes a VPC (with its ACL lists and its router)",
    ),
    ApiCommand(
        "listVPCs",
        list_vpcs,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("zoneid", P.UUID),
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("cidr", P.STRING),
            Param("vpcofferingid", P.UUID),
            Param("state", P.STRING),
            Param("restartrequired", P.BOOLEAN),
            SERVICES,
            display.FOR_DISPLAY_CHANGE,
            LIST_PROJECT_ID,
            TAGS_FILTER,
        ),
        shape="list",
        item_key="vpc",
        java_class=f"{USER_PKG}.ListVPCsCmd",
        description="Lists VPCs",
    ),
)
