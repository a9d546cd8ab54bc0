"""What the autoscale commands share about an account's autoscale objects (conditions,
policies, VM profiles, VM groups): their rows with the owner's names, the caller's reach,
their jobs and their listing pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import check_reach, list_scope
from api.cloudstack.common import limit_sql, resolve_owner_filters
from api.cloudstack.jobs import run_async
from api.dispatch import Call, Submitted
from domain.errors import InvalidParameter


def owned_select(table: str, extra_columns: str = "", joins: str = "") -> str:
    """Rows of `table` (as `x`) with their account's name, domain name and path."""
    return (
        "SELECT x.*, a.name AS account_name, a.domain_name AS domain_name, "
        f"a.domain_path AS domain_path{extra_columns} FROM {table} AS x "
        f"JOIN accounts AS a ON a.id = x.account_id{joins}"
    )


def owner_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": row["account_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


def owned_row(call: Call, select: str, object_id: str, what: str) -> dict[str, Any]:
    """An object the caller reaches: 431 when there is none, 531 when it is another's."""
    with call.read() as cursor:
        row = cursor.execute(select + " WHERE x.id = %s AND x.removed = 0", (object_id,)).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find {what}")
    check_reach(
        call.caller, account_id=row["account_id"], domain_path=row["domain_path"], what=what
    )
    return dict(row)


def autoscale_job(
    call: Call, kind: str, object_id: UUID, event: str, work: Any, creates: bool
) -> Submitted:
    """The command's job, on the object, with 4.3's event type."""
    return run_async(
        call,
        instance_type=kind,
        instance_id=object_id,
        event_type=event,
        description=f"{event.lower().replace('.', ' ')} {object_id}",
        work=work,
        creates=creates,
    )


def listed_page(
    call: Call,
    args: dict[str, Any],
    select: str,
    filters: list[tuple[str, Any]],
    *conditions: str,
) -> tuple[int, list[dict[str, Any]]]:
    """A page of the live objects the caller may list, narrowed by each (clause, value)
    whose value is given, and by the `conditions`."""
    scope = list_scope(
        call.caller, prefix="a.", account_column="id", **resolve_owner_filters(call, args)
    )
    where, params = ["x.removed = 0", scope.clause, *conditions], list(scope.params)
    for clause, value in [("x.id = %s", args.get("id")), *filters]:
        if value is not None and value != "":
            where.append(clause)
            params.append(value)
    sql = select + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute(f"SELECT count(*) AS n FROM ({sql}) AS q", params).fetchone()["n"]
        rows = cursor.execute(
            sql + " ORDER BY x.created, x.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return int(count), [dict(r) for r in rows]
