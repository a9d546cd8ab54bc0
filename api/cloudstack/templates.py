"""Templates and guest OS types: register, update, delete, copy, prepare, list (by template
filter), permissions, OS types. The reading, rendering and permission helpers serve ISOs too
(`api.cloudstack.isos`): an ISO is a template row of format ISO.

A template is listed once per zone it was registered in, with that zone's download state.
`templatefilter` (and `isofilter`) says which ones, relative to the caller:

- featured: public featured ones; community: public ones that are not featured;
- self: the caller's own (a domain admin's subtree; everything for a root admin);
- selfexecutable: own and ready; executable: ready, and own, public or shared with the caller;
- sharedexecutable: ready and shared with the caller's account (`updateTemplatePermissions`);
- all: every one (root admins only).

SYSTEM templates are shown to root admins only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from api.access import ALL_PROJECTS, Role, check_reach, list_scope
from api.cloudstack.common import (
    LIST_PROJECT_ID,
    OWNER_PARAMS,
    PROJECT_ID,
    account_row,
    domain_row,
    limit_sql,
    names_of,
    owner_of,
    project_filter,
    project_row,
    resolve_owner_filters,
)
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import run_async
from api.cloudstack.unbuilt import TAGS_MAP
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import templates as cmd
from domain.errors import InvalidParameter, NotFound, PermissionDenied
from domain.template import (
    ISO,
    OS_CATEGORIES,
    OS_TYPES,
    CopyState,
    FetchLimits,
    Permissions,
    TemplateSpec,
    os_type,
)
from projections.projects import project_of_account
from projections.resource_details import shown_details
from projections.storage import image_destination
from projections.templates import launchers, shared_clause
from stratus.actions import CAPABILITIES, Capability
from stratus.db import contains

P = ParamType
ALLOWED_SITES = "secstorage.allowed.internal.sites"
MAX_SIZE = "max.template.iso.size"
FILTERS = (
    "featured",
    "self",
    "selfexecutable",
    "sharedexecutable",
    "executable",
    "community",
    "all",
)
_JOINED = " FROM templates t LEFT JOIN template_zones z ON z.template_id = t.id WHERE "


# ---- reading ---------------------------------------------------------------------------


def _own(call: Call, args: dict[str, Any]) -> tuple[str, list[Any]]:
    """What the caller's `self` means: their own (their domain's, an administrator's), or with
    `projectid` the project's (`-1`: every project's the caller may see), as 4.3 lists them."""
    caller = call.caller
    if args.get("projectid"):
        scope = list_scope(caller, prefix="t.", projects=project_filter(call, args))
        return scope.clause, list(scope.params)
    if caller.role == Role.ROOT_ADMIN:
        return "1 = 1", []
    if caller.role == Role.DOMAIN_ADMIN:
        path = caller.domain_path
        return "substr(t.domain_path, 1, %s) = %s", [len(path), path]
    return "t.account_id = %s", [caller.account_id]


def _launcher(call: Call, args: dict[str, Any]) -> str:
    """Whose shared templates a list shows: the one project's named, else the caller's."""
    wanted = project_filter(call, args) if args.get("projectid") else ALL_PROJECTS
    return call.caller.account_id if wanted == ALL_PROJECTS else wanted


def filter_clause(call: Call, name: str, args: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL for one `templatefilter` (or `isofilter`) value as seen by the caller."""
    own, params = _own(call, args)
    ready = f"z.state = '{CopyState.READY}'"
    shared, account = shared_clause("t"), _launcher(call, args)
    if name == "featured":
        return "t.is_featured = 1 AND t.is_public = 1", []
    if name == "community":
        return "t.is_public = 1 AND t.is_featured = 0", []
    if name == "self":
        return own, params
    if name == "selfexecutable":
        return f"{own} AND {ready}", params
    if name == "executable":
        return f"({own} OR t.is_public = 1 OR {shared}) AND {ready}", [*params, account]
    if name == "sharedexecutable":
        return f"{shared} AND {ready}", [account]
    if call.caller.role != Role.ROOT_ADMIN:
        raise InvalidParameter("Filter all can be specified by admin only")
    return "1 = 1", []


def of_kind(iso: bool) -> str:
    """SQL keeping ISOs only, or templates only."""
    return f"t.format = '{ISO}'" if iso else f"t.format <> '{ISO}'"


def check_filter(name: str, param: str) -> None:
    if name not in FILTERS:
        raise InvalidParameter(f"Invalid {param} {name}: use " + ", ".join(FILTERS))


def where_clauses(
    call: Call, args: dict[str, Any], filter_name: str, iso: bool
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses (and their values) of a template or ISO list."""
    clause, params = filter_clause(call, filter_name, args)
    where = [of_kind(iso), clause]
    if not args.get("showremoved"):
        where.append("t.removed = 0")
    if call.caller.role != Role.ROOT_ADMIN:
        where.append("t.template_type <> 'SYSTEM'")
    for key, column in (("id", "t.id"), ("name", "t.name"), ("zoneid", "z.zone_id")):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("hypervisor") and not iso:  # an ISO boots on any hypervisor
        where.append("lower(t.hypervisor) = %s")
        params.append(args["hypervisor"].lower())
    for key, column in (("bootable", "t.bootable"), ("ispublic", "t.is_public")):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(int(args[key]))
    if args.get("isready") is not None:
        where.append("z.state = %s" if args["isready"] else "z.state <> %s")
        params.append(CopyState.READY)
    if args.get("keyword"):
        clause, values = contains(("t.name",), args["keyword"])
        where.append(clause)
        params += values
    owner = resolve_owner_filters(call, args)
    if {"account_id", "domain_path"} & owner.keys():  # the filter alone rules otherwise
        scope = list_scope(call.caller, prefix="t.", **owner)
        where.append(scope.clause)
        params += list(scope.params)
    narrow(args, "ISO" if iso else "Template", "t.id", where, params)
    return where, params


def select(call: Call, where: list[str], params: list[Any], suffix: str = "") -> Any:
    sql = _JOINED + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT t.*, z.zone_id, z.state, z.reason, z.size AS zone_size, z.store_id"
            + sql
            + " ORDER BY t.sort_key, t.created, t.id, z.created, z.zone_id"
            + suffix,
            params,
        ).fetchall()
    return rows, int(count)


def list_templates(call: Call, args: dict[str, Any]) -> Listing:
    check_filter(args["templatefilter"], "template filter")
    where, params = where_clauses(call, args, args["templatefilter"], iso=False)
    rows, count = select(call, where, params, limit_sql(args["paging"]))
    return Listing(render_templates(call, rows), count)


def render_templates(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items for joined template and zone rows, the names of a page fetched once each."""
    names = names_of(
        call,
        {
            "accounts": {r["account_id"] for r in rows},
            "domains": {r["domain_id"] for r in rows},
            "zones": {r["zone_id"] for r in rows if r["zone_id"]},
            "image_stores": {r["store_id"] for r in rows if r.get("store_id")},
        },
    )
    with call.read() as cursor:
        shown = shown_details(cursor, "Template", list({r["id"] for r in rows}))
    admin = call.caller.role == Role.ROOT_ADMIN
    return [
        _with_details(_with_store(render_template(row, names), row, names, admin), shown)
        for row in rows
    ]


def _with_store(
    body: dict[str, Any], row: dict[str, Any], names: dict[str, dict[str, str]], admin: bool
) -> dict[str, Any]:
    """The image store holding the zone's copy, as 4.3 names it to root administrators
    (`hostid`, `hostname`: the store's id and name)."""
    if admin and row.get("store_id"):
        body["hostid"] = row["store_id"]
        body["hostname"] = names["image_stores"].get(row["store_id"], "")
    return body


def _with_details(body: dict[str, Any], shown: dict[str, dict]) -> dict[str, Any]:
    """Details given at registration, and those added since (`addResourceDetail`)."""
    if shown.get(body["id"]):
        body["details"] = {**body.get("details", {}), **shown[body["id"]]}
    return body


def _status(row: dict[str, Any]) -> tuple[bool, str]:
    if row["state"] == CopyState.READY:
        return True, "Download Complete"
    if row["state"] == CopyState.DOWNLOADING:
        return False, "Downloading"
    if row["state"] == CopyState.FAILED:
        return False, row["reason"]
    return False, "Not Downloaded"


def render_template(row: dict[str, Any], names: dict[str, dict[str, str]]) -> dict[str, Any]:
    ready, status = _status(row)
    os = os_type(UUID(row["os_type_id"]))
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "ispublic": bool(row["is_public"]),
        "isfeatured": bool(row["is_featured"]),
        "isextractable": bool(row["is_extractable"]),
        "isready": ready,
        "status": status,
        "format": row["format"],
        "hypervisor": row["hypervisor"],
        "ostypeid": row["os_type_id"],
        "ostypename": os.description if os else "",
        "account": names["accounts"].get(row["account_id"], ""),
        "accountid": row["account_id"],
        "domainid": row["domain_id"],
        "domain": names["domains"].get(row["domain_id"], ""),
        "created": format_date(datetime.fromisoformat(row["created"])),
        "templatetype": row["template_type"],
        "passwordenabled": bool(row["password_enabled"]),
        "crossZones": bool(row["cross_zones"]),
        "bootable": bool(row["bootable"]),
        "isdynamicallyscalable": False,
        "sshkeyenabled": bool(row["ssh_key_enabled"]),
    }
    if row["format"] == ISO:
        del body["hypervisor"]  # an ISO boots on any: 4.3 names none
    if row["zone_id"]:
        body["zoneid"] = row["zone_id"]
        body["zonename"] = names["zones"].get(row["zone_id"], "")
    if ready:
        body["size"] = row["zone_size"]
    optional = {
        "checksum": row["checksum"],
        "templatetag": row["template_tag"],
        "sourcetemplateid": row.get("source_template_id"),
        "details": orjson.loads(row["details"]),
    }
    body.update({k: v for k, v in optional.items() if v})
    return body


def template_row(call: Call, template_id: str, iso: bool = False) -> dict[str, Any]:
    """A live template (or ISO) row; 431 when the id names no such thing."""
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM templates t WHERE id = %s AND removed = 0 AND " + of_kind(iso),
            (template_id,),
        ).fetchone()
    if row is None:
        raise not_found("id", template_id)
    return dict(row)


def owned_row(call: Call, template_id: str, iso: bool = False) -> dict[str, Any]:
    """A template (or ISO) the caller may change: their own, or one in an admin's reach."""
    row = template_row(call, template_id, iso)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the ISO" if iso else "the template",
    )
    return row


def listed(call: Call, template_id: str) -> Listing:
    rows, count = select(call, ["t.id = %s"], [template_id])
    return Listing(render_templates(call, rows), count)


def latest_copy(call: Call, template_id: str) -> dict[str, Any]:
    """A template (or ISO) as a finished job answers it: its copy asked for last (a copy's
    destination)."""
    items = listed(call, template_id).items
    if not items:
        raise NotFound(f"Unable to find template {template_id}", resource_ids=(template_id,))
    return items[-1]


# ---- changes ---------------------------------------------------------------------------


def owner_account(call: Call, args: dict[str, Any]) -> str:
    """The account a template is registered for: the caller's, a project's (`projectid`), or
    one an admin names."""
    if args.get("projectid"):
        return owner_of(call, args).account_id
    if not args["account"]:
        return call.caller.account_id
    if not args["domainid"]:
        raise InvalidParameter("Account must be specified with domainId parameter")
    domain = domain_row(call, args["domainid"])
    account = account_row(call, args["account"], domain["id"])
    check_reach(
        call.caller,
        account_id=account["id"],
        domain_path=account["domain_path"],
        what="that account",
    )
    return str(account["id"])


def register_zones(call: Call, zone: str) -> tuple[list[UUID], bool]:
    """The zones to download into and whether the template is cross-zone (`zoneid=-1`)."""
    with call.read() as cursor:
        if zone == "-1":
            rows = cursor.execute(
                "SELECT id FROM zones WHERE removed = 0 ORDER BY created, id"
            ).fetchall()
            if not rows:
                raise InvalidParameter("There is no zone to register the template in")
            return [UUID(r["id"]) for r in rows], True
        try:
            zone_id = str(UUID(zone))
        except ValueError:
            raise not_found("zoneid", zone) from None
        row = cursor.execute(
            "SELECT id FROM zones WHERE id = %s AND removed = 0", (zone_id,)
        ).fetchone()
    if row is None:
        raise not_found("zoneid", zone)
    return [UUID(row["id"])], False


def _check_rights(call: Call, args: dict[str, Any]) -> str:
    kind = (args["templatetype"] or "USER").upper()
    role = call.caller.role
    if args["isrouting"]:  # 4.3's router template: a SYSTEM one here, which routers start from
        if args["templatetype"] and kind != "SYSTEM":
            raise InvalidParameter(
                "A routing template (isrouting=true) is a SYSTEM template: leave templatetype out"
            )
        kind = "SYSTEM"
    if kind == "BUILTIN":
        raise InvalidParameter("BUILTIN templates are made by the cloud itself")
    if kind == "SYSTEM" and role != Role.ROOT_ADMIN:
        raise PermissionDenied("Only ROOT admins can register system templates")
    if args["isfeatured"] and role == Role.USER:
        raise PermissionDenied("Only administrators can register featured templates")
    return kind


def _details(groups: list[dict[str, str]] | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    for group in groups or ():
        merged.update(group)
    return merged


def fetch_limits(call: Call) -> FetchLimits:
    """The download limits in force now; they travel with the download request."""
    return FetchLimits(
        allowed_internal_sites=current_value(call, ALLOWED_SITES),
        max_size_gb=int(current_value(call, MAX_SIZE)),
    )


def register_template(call: Call, args: dict[str, Any]) -> Listing:
    kind = _check_rights(call, args)
    account_id = owner_account(call, args)
    zone_ids, cross_zones = register_zones(call, args["zoneid"])
    spec = TemplateSpec(
        name=args["name"],
        display_text=args["displaytext"],
        url=args["url"],
        hypervisor=args["hypervisor"],
        format=args["format"],
        os_type_id=UUID(args["ostypeid"]),
        is_featured=bool(args["isfeatured"]),
        is_public=bool(args["ispublic"]),
        is_extractable=bool(args["isextractable"]),
        password_enabled=bool(args["passwordenabled"]),
        ssh_key_enabled=bool(args["sshkeyenabled"]),
        requires_hvm=args["requireshvm"] is not False,
        bits=args["bits"] or 64,
        checksum=args["checksum"] or "",
        template_tag=args["templatetag"] or "",
        cross_zones=cross_zones,
        template_type=kind,
        details=_details(args["details"]),
        sort_key=args["sortkey"] or 0,
    )
    command = cmd.RegisterTemplate(
        spec,
        UUID(account_id),
        zone_ids,
        limits=fetch_limits(call),
        stores=store_choices(call, zone_ids),
    )
    outcome = call.write(cmd.register_template, command)
    return listed(call, str(outcome.id))


def update_image(call: Call, args: dict[str, Any], iso: bool) -> dict[str, Any]:
    """updateTemplate and updateIso: names, OS type, password, sort order, bootable."""
    owned_row(call, args["id"], iso)
    wire = {
        "name": "name",
        "display_text": "displaytext",
        "os_type_id": "ostypeid",
        "password_enabled": "passwordenabled",
        "sort_key": "sortkey",
        "bootable": "bootable",
    }
    changes = {key: args[name] for key, name in wire.items() if args.get(name) is not None}
    if "os_type_id" in changes:
        changes["os_type_id"] = UUID(changes["os_type_id"])
    call.write(cmd.update_template, cmd.UpdateTemplate(UUID(args["id"]), changes))
    return listed(call, args["id"]).items[0]


def update_template(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return update_image(call, args, iso=False)


def _check_unused(call: Call, row: dict[str, Any], zone: str | None) -> None:
    """An ISO in a VM's CD drive (in the zone, when one copy goes) is not deleted."""
    sql = "SELECT name FROM virtual_machines WHERE iso_id = %s AND removed = 0"
    params = [row["id"]]
    if zone:
        sql += " AND zone_id = %s"
        params.append(zone)
    with call.read() as cursor:
        found = cursor.execute(sql + " ORDER BY name LIMIT 1", params).fetchone()
    if found is not None:
        raise InvalidParameter(
            f"ISO {row['name']} is attached to virtual machine {found['name']}: detach it first"
        )


def delete_image(call: Call, args: dict[str, Any], iso: bool) -> Submitted:
    row = owned_row(call, args["id"], iso)
    zone_id = UUID(args["zoneid"]) if args["zoneid"] else None
    if iso:
        _check_unused(call, row, args["zoneid"])
    noun, kind = ("ISO", "ISO") if iso else ("template", "TEMPLATE")

    def work() -> dict[str, Any]:
        cmd.delete_template(call.store, UUID(row["id"]), zone_id)
        return {"success": True}

    return run_async(
        call,
        instance_type="Iso" if iso else "Template",
        instance_id=UUID(row["id"]),
        event_type=f"{kind}.DELETE",
        description=f"Deleting {noun} {row['name']}",
        work=work,
    )


def delete_template(call: Call, args: dict[str, Any]) -> Submitted:
    return delete_image(call, args, iso=False)


def store_choices(
    call: Call, zone_ids: list[UUID], named: str | None = None
) -> dict[UUID, cmd.StoreChoice]:
    """The image store each zone's new copy is written to (`image_destination`; `named`, an
    image store of each zone or of the region, 431 otherwise); zones with none are left out,
    and their adapters keep the image in their own store."""
    choices: dict[UUID, cmd.StoreChoice] = {}
    with call.read() as cursor:
        for zone in zone_ids:
            found = image_destination(cursor, str(zone), named)
            if found is None and named:
                raise InvalidParameter(
                    f"Unable to find image store with id {named} in zone {zone}",
                    resource_ids=(named,),
                )
            choice = cmd.store_choice(found)
            if choice is not None:
                choices[zone] = choice
    return choices


def store_kinds(call: Call, zone_ids: list[UUID]) -> dict[UUID, str]:
    """The kind of adapter keeping each zone's images (for ISOs, which name no hypervisor):
    that of the zone's first cluster whose adapters download images. Image stores of their
    own will take this over."""
    with call.read() as cursor:
        rows = cursor.execute(
            "SELECT zone_id, hypervisor FROM clusters WHERE removed = 0 ORDER BY created, id"
        ).fetchall()
    kinds: dict[UUID, str] = {}
    for row in rows:
        zone, kind = UUID(row["zone_id"]), row["hypervisor"]
        able = Capability.TEMPLATES in CAPABILITIES.get(kind.lower(), frozenset())
        if zone in zone_ids and able:
            kinds.setdefault(zone, kind)
    for zone in zone_ids:
        if zone not in kinds:
            raise InvalidParameter(
                f"Zone {zone} has no image store for ISOs yet: it needs a cluster whose "
                "hypervisor's adapters download images (KVM or Simulator)"
            )
    return kinds


def _zone_id(call: Call, zone: str, param: str) -> UUID:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT id FROM zones WHERE id = %s AND removed = 0", (zone,)
        ).fetchone()
    if row is None:
        raise not_found(param, zone)
    return UUID(row["id"])


def _source_zone(call: Call, row: dict[str, Any], given: str | None) -> UUID:
    """The zone a copy is made from: the one given, else one where the image is ready."""
    if given:
        return _zone_id(call, given, "sourcezoneid")
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT zone_id FROM template_zones WHERE template_id = %s AND state = %s "
            "ORDER BY created, zone_id",
            (row["id"], CopyState.READY),
        ).fetchone()
    if found is None:
        raise InvalidParameter(f"{row['name']} is not ready in any zone to copy from")
    return UUID(found["zone_id"])


def copy_image(call: Call, args: dict[str, Any], iso: bool) -> Submitted:
    """copyTemplate and copyIso: the image is fetched into another zone (from its URL)."""
    row = owned_row(call, args["id"], iso)
    destination = _zone_id(call, args["destzoneid"], "destzoneid")
    source = _source_zone(call, row, args["sourcezoneid"])
    kind = store_kinds(call, [destination])[destination] if iso else ""
    command = cmd.CopyTemplate(
        UUID(row["id"]),
        source,
        destination,
        fetch_limits(call),
        kind,
        store_choices(call, [destination]).get(destination),
    )
    noun, event = ("ISO", "ISO.COPY") if iso else ("template", "TEMPLATE.COPY")

    def work() -> dict[str, Any]:
        cmd.copy_template(call.store, command)
        return {"object": "iso" if iso else "template", "id": row["id"]}

    return run_async(
        call,
        instance_type="Iso" if iso else "Template",
        instance_id=UUID(row["id"]),
        event_type=event,
        description=f"Copying {noun} {row['name']} to zone {destination}",
        work=work,
    )


def copy_template(call: Call, args: dict[str, Any]) -> Submitted:
    return copy_image(call, args, iso=False)


def prepare_template(call: Call, args: dict[str, Any]) -> Listing:
    """Make sure a template is in a zone's image store: its download there is asked for when
    it is neither there nor on its way (a failed copy is tried again)."""
    row = template_row(call, args["templateid"])
    zone = _zone_id(call, args["zoneid"], "zoneid")
    with call.read() as cursor:
        copy = cursor.execute(
            "SELECT state FROM template_zones WHERE template_id = %s AND zone_id = %s",
            (row["id"], str(zone)),
        ).fetchone()
    if copy is None or copy["state"] == CopyState.FAILED:
        command = cmd.PrepareTemplate(
            UUID(row["id"]), zone, fetch_limits(call), store_choices(call, [zone]).get(zone)
        )
        call.write(cmd.prepare_template, command)
    rows, count = select(call, ["t.id = %s", "z.zone_id = %s"], [row["id"], str(zone)])
    return Listing(render_templates(call, rows), count)


# ---- permissions -----------------------------------------------------------------------


def _shared_accounts(call: Call, row: dict[str, Any], names: list[str]) -> tuple[str, ...]:
    """The accounts named, all in the template owner's domain (as 4.3 requires)."""
    found = []
    for name in names:
        try:
            found.append(str(account_row(call, name, row["domain_id"])["id"]))
        except NotFound:
            raise InvalidParameter(
                f"Unable to grant a launch permission to account {name} in domain id="
                f"{row['domain_id']}, account not found. No permissions updated, please verify "
                "the account names and retry."
            ) from None
    return tuple(found)


def _shared_projects(call: Call, row: dict[str, Any], ids: list[str]) -> tuple[str, ...]:
    """The accounts of the projects named (each one the caller may use), in the template
    owner's domain as an account shared with must be."""
    found = []
    for project_id in ids:
        project = project_row(call, project_id)
        if project["domain_id"] != row["domain_id"]:
            raise InvalidParameter(
                f"Unable to grant a launch permission to project id={project_id}: it is not in "
                f"domain id={row['domain_id']} of the owner. No permissions updated."
            )
        found.append(str(project["account_id"]))
    return tuple(found)


def update_permissions(call: Call, args: dict[str, Any], iso: bool) -> None:
    """updateTemplatePermissions and updateIsoPermissions."""
    row = owned_row(call, args["id"], iso)
    role = call.caller.role
    if args["isfeatured"] is not None and role == Role.USER:
        raise PermissionDenied("Only administrators can mark templates and ISOs featured")
    if args["isextractable"] is not None and role != Role.ROOT_ADMIN:
        raise InvalidParameter("Only ROOT admins are allowed to modify this attribute.")
    op = (args["op"] or "").lower()
    if (args["accounts"] or args["projectids"]) and not op:
        raise InvalidParameter("Please specify a valid operation (add, remove or reset)")
    accounts = _shared_accounts(call, row, args["accounts"] or [])
    change = Permissions(
        is_public=args["ispublic"],
        is_featured=args["isfeatured"],
        is_extractable=args["isextractable"],
        op=op,
        accounts=accounts + _shared_projects(call, row, args["projectids"] or []),
    )
    call.write(cmd.set_permissions, cmd.SetPermissions(UUID(row["id"]), change))


def update_template_permissions(call: Call, args: dict[str, Any]) -> None:
    update_permissions(call, args, iso=False)


def list_permissions(call: Call, args: dict[str, Any], iso: bool) -> dict[str, Any]:
    """Who may launch a template or ISO besides its owner; anyone may ask of a public one."""
    row = template_row(call, args["id"], iso)
    if not row["is_public"]:
        owned_row(call, args["id"], iso)
    with call.read() as cursor:
        ids = launchers(cursor, row["id"])
        projects = project_of_account(cursor, ids)
    accounts = [i for i in ids if i not in projects]
    names = names_of(call, {"accounts": set(accounts)})["accounts"]
    return {
        "id": row["id"],
        "ispublic": bool(row["is_public"]),
        "domainid": row["domain_id"],
        "account": sorted(names.get(i, i) for i in accounts),
        "projectids": sorted(str(p["id"]) for p in projects.values()),
    }


def list_template_permissions(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return list_permissions(call, args, iso=False)


def list_os_types(call: Call, args: dict[str, Any]) -> Listing:
    items = [
        {"id": str(t.id), "description": t.description, "oscategoryid": str(t.category_id)}
        for t in OS_TYPES
        if (args["id"] is None or str(t.id) == args["id"])
        and (args["oscategoryid"] is None or str(t.category_id) == args["oscategoryid"])
        and (not args.get("description") or args["description"].lower() in t.description.lower())
        and (not args.get("keyword") or args["keyword"].lower() in t.description.lower())
    ]
    return _page(items, args)


def list_os_categories(call: Call, args: dict[str, Any]) -> Listing:
    items = [
        {"id": str(category), "name": name}
        for category, name in OS_CATEGORIES
        if (args["id"] is None or str(category) == args["id"])
        and (args["name"] is None or name == args["name"])
        and (not args.get("keyword") or args["keyword"].lower() in name.lower())
    ]
    return _page(items, args)


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> Listing:
    paging = args["paging"]
    end = None if paging.limit is None else paging.offset + paging.limit
    return Listing(items[paging.offset : end], len(items))


# ---- the table -------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)
PERMISSION_PARAMS = (
    ID,
    Param("accounts", P.LIST, element=P.STRING),
    Param("op", P.STRING),
    Param("ispublic", P.BOOLEAN),
    Param("isfeatured", P.BOOLEAN),
    Param("isextractable", P.BOOLEAN),
    Param("projectids", P.LIST, element=P.UUID),
)

COMMANDS = (
    ApiCommand(
        "registerTemplate",
        register_template,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True, max_length=4096),
            Param("url", P.STRING, required=True, max_length=2048),
            Param("zoneid", P.STRING, required=True),
            Param("hypervisor", P.STRING, required=True),
            Param("format", P.STRING, required=True),
            Param("ostypeid", P.UUID, required=True),
            Param("isfeatured", P.BOOLEAN),
            Param("ispublic", P.BOOLEAN),
            Param("isextractable", P.BOOLEAN),
            Param("passwordenabled", P.BOOLEAN),
            Param("requireshvm", P.BOOLEAN),
            Param("bits", P.INTEGER),
            Param("checksum", P.STRING),
            Param("templatetag", P.STRING),
            Param(
                "templatetype",
                P.STRING,
                extension="registers system VM templates (SYSTEM), as later versions allow",
            ),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
            Param("details", P.MAP),
            Param(
                "sortkey",
                P.INTEGER,
                extension="sets the sort order at once, as updateTemplate does later",
            ),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param("isrouting", P.BOOLEAN),
            PROJECT_ID,
            Param("sshkeyenabled", P.BOOLEAN),
        ),
        shape="list",
        paged=False,
        item_key="template",
        description="Registers an existing template into the CloudStack cloud.",
    ),
    ApiCommand(
        "listTemplates",
        list_templates,
        (
            Param("templatefilter", P.STRING, required=True),
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("zoneid", P.UUID),
            Param("hypervisor", P.STRING),
            Param("showremoved", P.BOOLEAN),
            LIST_PROJECT_ID,
            TAGS_MAP,
            *OWNER_PARAMS,
        ),
        shape="list",
        item_key="template",
        description="List all public, private, and privileged templates.",
    ),
    ApiCommand(
        "updateTemplate",
        update_template,
        (
            ID,
            Param("name", P.STRING),
            Param("displaytext", P.STRING, max_length=4096),
            Param("ostypeid", P.UUID),
            Param("passwordenabled", P.BOOLEAN),
            Param("sortkey", P.INTEGER),
            Param("format", P.STRING),
            Param("bootable", P.BOOLEAN),
            Param("isdynamicallyscalable", P.BOOLEAN),
            Param(
                "isrouting",
                P.BOOLEAN,
                default=False,
                unsupported="router templates are registered with templatetype=SYSTEM",
            ),
        ),
        item_key="template",
        description="Updates attributes of a template.",
    ),
    ApiCommand(
        "deleteTemplate",
        delete_template,
        (ID, Param("zoneid", P.UUID)),
        shape="async",
        is_async=True,
        description="Deletes a template from the system.",
        java_class="org.apache.cloudstack.api.command.user.template.DeleteTemplateCmd",
    ),
    ApiCommand(
        "copyTemplate",
        copy_template,
        (ID, Param("destzoneid", P.UUID, required=True), Param("sourcezoneid", P.UUID)),
        shape="async",
        is_async=True,
        item_key="template",
        render=latest_copy,
        description="Puts a copy of a template into another zone.",
    ),
    ApiCommand(
        "prepareTemplate",
        prepare_template,
        (Param("templateid", P.UUID, required=True), Param("zoneid", P.UUID, required=True)),
        role=Role.ROOT_ADMIN,
        shape="list",
        paged=False,
        item_key="template",
        description="Makes sure a template is in a zone's image store, ready to deploy from.",
    ),
    ApiCommand(
        "updateTemplatePermissions",
        update_template_permissions,
        PERMISSION_PARAMS,
        shape="success",
        description="Makes a template public, featured or extractable, or shares it with "
        "accounts of its owner's domain (op add, remove or reset).",
    ),
    ApiCommand(
        "listTemplatePermissions",
        list_template_permissions,
        (ID,),
        item_key="templatepermission",
        description="Shows whether a template is public and the accounts it is shared with.",
    ),
    ApiCommand(
        "listOsTypes",
        list_os_types,
        (Param("id", P.UUID), Param("oscategoryid", P.UUID), Param("description", P.STRING)),
        shape="list",
        item_key="ostype",
        description="Lists all supported OS types for this cloud.",
    ),
    ApiCommand(
        "listOsCategories",
        list_os_categories,
        (Param("id", P.UUID), Param("name", P.STRING)),
        shape="list",
        item_key="oscategory",
        description="Lists all supported OS categories for this cloud.",
    ),
)
