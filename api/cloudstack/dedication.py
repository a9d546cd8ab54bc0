"""Dedicated zones, pods, clusters and hosts: dedicate*, listDedicated*, releaseDedicated*.

Root administrators dedicate a resource to a domain, or to one account of it. 4.3's refusals
answer at once (the aggregate refuses a second dedication again, for requests that race): the
resource already dedicated; a zone, pod or cluster above it dedicated to an owner the new one is
not part of; a resource below it dedicated to someone outside the new owner; a host below it
running VMs of other accounts. Placement reads the result (api/cloudstack/placement.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from api.access import Role
from api.cloudstack.common import account_row, domain_row, limit_sql
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import dedication as cmd
from domain.dedication import Owner, group_name
from domain.errors import InvalidParameter

P = ParamType
PKG = "org.apache.cloudstack.api.commands"


@dataclass(frozen=True)
class Kind:
    """One kind of resource that can be dedicated, and how the API names it."""

    name: str  # the domain's word: Zone, Pod, Cluster, Host
    table: str
    param: str  # zoneid, podid, clusterid, hostid
    item_key: str
    plural: str

    @property
    def label(self) -> str:
        return self.name.lower()


ZONE = Kind("Zone", "zones", "zoneid", "dedicatedzone", "Zones")
POD = Kind("Pod", "pods", "podid", "dedicatedpod", "Pods")
CLUSTER = Kind("Cluster", "clusters", "clusterid", "dedicatedcluster", "Clusters")
HOST = Kind("Host", "hosts", "hostid", "dedicatedhost", "Hosts")
KINDS = (ZONE, POD, CLUSTER, HOST)
_PARENTS = {"Pod": ("zone_id",), "Cluster": ("pod_id", "zone_id")}
_PARENTS["Host"] = ("cluster_id", "pod_id", "zone_id")
_COLUMN_KIND = {"zone_id": "Zone", "pod_id": "Pod", "cluster_id": "Cluster"}


# ---- reading ---------------------------------------------------------------------------------


def _select(kind: Kind) -> str:
    return (
        f"SELECT r.*, x.name AS resource_name, d.path AS domain_path FROM dedicated_resources "
        f"AS r JOIN {kind.table} AS x ON x.id = r.resource_id "
        "JOIN domains AS d ON d.id = r.domain_id WHERE x.removed = 0 AND r.kind = %s"
    )


def _render(kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        kind.param: row["resource_id"],
        f"{kind.label}name": row["resource_name"],
        "domainid": row["domain_id"],
        "accountid": row["account_id"],
        "affinitygroupid": row["affinity_group_id"],
    }
    return {k: v for k, v in body.items() if v is not None}


def _viewer(kind: Kind) -> Any:
    def view(call: Call, dedication: str) -> dict[str, Any]:
        with call.read() as cursor:
            row = cursor.execute(_select(kind) + " AND r.id = %s", (kind.name, dedication))
            found = row.fetchone()
        if found is None:
            raise not_found("id", dedication)
        return _render(kind, dict(found))

    return view


def _lister(kind: Kind) -> Any:
    def list_dedicated(call: Call, args: dict[str, Any]) -> Listing:
        where, params = ["r.removed = 0"], [kind.name]
        if args[kind.param]:
            where.append("r.resource_id = %s")
            params.append(str(args[kind.param]))
        if args["domainid"]:
            where.append("r.domain_id = %s")
            params.append(str(args["domainid"]))
        if args["account"]:
            if not args["domainid"]:
                raise InvalidParameter("Specify domainid with account")
            account = account_row(call, args["account"], str(args["domainid"]))
            where.append("r.account_id = %s")
            params.append(account["id"])
        if args["affinitygroupid"]:
            where.append("r.affinity_group_id = %s")
            params.append(str(args["affinitygroupid"]))
        sql = _select(kind) + "".join(f" AND {w}" for w in where)
        with call.read() as cursor:
            count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()
            rows = cursor.execute(
                sql + " ORDER BY r.created, r.id" + limit_sql(args["paging"]), params
            ).fetchall()
        return Listing([_render(kind, dict(r)) for r in rows], int(count["n"]))

    return list_dedicated


# ---- dedicating ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The owner a dedication is for, as the read models show it."""

    owner: Owner
    domain_path: str
    domain_name: str
    account_name: str | None

    def covers(self, row: dict[str, Any]) -> bool:
        """Whether a dedication or VM owned as `row` says (account_id, domain_path) is this
        owner's: the same account, or (a domain's dedication) anything in its subtree."""
        if self.owner.account_id is not None:
            return row["account_id"] == str(self.owner.account_id)
        return str(row["domain_path"]).startswith(self.domain_path)

    def within(self, row: dict[str, Any]) -> bool:
        """Whether this owner is part of the owner of a dedication above (`row`)."""
        if row["account_id"]:
            return str(self.owner.account_id) == row["account_id"]
        return self.domain_path.startswith(row["domain_path"])


def _target(call: Call, args: dict[str, Any]) -> Target:
    domain = domain_row(call, str(args["domainid"]))
    if not args["account"]:
        return Target(Owner(UUID(domain["id"])), domain["path"], domain["name"], None)
    account = account_row(call, args["account"], domain["id"])
    return Target(
        Owner(UUID(domain["id"]), UUID(account["id"])),
        domain["path"],
        domain["name"],
        account["name"],
    )


def _resource(call: Call, kind: Kind, resource_id: str) -> dict[str, Any]:
    with call.read() as cursor:
        row = cursor.execute(
            f"SELECT * FROM {kind.table} WHERE id = %s AND removed = 0", (resource_id,)
        ).fetchone()
    if row is None:
        raise not_found(kind.param, resource_id)
    return dict(row)


def _where(kind: Kind, row: dict[str, Any]) -> dict[str, UUID | None]:
    where: dict[str, UUID | None] = {"zone_id": None, "pod_id": None, "cluster_id": None}
    if kind is ZONE:
        where["zone_id"] = UUID(row["id"])
    for column in _PARENTS.get(kind.name, ()):
        where[column] = UUID(row[column])
    return where


def _dedications(cursor: Any, zone_id: str) -> list[dict[str, Any]]:
    rows = cursor.execute(
        "SELECT r.*, d.path AS domain_path FROM dedicated_resources AS r "
        "JOIN domains AS d ON d.id = r.domain_id WHERE r.removed = 0 AND r.zone_id = %s",
        (zone_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def _check(call: Call, kind: Kind, row: dict[str, Any], target: Target) -> None:
    """4.3's refusals of a dedication, from the read models."""
    where = _where(kind, row)
    zone_id = str(where["zone_id"])
    label = f"{kind.name} {row['name']}"
    with call.read() as cursor:
        dedications = _dedications(cursor, zone_id)
        hosts = _hosts_below(cursor, kind, row["id"])
        vms = _vms_on(cursor, hosts)
    if any(d["kind"] == kind.name and d["resource_id"] == row["id"] for d in dedications):
        raise InvalidParameter(f"{label} is already dedicated")
    for column in _PARENTS.get(kind.name, ()):
        above = _dedicated(dedications, _COLUMN_KIND[column], str(where[column]))
        if above is not None and not target.within(above):
            raise InvalidParameter(
                f"Cannot dedicate {label}: its {_COLUMN_KIND[column].lower()} is dedicated to "
                "another domain or account"
            )
    for below in dedications:
        if _is_below(kind, row["id"], below, hosts) and not target.covers(below):
            raise InvalidParameter(
                f"Cannot dedicate {label}: a {below['kind'].lower()} in it is dedicated to "
                "another domain or account"
            )
    for vm in vms:
        if not target.covers(vm):
            raise InvalidParameter(
                f"Cannot dedicate {label}: host {vm['host_name']} runs virtual machines of "
                "other accounts"
            )


def _dedicated(dedications: list[dict[str, Any]], kind: str, resource_id: str) -> Any:
    return next(
        (d for d in dedications if d["kind"] == kind and d["resource_id"] == resource_id), None
    )


def _is_below(kind: Kind, resource_id: str, d: dict[str, Any], hosts: list[dict]) -> bool:
    """Whether dedication `d` is of a resource inside this one."""
    if kind is HOST or d["kind"] == kind.name:
        return False
    column = {"Zone": "zone_id", "Pod": "pod_id", "Cluster": "cluster_id"}[kind.name]
    if d["kind"] == "Host":
        return any(h["id"] == d["resource_id"] for h in hosts)
    order = ("Zone", "Pod", "Cluster")
    return order.index(d["kind"]) > order.index(kind.name) and d[column] == resource_id


def _hosts_below(cursor: Any, kind: Kind, resource_id: str) -> list[dict[str, Any]]:
    column = {"Zone": "zone_id", "Pod": "pod_id", "Cluster": "cluster_id", "Host": "id"}
    rows = cursor.execute(
        f"SELECT id, name FROM hosts WHERE removed = 0 AND {column[kind.name]} = %s",
        (resource_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def _vms_on(cursor: Any, hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The user VMs on these hosts, with their owners and the host's name."""
    names = {h["id"]: h["name"] for h in hosts}
    found = []
    for host_id, host_name in names.items():
        rows = cursor.execute(
            "SELECT v.account_id, a.domain_path FROM virtual_machines AS v "
            "JOIN accounts AS a ON a.id = v.account_id "
            "WHERE v.host_id = %s AND v.removed = 0",
            (host_id,),
        ).fetchall()
        found += [dict(r, host_name=host_name) for r in rows]
    return found


def _dedicator(kind: Kind) -> Any:
    def dedicate(call: Call, args: dict[str, Any]) -> Submitted:
        row = _resource(call, kind, str(args[kind.param]))
        target = _target(call, args)
        _check(call, kind, row, target)
        command = cmd.Dedicate(
            kind.name,
            UUID(row["id"]),
            row["name"],
            target.owner,
            _where(kind, row),
            group_name(target.domain_name, target.account_name),
            uuid4(),
        )

        def work() -> dict[str, Any]:
            outcome = cmd.dedicate(call.store, command)
            return {"object": kind.item_key, "id": str(outcome.id)}

        return run_async(
            call,
            instance_type=kind.name,
            instance_id=UUID(row["id"]),
            event_type=f"DEDICATE.{kind.name.upper()}",
            description=f"Dedicating {kind.label} {row['name']}",
            work=work,
        )

    return dedicate


def _releaser(kind: Kind) -> Any:
    def release(call: Call, args: dict[str, Any]) -> Submitted:
        resource_id = str(args[kind.param])
        with call.read() as cursor:
            row = cursor.execute(
                "SELECT * FROM dedicated_resources WHERE kind = %s AND resource_id = %s "
                "AND removed = 0",
                (kind.name, resource_id),
            ).fetchone()
            others = 0
            if row is not None:
                others = cursor.execute(
                    "SELECT count(*) AS n FROM dedicated_resources WHERE removed = 0 "
                    "AND affinity_group_id = %s AND id <> %s",
                    (row["affinity_group_id"], row["id"]),
                ).fetchone()["n"]
        if row is None:
            raise InvalidParameter("No Dedicated Resource available to release")

        def work() -> dict[str, Any]:
            cmd.release(call.store, kind.name, UUID(resource_id), last_of_group=not others)
            return {"success": True}

        return run_async(
            call,
            instance_type=kind.name,
            instance_id=UUID(resource_id),
            event_type=f"DEDICATE.{kind.name.upper()}.RELEASE",
            description=f"Releasing dedicated {kind.label} {resource_id}",
            work=work,
        )

    return release


def _commands(kind: Kind) -> tuple[ApiCommand, ...]:
    owner = (Param("domainid", P.UUID, required=True), Param("account", P.STRING))
    return (
        ApiCommand(
            f"dedicate{kind.name}",
            _dedicator(kind),
            (Param(kind.param, P.UUID, required=True), *owner),
            role=Role.ROOT_ADMIN,
            shape="async",
            is_async=True,
            item_key=kind.item_key,
            render=_viewer(kind),
            java_class=f"{PKG}.Dedicate{kind.name}Cmd",
            description=f"Dedicates a {kind.label}.",
        ),
        ApiCommand(
            f"listDedicated{kind.plural}",
            _lister(kind),
            (
                Param(kind.param, P.UUID),
                Param("domainid", P.UUID),
                Param("account", P.STRING),
                Param("affinitygroupid", P.UUID),
            ),
            role=Role.ROOT_ADMIN,
            shape="list",
            item_key=kind.item_key,
            java_class=f"{PKG}.ListDedicated{kind.plural}Cmd",
            description=f"Lists dedicated {kind.label}s.",
        ),
        ApiCommand(
            f"releaseDedicated{kind.name}",
            _releaser(kind),
            (Param(kind.param, P.UUID, required=True),),
            role=Role.ROOT_ADMIN,
            shape="async",
            is_async=True,
            java_class=f"{PKG}.ReleaseDedicated{kind.name}Cmd",
            description=f"Release the dedication for {kind.label}",
        ),
    )


COMMANDS = tuple(c for kind in KINDS for c in _commands(kind))
