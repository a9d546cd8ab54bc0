"""createTemplate: a template made from a stopped VM's ROOT volume, by the adapter of the host
that holds it (`commands.template_captures`); the job answers the template once it is Ready.

Who may ask: whoever may act on the VM. The template belongs to the VM's owner, in the VM's
zone, for the VM's hypervisor. A user's template is public only where
`allow.public.user.templates` allows it; `isfeatured` counts for administrators only (4.3 drops
it for users) and `templatetag` is a root administrator's. From a volume snapshot: refused, for
snapshots keep no image yet (see `adapters.snapshots`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import hypervisor_job
from api.cloudstack.snapshots import snapshot_row
from api.cloudstack.templates import latest_copy
from api.cloudstack.vm_listing import vm_row
from api.cloudstack.volumes import volume_row
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType
from commands import template_captures as capture
from domain.errors import InvalidParameter, PermissionDenied
from domain.template import FORMATS, TemplateSpec, os_type
from stratus.actions import lacking

P = ParamType
PUBLIC_USER_TEMPLATES = "allow.public.user.templates"
_NO_URL = ""  # an image made by an adapter is fetched from nowhere


def _root_volume(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The ROOT volume named (`volumeid`), or the one of the VM named (`virtualmachineid`)."""
    if args["volumeid"]:
        volume = volume_row(call, args["volumeid"])
        if volume["kind"] != "ROOT" or not volume["vm_id"]:
            raise InvalidParameter(
                f"Volume {volume['name']} is not the ROOT volume of a virtual machine: "
                "templates are made from ROOT volumes"
            )
        return volume
    vm = vm_row(call, args["virtualmachineid"])
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT id FROM volumes WHERE vm_id = %s AND kind = 'ROOT' AND removed = 0",
            (vm["id"],),
        ).fetchone()
    if found is None:
        raise InvalidParameter(f"Virtual machine {vm['name']} has no ROOT volume")
    return volume_row(call, found["id"])


def _source(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    """The VM whose ROOT volume the template is made from (one the caller may act on)."""
    given = [key for key in ("volumeid", "snapshotid") if args[key]]
    if len(given) > 1:
        raise InvalidParameter("Specify either volumeid or snapshotid, not both")
    if args["snapshotid"]:
        snapshot = snapshot_row(call, args["snapshotid"])
        raise InvalidParameter(
            f"Creating a template from snapshot {snapshot['name']} is not supported yet: "
            "volume snapshots keep no image to make one from; create it from the volume "
            "(volumeid) of the stopped virtual machine instead"
        )
    if not args["volumeid"] and not args["virtualmachineid"]:
        raise InvalidParameter("Specify volumeid (or virtualmachineid) or snapshotid")
    volume = _root_volume(call, args)
    vm = vm_row(call, volume["vm_id"])
    if args["virtualmachineid"] and args["virtualmachineid"] != vm["id"]:
        raise InvalidParameter(
            f"Volume {volume['name']} is not the ROOT volume of virtual machine "
            f"{args['virtualmachineid']}"
        )
    return vm


def _format(call: Call, vm: dict[str, Any]) -> str:
    """The new image's format: its source template's, where the hypervisor boots it."""
    allowed = FORMATS.get(vm["hypervisor"], ())
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT format FROM templates WHERE id = %s", (vm["template_id"],)
        ).fetchone()
    if row is not None and row["format"] in allowed:
        return str(row["format"])
    if not allowed:
        raise InvalidParameter(f"Templates cannot be made on {vm['hypervisor']}")
    return allowed[0]


def _flags(call: Call, args: dict[str, Any]) -> tuple[bool, bool]:
    role = call.caller.role
    public = bool(args["ispublic"])
    if public and role == Role.USER and current_value(call, PUBLIC_USER_TEMPLATES) != "true":
        raise PermissionDenied(
            f"Failed to create template {args['name']}: only private templates can be created"
        )
    featured = bool(args["isfeatured"]) and role != Role.USER
    if args["templatetag"] and role != Role.ROOT_ADMIN:
        raise PermissionDenied("Parameter templatetag can only be specified by a Root Admin")
    return public, featured


def _details(groups: list[dict[str, str]] | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    for group in groups or ():
        merged.update(group)
    return merged


def create_template(call: Call, args: dict[str, Any]) -> Submitted:
    if not args["name"].strip():
        raise InvalidParameter("A template needs a name")
    if os_type(UUID(args["ostypeid"])) is None:
        raise InvalidParameter(f"Unable to find an OS type with id {args['ostypeid']}")
    if args["bits"] not in (None, 32, 64):
        raise InvalidParameter("Invalid bits value: use 32 or 64")
    public, featured = _flags(call, args)
    vm = _source(call, args)
    reason = lacking(vm["hypervisor"], capture.ACTION)
    if reason is not None:
        raise InvalidParameter(
            f"Creating a template from a volume is not supported yet on {vm['hypervisor']} "
            f"(virtual machine {vm['name']})"
        )
    volume = _root_volume(call, {"volumeid": "", "virtualmachineid": vm["id"]})
    spec = TemplateSpec(
        name=args["name"],
        display_text=args["displaytext"],
        url=_NO_URL,
        hypervisor=vm["hypervisor"],
        format=_format(call, vm),
        os_type_id=UUID(args["ostypeid"]),
        is_featured=featured,
        is_public=public,
        password_enabled=bool(args["passwordenabled"]),
        requires_hvm=args["requireshvm"] is not False,
        bits=args["bits"] or 64,
        template_tag=args["templatetag"] or "",
        details=_details(args["details"]),
        source_volume_id=volume["id"],
        source_template_id=vm["template_id"] or "",
    )
    template_id = uuid.uuid4()
    command = capture.CreateTemplate(template_id, spec, UUID(vm["id"]))
    job_id = hypervisor_job(
        call,
        "Template",
        template_id,
        "TEMPLATE.CREATE",
        f"Creating template {spec.name} from the root volume of VM {vm['name']}",
        lambda job: capture.create_template(call.store, replace(command, job_id=job)),
    )
    return Submitted(str(job_id), str(template_id))


COMMANDS = (
    ApiCommand(
        "createTemplate",
        create_template,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True, max_length=4096),
            Param("ostypeid", P.UUID, required=True),
            Param("volumeid", P.UUID),
            Param("snapshotid", P.UUID),
            Param("virtualmachineid", P.UUID),
            Param("ispublic", P.BOOLEAN),
            Param("isfeatured", P.BOOLEAN),
            Param("passwordenabled", P.BOOLEAN),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param("requireshvm", P.BOOLEAN),
            Param("bits", P.INTEGER),
            Param("details", P.MAP),
            Param("templatetag", P.STRING),
            Param("url", P.STRING, max_length=2048),
        ),
        shape="async",
        is_async=True,
        item_key="template",
        render=latest_copy,
        description="Makes a template, owned by the VM's account, from the ROOT volume of a "
        "stopped virtual machine.",
        java_class="org.apache.cloudstack.api.command.user.template.CreateTemplateCmd",
    ),
)
