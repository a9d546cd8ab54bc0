"""ISOs: register, list (by ISO filter), update, delete, copy and permissions.

An ISO is a template of format ISO that names no hypervisor (`domain.template`); it is read,
rendered and shared through the templates group's helpers, and listed as `iso`. Its copy in a
zone is fetched by an adapter of the kind keeping that zone's images
(`api.cloudstack.templates.store_kinds`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack import templates as images
from api.cloudstack.common import LIST_PROJECT_ID, OWNER_PARAMS, PROJECT_ID, limit_sql
from api.cloudstack.unbuilt import TAGS_MAP
from api.cloudstack.vm_listing import vm_row, vm_view
from api.cloudstack.vms import hypervisor_job
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import isos as iso_cmd
from commands import templates as cmd
from domain.errors import InvalidParameter, PermissionDenied
from domain.template import ISO, NO_HYPERVISOR, TemplateSpec, os_type_id
from projections.templates import may_launch
from stratus.actions import lacking

P = ParamType
ID = Param("id", P.UUID, required=True)
OTHER_OS = os_type_id("Other (64-bit)")  # what a non-bootable ISO declares


def list_isos(call: Call, args: dict[str, Any]) -> Listing:
    images.check_filter(args["isofilter"], "ISO filter")
    where, params = images.where_clauses(call, args, args["isofilter"], iso=True)
    rows, count = images.select(call, where, params, limit_sql(args["paging"]))
    return Listing(images.render_templates(call, rows), count)


def _os_type(args: dict[str, Any]) -> UUID:
    if args["ostypeid"]:
        return UUID(args["ostypeid"])
    if args["bootable"] is not False:
        raise InvalidParameter("Please pass a valid GuestOS Id: a bootable ISO needs one")
    return OTHER_OS


def register_iso(call: Call, args: dict[str, Any]) -> Listing:
    if args["isfeatured"] and call.caller.role == Role.USER:
        raise PermissionDenied("Only administrators can register featured ISOs")
    account_id = images.owner_account(call, args)
    zone_ids, cross_zones = images.register_zones(call, args["zoneid"])
    spec = TemplateSpec(
        name=args["name"],
        display_text=args["displaytext"],
        url=args["url"],
        hypervisor=NO_HYPERVISOR,
        format=ISO,
        os_type_id=_os_type(args),
        is_featured=bool(args["isfeatured"]),
        is_public=bool(args["ispublic"]),
        is_extractable=bool(args["isextractable"]),
        checksum=args["checksum"] or "",
        cross_zones=cross_zones,
        bootable=args["bootable"] is not False,
    )
    command = cmd.RegisterTemplate(
        spec,
        UUID(account_id),
        zone_ids,
        limits=images.fetch_limits(call),
        store_kinds=images.store_kinds(call, zone_ids),
        stores=images.store_choices(call, zone_ids, args["imagestoreuuid"]),
    )
    outcome = call.write(cmd.register_template, command)
    return images.listed(call, str(outcome.id))


def update_iso(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return images.update_image(call, args, iso=True)


def delete_iso(call: Call, args: dict[str, Any]) -> Submitted:
    return images.delete_image(call, args, iso=True)


def copy_iso(call: Call, args: dict[str, Any]) -> Submitted:
    return images.copy_image(call, args, iso=True)


def update_iso_permissions(call: Call, args: dict[str, Any]) -> None:
    images.update_permissions(call, args, iso=True)


def list_iso_permissions(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return images.list_permissions(call, args, iso=True)


def _drive_of(call: Call, vm_id: str) -> dict[str, Any]:
    """A VM the caller may act on, on a hypervisor whose adapters handle a CD drive."""
    row = vm_row(call, vm_id)
    if lacking(row["hypervisor"], "attach_iso") is not None:
        raise InvalidParameter(
            f"Attaching and detaching ISOs is not supported yet on {row['hypervisor']} "
            f"(virtual machine {row['name']})"
        )
    return row


def attach_iso(call: Call, args: dict[str, Any]) -> Submitted:
    """Put an ISO the VM's owner may use (own, public or shared) in the VM's CD drive."""
    iso = images.template_row(call, args["id"], iso=True)
    vm = _drive_of(call, args["virtualmachineid"])
    with call.read() as cursor:
        allowed = may_launch(cursor, iso, vm["account_id"])
    if not allowed:
        raise PermissionDenied(f"ISO {iso['name']} is not available to the VM's account")
    command = iso_cmd.AttachIso(UUID(vm["id"]), UUID(iso["id"]))
    return hypervisor_job(
        call,
        vm["id"],
        "ISO.ATTACH",
        f"Attaching ISO {iso['name']} to VM {vm['name']}",
        lambda job_id: iso_cmd.attach_iso(call.store, replace(command, job_id=job_id)),
    )


def detach_iso(call: Call, args: dict[str, Any]) -> Submitted:
    vm = _drive_of(call, args["virtualmachineid"])
    return hypervisor_job(
        call,
        vm["id"],
        "ISO.DETACH",
        f"Detaching the ISO from VM {vm['name']}",
        lambda job_id: iso_cmd.detach_iso(call.store, UUID(vm["id"]), job_id),
    )


COMMANDS = (
    ApiCommand(
        "registerIso",
        register_iso,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True, max_length=4096),
            Param("url", P.STRING, required=True, max_length=2048),
            Param("zoneid", P.STRING, required=True),
            Param("bootable", P.BOOLEAN),
            Param("ostypeid", P.UUID),
            Param("isfeatured", P.BOOLEAN),
            Param("ispublic", P.BOOLEAN),
            Param("isextractable", P.BOOLEAN),
            Param("checksum", P.STRING),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("imagestoreuuid", P.STRING),
            PROJECT_ID,
        ),
        shape="list",
        paged=False,
        item_key="iso",
        description="Registers an ISO image from its URL into one zone or every zone (-1).",
    ),
    ApiCommand(
        "listIsos",
        list_isos,
        (
            Param("isofilter", P.STRING, default="selfexecutable"),
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("zoneid", P.UUID),
            Param("bootable", P.BOOLEAN),
            Param("ispublic", P.BOOLEAN),
            Param("isready", P.BOOLEAN),
            Param("hypervisor", P.STRING),
            Param("showremoved", P.BOOLEAN),
            LIST_PROJECT_ID,
            TAGS_MAP,
            *OWNER_PARAMS,
        ),
        shape="list",
        item_key="iso",
        description="Lists the ISOs a caller may see, one item per zone holding a copy.",
    ),
    ApiCommand(
        "updateIso",
        update_iso,
        (
            ID,
            Param("name", P.STRING),
            Param("displaytext", P.STRING, max_length=4096),
            Param("ostypeid", P.UUID),
            Param("bootable", P.BOOLEAN),
            Param("passwordenabled", P.BOOLEAN),
            Param("sortkey", P.INTEGER),
            Param("format", P.STRING, unsupported="an ISO's format is ISO"),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param(
                "isrouting",
                P.BOOLEAN,
                default=False,
                unsupported="an ISO is never a router template",
            ),
        ),
        item_key="iso",
        description="Changes an ISO's name, description, OS type, sort order or bootable flag.",
    ),
    ApiCommand(
        "deleteIso",
        delete_iso,
        (ID, Param("zoneid", P.UUID)),
        shape="async",
        is_async=True,
        description="Deletes an ISO's copy in one zone, or the ISO.",
    ),
    ApiCommand(
        "copyIso",
        copy_iso,
        (ID, Param("destzoneid", P.UUID, required=True), Param("sourcezoneid", P.UUID)),
        shape="async",
        is_async=True,
        item_key="iso",
        render=images.latest_copy,
        description="Puts a copy of an ISO into another zone.",
    ),
    ApiCommand(
        "updateIsoPermissions",
        update_iso_permissions,
        images.PERMISSION_PARAMS,
        shape="success",
        description="Makes an ISO public, featured or extractable, or shares it with accounts "
        "of its owner's domain (op add, remove or reset).",
    ),
    ApiCommand(
        "attachIso",
        attach_iso,
        (ID, Param("virtualmachineid", P.UUID, required=True)),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        description="Puts an ISO in a virtual machine's CD drive.",
    ),
    ApiCommand(
        "detachIso",
        detach_iso,
        (Param("virtualmachineid", P.UUID, required=True),),
        shape="async",
        is_async=True,
        item_key="virtualmachine",
        render=vm_view,
        description="Takes the ISO out of a virtual machine's CD drive.",
    ),
    ApiCommand(
        "listIsoPermissions",
        list_iso_permissions,
        (ID,),
        item_key="templatepermission",
        description="Shows whether an ISO is public and the accounts it is shared with.",
    ),
)
