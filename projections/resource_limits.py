"""The resource limits read model: the limits operators set on accounts and domains."""

from __future__ import annotations

from typing import Any

from domain.resource_limits import Ledger
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

LEDGER: Any = Ledger  # events made by the library's decorator: type checkers cannot see them


class ResourceLimitsProjection(Projection):
    """One row per owner and type whose limit was set (a limit set back to none has no row)."""

    name = "resource_limits"
    summary = "accounts' and domains' resource limits"
    tables = ("resource_limits",)

    @on(LEDGER.LimitSet)
    def limit_set(self, e: Any, c: Cursor, t: Tables) -> None:
        key = (str(e.owner_id), int(e.resource_type))
        c.execute(
            f"DELETE FROM {t.resource_limits} WHERE owner_id = %s AND resource_type = %s", key
        )
        if e.limit is not None:
            c.execute(
                f"INSERT INTO {t.resource_limits} (owner_id, owner_kind, resource_type, max) "
                "VALUES (%s, %s, %s, %s)",
                (*key[:1], e.owner_kind, key[1], int(e.limit)),
            )


def own_limits(cursor: Cursor, owner_ids: list[str]) -> dict[tuple[str, int], int]:
    """The limits set on these owners, by (owner id, type)."""
    if not owner_ids:
        return {}
    marks = ", ".join(["%s"] * len(owner_ids))
    rows = cursor.execute(
        f"SELECT owner_id, resource_type, max FROM resource_limits WHERE owner_id IN ({marks})",
        owner_ids,
    ).fetchall()
    return {(r["owner_id"], int(r["resource_type"])): int(r["max"]) for r in rows}


# An uploaded volume is kept on secondary storage until it is attached.
_UPLOADS = "'UploadOp', 'Uploaded'"

# What an owner holds, counted afresh from the read models (updateResourceCount): by type, the
# query over the resources of the accounts that `{owner}` selects.
_COUNTS: dict[int, str] = {
    0: "SELECT count(*) AS n FROM virtual_machines WHERE {owner} AND removed = 0 "
    "AND state NOT IN ('Destroyed', 'Expunging')",
    1: "SELECT count(*) AS n FROM public_ips WHERE {owner} AND state <> 'Free' AND is_system = 0",
    2: "SELECT count(*) AS n FROM volumes WHERE {owner} AND removed = 0 AND state <> 'UploadError'",
    3: "SELECT count(*) AS n FROM snapshots WHERE {owner} AND removed = 0",
    4: "SELECT count(*) AS n FROM templates WHERE {owner} AND removed = 0 "
    "AND template_type = 'USER'",
    6: "SELECT count(*) AS n FROM networks WHERE {owner} AND removed = 0 "
    "AND guest_type = 'Isolated'",
    7: "SELECT count(*) AS n FROM vpcs WHERE {owner} AND removed = 0",
    8: "SELECT coalesce(sum(cpu_number), 0) AS n FROM virtual_machines WHERE {owner} "
    "AND removed = 0 AND state NOT IN ('Destroyed', 'Expunging')",
    9: "SELECT coalesce(sum(memory), 0) AS n FROM virtual_machines WHERE {owner} "
    "AND removed = 0 AND state NOT IN ('Destroyed', 'Expunging')",
    10: "SELECT coalesce(sum(size_gb), 0) * 1073741824 AS n FROM volumes WHERE {owner} "
    f"AND removed = 0 AND state NOT IN ({_UPLOADS}, 'UploadError')",
    11: "SELECT (SELECT coalesce(sum(size_bytes), 0) FROM snapshots WHERE {owner} "
    "AND removed = 0) + (SELECT coalesce(sum(size), 0) FROM templates WHERE {owner} "
    "AND removed = 0 AND template_type = 'USER') + (SELECT coalesce(sum(size_gb), 0) * "
    "1073741824 FROM volumes WHERE {owner} AND removed = 0 "
    f"AND state IN ({_UPLOADS})) AS n",
}


def resource_counts(
    cursor: Cursor, *, account_id: str | None = None, domain_path: str | None = None
) -> dict[int, int]:
    """By type, what an account (or every account of a domain's subtree) holds now. Projects
    are not built: nothing holds them."""
    if account_id is not None:
        owner, params = "account_id = %s", [account_id]
    else:
        owner = "account_id IN (SELECT id FROM accounts WHERE substr(domain_path, 1, %s) = %s)"
        params = [len(domain_path or ""), domain_path]
    counts = dict.fromkeys(range(12), 0)
    for kind, sql in _COUNTS.items():
        times = sql.count("{owner}")
        row = cursor.execute(sql.format(owner=owner), params * times).fetchone()
        counts[kind] = int(row["n"] or 0)
    return counts


def counts_by_account(cursor: Cursor, account_ids: list[str]) -> dict[str, dict[int, int]]:
    """`resource_counts` for a page of accounts at once (one query per type, not per account)."""
    found = {account_id: dict.fromkeys(range(12), 0) for account_id in account_ids}
    if not account_ids:
        return found
    marks = ", ".join(["%s"] * len(account_ids))
    for kind, sql in _COUNTS.items():
        if kind == 11:
            continue
        grouped = sql.replace("SELECT ", "SELECT account_id, ", 1).format(
            owner=f"account_id IN ({marks})"
        )
        for row in cursor.execute(grouped + " GROUP BY account_id", account_ids).fetchall():
            found[row["account_id"]][kind] = int(row["n"] or 0)
    for table, size, extra in (
        ("snapshots", "size_bytes", ""),
        ("templates", "size", " AND template_type = 'USER'"),
        ("volumes", "size_gb * 1073741824", f" AND state IN ({_UPLOADS})"),
    ):
        rows = cursor.execute(
            f"SELECT account_id, coalesce(sum({size}), 0) AS n FROM {table} "
            f"WHERE account_id IN ({marks}) AND removed = 0{extra} GROUP BY account_id",
            account_ids,
        ).fetchall()
        for row in rows:
            found[row["account_id"]][11] += int(row["n"] or 0)
    return found


def vm_states_by_account(cursor: Cursor, account_ids: list[str]) -> dict[tuple[str, str], int]:
    """How many VMs each account has in each state, by (account id, state)."""
    if not account_ids:
        return {}
    marks = ", ".join(["%s"] * len(account_ids))
    rows = cursor.execute(
        "SELECT account_id, state, count(*) AS n FROM virtual_machines "
        f"WHERE account_id IN ({marks}) AND removed = 0 GROUP BY account_id, state",
        account_ids,
    ).fetchall()
    return {(r["account_id"], r["state"]): int(r["n"]) for r in rows}


READ_MODELS = (ResourceLimitsProjection,)
