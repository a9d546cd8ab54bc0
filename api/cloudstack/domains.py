"""Domains: the CloudStack commands, their parameters and responses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.common import domain_row, select_page
from api.cloudstack.jobs import run_async
from api.custom_ids import given_id
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from commands import identity as cmd
from domain.errors import PermissionDenied
from stratus.db import contains

P = ParamType
ADMIN_PKG = "org.apache.cloudstack.api.command.admin"


def render_domain(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        "level": int(row["level"]),
        "haschild": bool(row["has_children"]),
        "path": _display_path(row["path"]),
    }
    if row["parent_id"]:
        body["parentdomainid"] = row["parent_id"]
        body["parentdomainname"] = row["parent_name"]
    if row["network_domain"]:
        body["networkdomain"] = row["network_domain"]
    return body


def _display_path(path: str) -> str:
    return "ROOT" + path.rstrip("/") if path != "/" else "ROOT"


def domain_in_reach(call: Call, domain_id: str) -> dict[str, Any]:
    row = domain_row(call, domain_id)
    if not row["path"].startswith(call.caller.domain_path):
        raise PermissionDenied("Caller does not have permission to operate on that domain")
    return row


def list_domains(call: Call, args: dict[str, Any]) -> Listing:
    where = ["removed = 0", "substr(path, 1, %s) = %s"]
    params: list[Any] = [len(call.caller.domain_path), call.caller.domain_path]
    for column, value in (("id", args["id"]), ("name", args["name"]), ("level", args["level"])):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "domains", where, params, "path, id", args, render_domain)


def list_domain_children(call: Call, args: dict[str, Any]) -> Listing:
    """The children of a domain (the caller's own without `id`); with `isrecursive`, every
    domain below it."""
    parent = domain_in_reach(call, args["id"] or call.caller.domain_id)
    where, params = ["removed = 0"], []
    if args["isrecursive"]:
        where += ["substr(path, 1, %s) = %s", "id <> %s"]
        params += [len(parent["path"]), parent["path"], parent["id"]]
    else:
        where.append("parent_id = %s")
        params.append(parent["id"])
    if args["name"] is not None:
        where.append("name = %s")
        params.append(args["name"])
    if args.get("keyword"):
        clause, values = contains(("name",), args["keyword"])
        where.append(clause)
        params += values
    return select_page(call, "domains", where, params, "path, id", args, render_domain)


def create_domain(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    parent_id = args["parentdomainid"] or call.caller.domain_id
    domain_in_reach(call, parent_id)
    outcome = call.write(
        cmd.create_domain,
        cmd.CreateDomain(
            args["name"], UUID(parent_id), args["networkdomain"] or "", given_id(args["domainid"])
        ),
    )
    return render_domain(domain_row(call, str(outcome.id)))


def update_domain(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    domain_in_reach(call, args["id"])
    call.write(
        cmd.update_domain, cmd.UpdateDomain(UUID(args["id"]), args["name"], args["networkdomain"])
    )
    return render_domain(domain_row(call, args["id"]))


def delete_domain(call: Call, args: dict[str, Any]) -> Submitted:
    row = domain_in_reach(call, args["id"])
    if row["id"] == call.caller.domain_id:
        raise PermissionDenied("A domain administrator cannot delete their own domain")
    command = cmd.DeleteDomain(UUID(args["id"]), bool(args["cleanup"]))
    return run_async(
        call,
        instance_type="Domain",
        instance_id=UUID(args["id"]),
        event_type="DOMAIN.DELETE",
        description=f"Deleting domain {row['name']}",
        work=lambda: (cmd.delete_domain(call.store, command), {"success": True})[1],
    )


# 4.3 keeps domain changes to root admins; here a domain admin also runs them, below their own
# domain only (`domain_in_reach`), so a reseller can shape its own subtree.
SUBDOMAINS = "domain admins manage the domains below their own"

COMMANDS = (
    ApiCommand(
        "listDomains",
        list_domains,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("level", P.INTEGER, min_value=0),
            Param("listall", P.BOOLEAN),
        ),
        role=Role.DOMAIN_ADMIN,
        shape="list",
        item_key="domain",
        description="Lists domains",
    ),
    ApiCommand(
        "listDomainChildren",
        list_domain_children,
        (
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("isrecursive", P.BOOLEAN, default=False),
            Param("listall", P.BOOLEAN, default=False),
        ),
        role=Role.DOMAIN_ADMIN,
        shape="list",
        item_key="domain",
        description="Lists all children domains belonging to a specified domain",
    ),
    ApiCommand(
        "createDomain",
        create_domain,
        (
            Param("name", P.STRING, required=True),
            Param("parentdomainid", P.UUID),
            Param("networkdomain", P.STRING),
            Param("domainid", P.STRING),
        ),
        role=Role.DOMAIN_ADMIN,
        role_extension=SUBDOMAINS,
        item_key="domain",
        description="Creates a domain",
    ),
    ApiCommand(
        "updateDomain",
        update_domain,
        (
            Param("id", P.UUID, required=True),
            Param("name", P.STRING),
            Param("networkdomain", P.STRING),
        ),
        role=Role.DOMAIN_ADMIN,
        role_extension=SUBDOMAINS,
        item_key="domain",
        description="Updates a domain",
    ),
    ApiCommand(
        "deleteDomain",
        delete_domain,
        (Param("id", P.UUID, required=True), Param("cleanup", P.BOOLEAN, default=False)),
        role=Role.DOMAIN_ADMIN,
        role_extension=SUBDOMAINS,
        shape="async",
        is_async=True,
        java_class=f"{ADMIN_PKG}.domain.DeleteDomainCmd",
        description="Deletes a domain",
    ),
)
