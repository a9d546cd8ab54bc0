"""The resource details read model (listResourceDetails, and the details VMs and templates
show) and its queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.resource_details import ResourceDetails
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

DETAILS: Any = ResourceDetails  # events made by the library's decorator: type checkers cannot see


class ResourceDetailsProjection(Projection):
    """Keeps `resource_details`, and `resource_detail_owners` (whose details each aggregate
    holds)."""

    name = "resource_details"
    summary = "resource details (key/value pairs on resources)"
    tables = ("resource_details", "resource_detail_owners")

    @on(DETAILS.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.resource_detail_owners} (id, resource_type, resource_id, "
            "account_id, domain_id) VALUES (%s, %s, %s, %s, %s)",
            (
                str(e.originator_id),
                e.resource_type,
                str(e.resource_id),
                str(e.account_id),
                str(e.domain_id),
            ),
        )

    def _owner(self, e: Any, c: Cursor, t: Tables) -> tuple[str, str, str, str]:
        row = c.execute(
            f"SELECT * FROM {t.resource_detail_owners} WHERE id = %s", (str(e.originator_id),)
        ).fetchone()
        assert row is not None, f"resource details {e.originator_id} were never created"
        return row["resource_type"], row["resource_id"], row["account_id"], row["domain_id"]

    @on(DETAILS.Added)
    def added(self, e: Any, c: Cursor, t: Tables) -> None:
        kind, resource, account, domain = self._owner(e, c, t)
        for key, value in e.details.items():
            c.execute(
                f"DELETE FROM {t.resource_details} WHERE resource_type = %s AND resource_id = %s "
                "AND name = %s",
                (kind, resource, key),
            )
            c.execute(
                f"INSERT INTO {t.resource_details} (resource_type, resource_id, name, value, "
                "display, account_id, domain_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (kind, resource, key, value, int(e.display), account, domain),
            )

    @on(DETAILS.Removed)
    def removed(self, e: Any, c: Cursor, t: Tables) -> None:
        kind, resource, _account, _domain = self._owner(e, c, t)
        for key in e.keys:
            c.execute(
                f"DELETE FROM {t.resource_details} WHERE resource_type = %s AND resource_id = %s "
                "AND name = %s",
                (kind, resource, key),
            )


def shown_details(cursor: Cursor, resource_type: str, ids: Sequence[str]) -> dict[str, dict]:
    """The details shown to users (`fordisplay`) of these resources: id → {key: value}."""
    if not ids:
        return {}
    clause, params = in_list(cursor, "resource_id", list(ids))
    rows = cursor.execute(
        "SELECT resource_id, name, value FROM resource_details WHERE resource_type = %s "
        f"AND display = 1 AND {clause} ORDER BY name",
        [resource_type, *params],
    ).fetchall()
    found: dict[str, dict] = {}
    for row in rows:
        found.setdefault(row["resource_id"], {})[row["name"]] = row["value"]
    return found


READ_MODELS = (ResourceDetailsProjection,)
