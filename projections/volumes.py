"""The volumes read model (listVolumes) and the device slots data disks take on their VMs."""

from __future__ import annotations

from typing import Any

from domain.volume import Volume
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

VOLUME: Any = Volume  # events made by the library's decorator: type checkers cannot see them


def _id(e: Any) -> str:
    return str(e.originator_id)


# Every change of a volume's row ends the revision its listed JSON was rendered for.
_CHANGED = "listed = NULL, revision = revision + 1, "


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class VolumesProjection(Projection):
    """Keeps `volumes` and how many each account has (`volume_counts`)."""

    name = "volumes"
    tables = ("volumes", "volume_counts")

    @on(VOLUME.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        attached = e.vm_id is not None
        c.execute(
            f"INSERT INTO {t.volumes} (id, name, kind, account_id, domain_id, zone_id, vm_id, "
            "device_id, size_gb, disk_offering_id, template_id, state, created, attached, seq) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"(SELECT COALESCE(max(seq), 0) + 1 FROM {t.volumes}))",
            (
                _id(e),
                e.name,
                e.kind,
                str(e.owner_account_id),
                str(e.owner_domain_id),
                str(e.zone_id),
                _text(e.vm_id),
                0 if attached else None,
                e.size_gb,
                _text(e.disk_offering_id),
                _text(e.template_id),
                "Ready" if attached else "Allocated",
                e.timestamp.isoformat(),
                e.timestamp.isoformat() if attached else None,
            ),
        )
        self._count(c, t, str(e.owner_account_id), 1)

    def _count(self, c: Cursor, t: Tables, account_id: str, step: int) -> None:
        table = t.volume_counts
        c.execute(
            f"INSERT INTO {table} (account_id, n) VALUES (%s, %s) "
            f"ON CONFLICT (account_id) DO UPDATE SET n = {table}.n + %s",
            (account_id, step, step),
        )

    def _set(self, c: Cursor, t: Tables, e: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %s" for name in columns)
        c.execute(
            f"UPDATE {t.volumes} SET {_CHANGED}{assignments} WHERE id = %s",
            (*columns.values(), _id(e)),
        )

    @on(VOLUME.OwnerChanged)
    def owner_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, account_id=str(e.account_id), domain_id=str(e.domain_id))
        self._count(c, t, str(e.previous_account_id), -1)
        self._count(c, t, str(e.account_id), 1)

    @on(VOLUME.Attached)
    def attached(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(
            c,
            t,
            e,
            vm_id=str(e.vm_id),
            device_id=e.device_id,
            state="Ready",
            attached=e.timestamp.isoformat(),
        )

    @on(VOLUME.Detached)
    def detached(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, vm_id=None, device_id=None, attached=None)

    @on(VOLUME.Resized)
    def resized(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, size_gb=e.size_gb, disk_offering_id=_text(e.disk_offering_id))

    @on(VOLUME.Destroyed)
    def destroyed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, removed=1, vm_id=None, device_id=None)
        # The owner is the volume's own; a subquery keeps the handler from reading back.
        c.execute(
            f"UPDATE {t.volume_counts} SET n = n - 1 WHERE account_id = "
            f"(SELECT account_id FROM {t.volumes} WHERE id = %s)",
            (_id(e),),
        )


def device_ids_on_vm(cursor: Cursor, vm_id: str) -> frozenset[int]:
    """Device slots the volumes attached to a VM occupy."""
    rows = cursor.execute(
        "SELECT device_id FROM volumes WHERE vm_id = %s AND removed = 0", (vm_id,)
    ).fetchall()
    return frozenset(int(r["device_id"]) for r in rows if r["device_id"] is not None)


def volume_count(cursor: Cursor, scope: str, params: list[Any]) -> int:
    """Volumes not destroyed of the accounts `scope` (SQL on `a`, the accounts) selects."""
    row = cursor.execute(
        "SELECT COALESCE(sum(c.n), 0) AS n FROM volume_counts AS c "
        f"JOIN accounts AS a ON a.id = c.account_id WHERE {scope}",
        params,
    ).fetchone()
    return int(row["n"]) if row else 0
