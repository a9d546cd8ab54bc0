"""The volumes read model (listVolumes) and the device slots data disks take on their VMs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

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
    summary = "volumes"
    tables = ("volumes", "volume_counts", "volume_extracts")

    @on(VOLUME.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        attached = e.vm_id is not None
        upload = getattr(e, "upload", None) or {}  # volumes made before uploads have none
        state = "Ready" if attached else ("UploadOp" if upload else "Allocated")
        c.execute(
            f"INSERT INTO {t.volumes} (id, name, kind, account_id, domain_id, zone_id, vm_id, "
            "device_id, size_gb, disk_offering_id, template_id, state, created, attached, "
            "upload_url, upload_format, upload_status, snapshot_id, qos, seq) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
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
                state,
                e.timestamp.isoformat(),
                e.timestamp.isoformat() if attached else None,
                upload.get("url"),
                upload.get("format"),
                "Processing" if upload else None,
                (getattr(e, "snapshot", None) or {}).get("id"),  # older volumes: none
                # its storage QoS; volumes made before storage QoS have none
                orjson.dumps(getattr(e, "qos", None) or {}).decode(),
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
        self._count(c, t, str(e.from_account_id), -1)
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
        columns = {"size_gb": e.size_gb, "disk_offering_id": _text(e.disk_offering_id)}
        qos = getattr(e, "qos", None)  # None: unchanged (and in events from before QoS)
        if qos is not None:
            columns["qos"] = orjson.dumps(qos).decode()
        self._set(c, t, e, **columns)

    @on(VOLUME.Placed)
    def placed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, storage_id=str(e.pool_id), storage_name=e.pool_name, path=e.path)

    @on(VOLUME.Migrated)
    def migrated(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, storage_id=str(e.pool_id), storage_name=e.pool_name, path=e.path)

    @on(VOLUME.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        changes = {
            "path": e.path,
            "state": e.state,
            "storage_id": _text(e.pool_id),
            "storage_name": e.pool_name,
            "display": None if e.display is None else int(e.display),
            "chain_info": e.chain_info,
        }
        given = {k: v for k, v in changes.items() if v is not None}
        if given:
            self._set(c, t, e, **given)

    @on(VOLUME.Uploaded)
    def uploaded(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state="Uploaded", size_gb=e.size_gb, upload_status="Upload Complete")

    @on(VOLUME.UploadFailed)
    def upload_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._set(c, t, e, state="UploadError", upload_status=e.reason)

    @on(VOLUME.Extracted)
    def extracted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.volume_extracts} (id, volume_id, zone_id, account_id, mode, "
            "created, expires) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.extract_id),
                _id(e),
                str(e.zone_id),
                str(e.account_id),
                e.mode,
                e.timestamp.isoformat(),
                e.expires.isoformat(),
            ),
        )

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


def volume_extract_row(cursor: Cursor, extract_id: str) -> dict[str, Any] | None:
    """An offer of a volume for download, with what it offers: the volume's name, its image's
    URL and format, and whether it is still there."""
    row = cursor.execute(
        "SELECT x.*, v.name, v.upload_url AS url, v.upload_format AS format, v.removed, "
        "v.state FROM volume_extracts AS x JOIN volumes AS v ON v.id = x.volume_id "
        "WHERE x.id = %s",
        (extract_id,),
    ).fetchone()
    return None if row is None else dict(row)


def uploads_in_flight(cursor: Cursor, before: datetime) -> list[str]:
    """Uploaded volumes whose image is still being fetched, asked for before `before`."""
    rows = cursor.execute(
        "SELECT id, created FROM volumes WHERE state = %s AND removed = 0", ("UploadOp",)
    ).fetchall()
    return [row["id"] for row in rows if datetime.fromisoformat(str(row["created"])) < before]


def hidden_volumes(cursor: Cursor) -> bool:
    """Whether any volume is hidden from its owner (updateVolume `displayvolume=false`)."""
    row = cursor.execute(
        "SELECT 1 AS one FROM volumes WHERE display = 0 AND removed = 0 LIMIT 1"
    ).fetchone()
    return row is not None


def volume_count(cursor: Cursor, scope: str, params: list[Any]) -> int:
    """Volumes not destroyed of the accounts `scope` (SQL on `a`, the accounts) selects."""
    row = cursor.execute(
        "SELECT COALESCE(sum(c.n), 0) AS n FROM volume_counts AS c "
        f"JOIN accounts AS a ON a.id = c.account_id WHERE {scope}",
        params,
    ).fetchone()
    return int(row["n"]) if row else 0


READ_MODELS = (VolumesProjection,)
