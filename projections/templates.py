"""Template read models: `templates` (ISOs too, format ISO), each one's copy per zone
(`template_zones`), the accounts it is shared with (`template_permissions`) and its offers for
download (`template_extracts`), with the one rule of who may launch a template or ISO."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.template import CopyState, Template
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on

_UPDATABLE = {
    "name": "name",
    "display_text": "display_text",
    "os_type_id": "os_type_id",
    "password_enabled": "password_enabled",
    "sort_key": "sort_key",
    "bootable": "bootable",
}
_COLUMNS = (
    "name",
    "display_text",
    "url",
    "hypervisor",
    "format",
    "os_type_id",
    "is_featured",
    "is_public",
    "is_extractable",
    "password_enabled",
    "requires_hvm",
    "bits",
    "checksum",
    "template_tag",
    "template_type",
    "cross_zones",
    "details",
    "sort_key",
)


def _column(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if name == "details":
        return orjson.dumps(value or {}).decode()
    if name == "os_type_id":
        return str(value)
    return value


class TemplatesProjection(Projection):
    """Keeps `templates` and `template_zones`."""

    name = "templates"
    summary = "templates and where they are"
    tables = ("templates", "template_zones", "template_permissions", "template_extracts")

    @on(Template.Registered)
    def registered(self, e: Any, c: Cursor, t: Tables) -> None:
        spec, owner = e.spec, e.owner
        names = (
            "id",
            *_COLUMNS,
            "bootable",
            "ssh_key_enabled",
            "source_template_id",
            "account_id",
            "domain_id",
            "domain_path",
            "created",
        )
        values = (
            str(e.originator_id),
            *(_column(name, spec[name]) for name in _COLUMNS),
            int(spec.get("bootable", True)),
            int(spec.get("ssh_key_enabled", False)),  # absent from templates registered before
            spec.get("source_template_id") or None,
            str(owner["account_id"]),
            str(owner["domain_id"]),
            owner["domain_path"],
            e.timestamp.isoformat(),
        )
        marks = ", ".join(["%s"] * len(names))
        c.execute(f"INSERT INTO {t.templates} ({', '.join(names)}) VALUES ({marks})", values)

    def _copy(self, c: Cursor, t: Tables, e: Any, state: str, **facts: Any) -> None:
        keys = (str(e.originator_id), str(e.zone_id))
        c.execute(f"DELETE FROM {t.template_zones} WHERE template_id = %s AND zone_id = %s", keys)
        c.execute(
            f"INSERT INTO {t.template_zones} (template_id, zone_id, state, reason, size, "
            "physical_size, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                *keys,
                state,
                facts.get("reason", ""),
                facts.get("size", 0),
                facts.get("physical", 0),
                e.timestamp.isoformat(),
            ),
        )

    @on(Template.DownloadRequested)
    def requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.DOWNLOADING)

    @on(Template.CaptureRequested)
    def capture_requested(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.DOWNLOADING)

    @on(Template.DownloadCompleted)
    def completed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.READY, size=e.size, physical=e.physical)
        c.execute(
            f"UPDATE {t.templates} SET size = %s WHERE id = %s", (e.size, str(e.originator_id))
        )

    @on(Template.ImageStored)
    def stored(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.template_zones} SET store_id = %s, cache_store_id = %s "
            "WHERE template_id = %s AND zone_id = %s",
            (e.store_id, e.cache_store_id or None, str(e.originator_id), str(e.zone_id)),
        )

    @on(Template.DownloadFailed)
    def failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.FAILED, reason=e.reason)

    @on(Template.DownloadAbandoned)
    def abandoned(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.FAILED, reason=e.reason)

    @on(Template.Updated)
    def updated(self, e: Any, c: Cursor, t: Tables) -> None:
        for key, value in e.changes.items():
            if key in _UPDATABLE:
                c.execute(
                    f"UPDATE {t.templates} SET {_UPDATABLE[key]} = %s WHERE id = %s",
                    (_column(key, value), str(e.originator_id)),
                )

    @on(Template.PermissionsSet)
    def permissions_set(self, e: Any, c: Cursor, t: Tables) -> None:
        template_id = str(e.originator_id)
        c.execute(
            f"UPDATE {t.templates} SET is_public = %s, is_featured = %s, is_extractable = %s "
            "WHERE id = %s",
            (int(e.is_public), int(e.is_featured), int(e.is_extractable), template_id),
        )
        c.execute(f"DELETE FROM {t.template_permissions} WHERE template_id = %s", (template_id,))
        for account_id in e.launchers:
            c.execute(
                f"INSERT INTO {t.template_permissions} (template_id, account_id) VALUES (%s, %s)",
                (template_id, account_id),
            )

    @on(Template.Extracted)
    def extracted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.template_extracts} (id, template_id, zone_id, account_id, mode, "
            "created, expires) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                str(e.extract_id),
                str(e.originator_id),
                str(e.zone_id),
                str(e.account_id),
                e.mode,
                e.timestamp.isoformat(),
                e.expires.isoformat(),
            ),
        )

    @on(Template.ZoneCopyDeleted)
    def zone_copy_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.template_zones} WHERE template_id = %s AND zone_id = %s",
            (str(e.originator_id), str(e.zone_id)),
        )

    @on(Template.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.templates} SET removed = 1 WHERE id = %s", (str(e.originator_id),))


def downloads_in_flight(cursor: Cursor, before: datetime) -> list[tuple[str, str]]:
    """Template copies still downloading, asked for before `before`: (template, zone) ids."""
    rows = cursor.execute(
        "SELECT template_id, zone_id, created FROM template_zones WHERE state = %s",
        (CopyState.DOWNLOADING,),
    ).fetchall()
    return [
        (row["template_id"], row["zone_id"])
        for row in rows
        if datetime.fromisoformat(str(row["created"])) < before
    ]


SHARED = (
    "EXISTS (SELECT 1 FROM template_permissions p WHERE p.template_id = {t}.id "
    "AND p.account_id = %s)"
)


def shared_clause(alias: str = "t") -> str:
    """SQL true when the template (table alias `alias`) is shared with the account given."""
    return SHARED.format(t=alias)


def may_launch(cursor: Cursor, row: dict[str, Any], account_id: str) -> bool:
    """Whether an account may launch (deploy from, attach) a template or ISO: its own, public,
    or shared with it. An administrator acting for an account is held to the same rule."""
    if row["is_public"] or row["account_id"] == account_id:
        return True
    found = cursor.execute(
        "SELECT 1 FROM template_permissions WHERE template_id = %s AND account_id = %s",
        (row["id"], account_id),
    ).fetchone()
    return found is not None


def launchers(cursor: Cursor, template_id: str) -> list[str]:
    """The accounts a template is shared with (ids), in a stable order."""
    rows = cursor.execute(
        "SELECT account_id FROM template_permissions WHERE template_id = %s ORDER BY account_id",
        (template_id,),
    ).fetchall()
    return [r["account_id"] for r in rows]


def extract_row(cursor: Cursor, extract_id: str) -> dict[str, Any] | None:
    """An offer for download with what it offers: the template's name, format, URL, whether it
    is still live, and whether its copy in the offer's zone is still ready."""
    row = cursor.execute(
        "SELECT x.*, t.name, t.url, t.format, t.removed, t.domain_path, z.state "
        "FROM template_extracts x JOIN templates t ON t.id = x.template_id "
        "LEFT JOIN template_zones z ON z.template_id = x.template_id AND z.zone_id = x.zone_id "
        "WHERE x.id = %s",
        (extract_id,),
    ).fetchone()
    return None if row is None else dict(row)


READ_MODELS = (TemplatesProjection,)
