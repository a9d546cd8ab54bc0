"""Template read models: `templates` and each template's copy per zone (`template_zones`)."""

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
    tables = ("templates", "template_zones")

    @on(Template.Registered)
    def registered(self, e: Any, c: Cursor, t: Tables) -> None:
        spec, owner = e.spec, e.owner
        names = ("id", *_COLUMNS, "account_id", "domain_id", "domain_path", "created")
        values = (
            str(e.originator_id),
            *(_column(name, spec[name]) for name in _COLUMNS),
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

    @on(Template.DownloadCompleted)
    def completed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._copy(c, t, e, CopyState.READY, size=e.size, physical=e.physical)
        c.execute(
            f"UPDATE {t.templates} SET size = %s WHERE id = %s", (e.size, str(e.originator_id))
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
