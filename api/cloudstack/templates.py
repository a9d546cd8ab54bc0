"""Templates and guest OS types: register, update, delete, list (by template filter), OS types.

A template is listed once per zone it was registered in, with that zone's download state.
`templatefilter` says which templates, relative to the caller:

- featured: public featured templates; community: public templates that are not featured;
- self: the caller's own (a domain admin's subtree; everything for a root admin);
- selfexecutable: own and ready; executable: ready, own or public;
- sharedexecutable: shared with the caller by another account (no sharing yet: none);
- all: every template (root admins only).

SYSTEM templates are shown to root admins only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from api.access import Role, can_reach, check_reach, list_scope
from api.cloudstack.common import (
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    names_of,
    resolve_owner_filters,
)
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import run_async
from api.cloudstack.unbuilt import PROJECT_ID, SSH_KEYS, TAGS_MAP
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.envelope import format_date
from api.params import Param, ParamType, not_found
from api.tagging import narrow
from commands import templates as cmd
from domain.errors import InvalidParameter, PermissionDenied
from domain.template import (
    OS_CATEGORIES,
    OS_TYPES,
    CopyState,
    FetchLimits,
    TemplateSpec,
    os_type,
)
from projections.resource_details import shown_details
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


def _own(call: Call) -> tuple[str, list[Any]]:
    caller = call.caller
    if caller.role == Role.ROOT_ADMIN:
        return "1 = 1", []
    if caller.role == Role.DOMAIN_ADMIN:
        path = caller.domain_path
        return "substr(t.domain_path, 1, %s) = %s", [len(path), path]
    return "t.account_id = %s", [caller.account_id]


def filter_clause(call: Call, name: str) -> tuple[str, list[Any]]:
    """SQL for one `templatefilter` value as seen by the caller."""
    own, params = _own(call)
    ready = f"z.state = '{CopyState.READY}'"
    if name == "featured":
        return "t.is_featured = 1 AND t.is_public = 1", []
    if name == "community":
        return "t.is_public = 1 AND t.is_featured = 0", []
    if name == "self":
        return own, params
    if name == "selfexecutable":
        return f"{own} AND {ready}", params
    if name == "executable":
        return f"({own} OR t.is_public = 1) AND {ready}", params
    if name == "sharedexecutable":
        return "1 = 0", []  # no template is shared with single accounts yet
    if call.caller.role != Role.ROOT_ADMIN:
        raise InvalidParameter("Filter all can be specified by admin only")
    return "1 = 1", []


def _where(call: Call, args: dict[str, Any]) -> tuple[list[str], list[Any]]:
    clause, params = filter_clause(call, args["templatefilter"])
    where = [clause] if args.get("showremoved") else ["t.removed = 0", clause]
    if call.caller.role != Role.ROOT_ADMIN:
        where.append("t.template_type <> 'SYSTEM'")
    for key, column in (("id", "t.id"), ("name", "t.name"), ("zoneid", "z.zone_id")):
        if args.get(key) is not None:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args.get("hypervisor"):
        where.append("lower(t.hypervisor) = %s")
        params.append(args["hypervisor"].lower())
    if args.get("keyword"):
        clause, values = contains(("t.name",), args["keyword"])
        where.append(clause)
        params += values
    owner = resolve_owner_filters(call, args)
    if {"account_id", "domain_path"} & owner.keys():  # the filter alone rules otherwise
        scope = list_scope(call.caller, prefix="t.", **owner)
        where.append(scope.clause)
        params += list(scope.params)
    narrow(args, "Template", "t.id", where, params)
    return where, params


def _select(call: Call, where: list[str], params: list[Any], suffix: str = "") -> Any:
    sql = _JOINED + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT t.*, z.zone_id, z.state, z.reason, z.size AS zone_size"
            + sql
            + " ORDER BY t.sort_key, t.created, t.id, z.zone_id"
            + suffix,
            params,
        ).fetchall()
    return rows, int(count)


def list_templates(call: Call, args: dict[str, Any]) -> Listing:
    if args["templatefilter"] not in FILTERS:
        raise InvalidParameter(
            f"Invalid template filter {args['templatefilter']}: use " + ", ".join(FILTERS)
        )
    where, params = _where(call, args)
    rows, count = _select(call, where, params, limit_sql(args["paging"]))
    return Listing(render_templates(call, rows), count)


def render_templates(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items for joined template and zone rows, the names of a page fetched once each."""
    names = names_of(
        call,
        {
            "accounts": {r["account_id"] for r in rows},
            "domains": {r["domain_id"] for r in rows},
            "zones": {r["zone_id"] for r in rows if r["zone_id"]},
        },
    )
    with call.read() as cursor:
        shown = shown_details(cursor, "Template", list({r["id"] for r in rows}))
    return [_with_details(render_template(row, names), shown) for row in rows]


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
        "bootable": True,
        "isdynamicallyscalable": False,
        "sshkeyenabled": False,
    }
    if row["zone_id"]:
        body["zoneid"] = row["zone_id"]
        body["zonename"] = names["zones"].get(row["zone_id"], "")
    if ready:
        body["size"] = row["zone_size"]
    optional = {
        "checksum": row["checksum"],
        "templatetag": row["template_tag"],
        "details": orjson.loads(row["details"]),
    }
    body.update({k: v for k, v in optional.items() if v})
    return body


def _template_row(call: Call, template_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            "SELECT * FROM templates WHERE id = %s AND removed = 0", (template_id,)
        ).fetchone()
    if row is None:
        raise not_found("id", template_id)
    return dict(row)


def _owned_row(call: Call, template_id: str) -> dict[str, Any]:
    """A template the caller may change: their own, or one in an admin's reach."""
    row = _template_row(call, template_id)
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the template",
    )
    return row


def _listed(call: Call, template_id: str) -> Listing:
    rows, count = _select(call, ["t.id = %s"], [template_id])
    return Listing(render_templates(call, rows), count)


def usable_template(call: Call, template_id: str, zone_id: str) -> dict[str, Any]:
    """A template the caller may deploy from in a zone: own (or in an admin's reach) or public,
    and downloaded there. The row of `templates`, with `zone_size` (bytes) added."""
    row = _template_row(call, template_id)
    caller = call.caller
    if not row["is_public"] and not _reachable(call, row):
        raise PermissionDenied(f"Caller does not have permission to use template {row['name']}")
    if row["template_type"] == "SYSTEM" and caller.role != Role.ROOT_ADMIN:
        raise PermissionDenied(f"Template {row['name']} is a system template")
    with call.read() as cursor:
        copy = cursor.execute(
            "SELECT state, reason, size FROM template_zones WHERE template_id = %s "
            "AND zone_id = %s",
            (template_id, zone_id),
        ).fetchone()
    if copy is None or copy["state"] != CopyState.READY:
        _, status = _status({"state": copy and copy["state"], "reason": copy and copy["reason"]})
        raise InvalidParameter(f"Template {row['name']} is not ready in zone {zone_id}: {status}")
    return row | {"zone_size": int(copy["size"])}


def _reachable(call: Call, row: dict[str, Any]) -> bool:
    return can_reach(call.caller, account_id=row["account_id"], domain_path=row["domain_path"])


# ---- changes ---------------------------------------------------------------------------


def _owner_account(call: Call, args: dict[str, Any]) -> str:
    """The account a template is registered for: the caller's, or one an admin names."""
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


def _zones(call: Call, zone: str) -> tuple[list[UUID], bool]:
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


def _fetch_limits(call: Call) -> FetchLimits:
    """The download limits in force now; they travel with the download request."""
    return FetchLimits(
        allowed_internal_sites=current_value(call, ALLOWED_SITES),
        max_size_gb=int(current_value(call, MAX_SIZE)),
    )


def register_template(call: Call, args: dict[str, Any]) -> Listing:
    kind = _check_rights(call, args)
    account_id = _owner_account(call, args)
    zone_ids, cross_zones = _zones(call, args["zoneid"])
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
        requires_hvm=args["requireshvm"] is not False,
        bits=args["bits"] or 64,
        checksum=args["checksum"] or "",
        template_tag=args["templatetag"] or "",
        cross_zones=cross_zones,
        template_type=kind,
        details=_details(args["details"]),
        sort_key=args["sortkey"] or 0,
    )
    command = cmd.RegisterTemplate(spec, UUID(account_id), zone_ids, limits=_fetch_limits(call))
    outcome = call.write(cmd.register_template, command)
    return _listed(call, str(outcome.id))


def update_template(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    _owned_row(call, args["id"])
    wire = {
        "name": "name",
        "display_text": "displaytext",
        "os_type_id": "ostypeid",
        "password_enabled": "passwordenabled",
        "sort_key": "sortkey",
    }
    changes = {key: args[name] for key, name in wire.items() if args.get(name) is not None}
    if "os_type_id" in changes:
        changes["os_type_id"] = UUID(changes["os_type_id"])
    call.write(cmd.update_template, cmd.UpdateTemplate(UUID(args["id"]), changes))
    return _listed(call, args["id"]).items[0]


def delete_template(call: Call, args: dict[str, Any]) -> Submitted:
    row = _owned_row(call, args["id"])
    zone_id = UUID(args["zoneid"]) if args["zoneid"] else None

    def work() -> dict[str, Any]:
        cmd.delete_template(call.store, UUID(row["id"]), zone_id)
        return {"success": True}

    return run_async(
        call,
        instance_type="Template",
        instance_id=UUID(row["id"]),
        event_type="TEMPLATE.DELETE",
        description=f"Deleting template {row['name']}",
        work=work,
    )


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
            Param(
                "isrouting",
                P.BOOLEAN,
                default=False,
                unsupported="router templates are registered with templatetype=SYSTEM",
            ),
            PROJECT_ID,
            Param("sshkeyenabled", P.BOOLEAN, default=False, unsupported=SSH_KEYS),
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
            PROJECT_ID,
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
