"""The audit view behind listEvents: CloudStack-style events derived from the event log.

Async jobs give Scheduled, Started and Completed entries (Started and Completed point at the
Scheduled one as their parent). Changes made outside a job give one Completed entry each.
Who acted comes from the context stored with every event.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from domain.account import Account
from domain.audit_trail import AuditTrail
from domain.configuration import Configuration
from domain.domains import Domain
from domain.infrastructure import Container, Pod, Zone
from domain.job import Job
from domain.offering import DiskOffering, Offering, ServiceOffering
from domain.template import Template
from domain.user import User
from stratus.db import Cursor
from stratus.projection import Projection, Tables, on
from stratus.store.audit import meta_of

_NAMESPACE = UUID("0e3b8f6c-51a7-4f0e-9d0c-7f2b1c4a6e90")
_COLUMNS = (
    "(id, position, type, level, state, description, account_id, domain_id, user_id, "
    "parent_id, created)"
)


def entry_id(*parts: object) -> str:
    """The id of a listEvents entry, the same wherever it is computed (read model or feed)."""
    return str(uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


DIRECT: dict[type, tuple[str, str]] = {
    Domain.Created: ("DOMAIN.CREATE", "Creating domain {name}"),
    Domain.Renamed: ("DOMAIN.UPDATE", "Updating domain to {name}"),
    Domain.Removed: ("DOMAIN.DELETE", "Deleting domain"),
    Account.Created: ("ACCOUNT.CREATE", "Creating account {name}"),
    Account.Renamed: ("ACCOUNT.UPDATE", "Renaming account to {name}"),
    Account.Disabled: ("ACCOUNT.DISABLE", "Disabling account"),
    Account.Enabled: ("ACCOUNT.ENABLE", "Enabling account"),
    Account.Removed: ("ACCOUNT.DELETE", "Deleting account"),
    User.Created: ("USER.CREATE", "Creating user {username}"),
    User.Renamed: ("USER.UPDATE", "Updating user"),
    User.ProfileUpdated: ("USER.UPDATE", "Updating user"),
    User.PasswordChanged: ("USER.UPDATE", "Changing user password"),
    User.KeysRegistered: ("REGISTER.USER.KEY", "Registering API keys"),
    User.Disabled: ("USER.DISABLE", "Disabling user"),
    User.Enabled: ("USER.ENABLE", "Enabling user"),
    User.Removed: ("USER.DELETE", "Deleting user"),
    Configuration.ValueSet: ("CONFIGURATION.VALUE.EDIT", "Setting {name} ({scope})"),
    Zone.Created: ("ZONE.CREATE", "Creating zone {name}"),
    Pod.Created: ("POD.CREATE", "Creating pod {name}"),
    ServiceOffering.Created: ("SERVICE.OFFERING.CREATE", "Creating service offering {name}"),
    DiskOffering.Created: ("DISK.OFFERING.CREATE", "Creating disk offering {name}"),
    Template.Registered: ("TEMPLATE.CREATE", "Registering template {name}"),
    Template.Updated: ("TEMPLATE.UPDATE", "Updating template"),
    Template.Deleted: ("TEMPLATE.DELETE", "Deleting template"),
}

# Events shared by several aggregate classes name their class in `kind`; classes CloudStack
# reports no event for (clusters) are left out.
KINDED: dict[type, dict[str, tuple[str, str]]] = {
    Container.Updated: {
        "Zone": ("ZONE.EDIT", "Updating zone"),
        "Pod": ("POD.EDIT", "Updating pod"),
    },
    Container.Removed: {
        "Zone": ("ZONE.DELETE", "Deleting zone"),
        "Pod": ("POD.DELETE", "Deleting pod"),
    },
    Offering.Updated: {
        "ServiceOffering": ("SERVICE.OFFERING.EDIT", "Updating service offering"),
        "DiskOffering": ("DISK.OFFERING.EDIT", "Updating disk offering"),
    },
    Offering.Deleted: {
        "ServiceOffering": ("SERVICE.OFFERING.DELETE", "Deleting service offering"),
        "DiskOffering": ("DISK.OFFERING.DELETE", "Deleting disk offering"),
    },
}


def direct_entry(event: Any) -> tuple[str, str] | None:
    """(event type, description template) of a change recorded as one Completed entry."""
    found = DIRECT.get(type(event))
    if found is None and type(event) in KINDED:
        found = KINDED[type(event)].get(getattr(event, "kind", ""))
    return found


def describe(event: Any, text: str) -> str:
    """An entry's description: `text` with the event's fields filled in."""
    return text.format_map(_Fields(event))


def direct_event_types() -> set[str]:
    kinded = {entry[0] for entries in KINDED.values() for entry in entries.values()}
    return {kind for kind, _ in DIRECT.values()} | kinded


class EventsProjection(Projection):
    """One row per audit entry; archiving or deleting only hides rows, never touches the log."""

    name = "events"
    summary = "the CloudStack events (listEvents)"
    tables = ("events",)

    def _insert(self, c: Cursor, t: Tables, e: Any, row: dict[str, Any]) -> None:
        meta = meta_of(e)
        c.execute(
            f"INSERT INTO {t.events} {_COLUMNS} "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (
                row["id"],
                row.get("position", 0),
                row["type"],
                row.get("level", "INFO"),
                row["state"],
                row["description"],
                row.get("account_id", meta.get("account_id")),
                meta.get("domain_id"),
                row.get("user_id", meta.get("user_id")),
                row.get("parent_id"),
                e.timestamp.isoformat(),
            ),
        )

    def apply(self, event: Any, topic: str, cursor: Cursor, tables: Tables) -> None:
        entry = direct_entry(event)
        if entry is not None:
            if meta_of(event).get("job_id"):
                return  # reported by the job's own Scheduled/Started/Completed entries
            kind, text = entry
            self._insert(
                cursor,
                tables,
                event,
                {
                    "id": entry_id(event.originator_id, event.originator_version),
                    "type": kind,
                    "state": "Completed",
                    "description": describe(event, text),
                },
            )
            return
        if type(event) in KINDED:
            return  # a kind CloudStack reports no event for
        super().apply(event, topic, cursor, tables)

    @on(Job.Submitted)
    def job_submitted(self, e: Any, c: Cursor, t: Tables) -> None:
        self._insert(
            c,
            t,
            e,
            {
                "id": entry_id(e.originator_id, "scheduled"),
                "type": e.event_type,
                "state": "Scheduled",
                "description": e.description,
                "account_id": str(e.account_id),
                "user_id": str(e.user_id),
            },
        )

    @on(Job.Started)
    def job_started(self, e: Any, c: Cursor, t: Tables) -> None:
        self._job_step(c, t, e, "Started", "INFO", "Starting job")

    @on(Job.Succeeded)
    def job_succeeded(self, e: Any, c: Cursor, t: Tables) -> None:
        self._job_step(c, t, e, "Completed", "INFO", "Successfully completed")

    @on(Job.Failed)
    def job_failed(self, e: Any, c: Cursor, t: Tables) -> None:
        self._job_step(c, t, e, "Completed", "ERROR", f"Error: {e.message}")

    def _job_step(self, c: Cursor, t: Tables, e: Any, state: str, level: str, text: str) -> None:
        """An entry under the job's Scheduled one, whose type, text and owner it repeats (none
        without it). One statement, with nothing to read back: a batch of them is pipelined."""
        c.execute(
            f"INSERT INTO {t.events} {_COLUMNS} "
            "SELECT %s, 0, p.type, %s, %s, p.description || %s, p.account_id, %s, p.user_id, "
            f"p.id, %s FROM {t.events} AS p WHERE p.id = %s ON CONFLICT (id) DO NOTHING",
            (
                entry_id(e.originator_id, state),
                level,
                state,
                f". {text}",
                meta_of(e).get("domain_id"),
                e.timestamp.isoformat(),
                entry_id(e.originator_id, "scheduled"),
            ),
        )

    @on(AuditTrail.EntriesArchived)
    def entries_archived(self, e: Any, c: Cursor, t: Tables) -> None:
        self._mark(c, t, "archived", e.entry_ids)

    @on(AuditTrail.EntriesDeleted)
    def entries_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        self._mark(c, t, "hidden", e.entry_ids)

    def _mark(self, c: Cursor, t: Tables, column: str, entry_ids: tuple[str, ...]) -> None:
        # Only the view changes: the entries' events stay in the log.
        c.executemany(
            f"UPDATE {t.events} SET {column} = 1 WHERE id = %s", [(i,) for i in entry_ids]
        )

    @property
    def topics(self) -> frozenset[str]:
        from eventsourcing.utils import get_topic

        return super().topics | frozenset(get_topic(cls) for cls in (*DIRECT, *KINDED))


class _Fields(dict):  # type: ignore[type-arg]
    """Format fields from an event's attributes; a missing one prints as empty."""

    def __init__(self, event: Any) -> None:
        super().__init__(vars(event))

    def __missing__(self, key: str) -> str:
        # Creation events may carry their fields in one dict (an offering's `terms`).
        for value in self.values():
            if isinstance(value, dict) and key in value:
                return str(value[key])
        return ""


READ_MODELS = (EventsProjection,)
