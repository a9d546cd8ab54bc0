"""Commands on alerts: raise one (generateAlert), archive or delete them (hidden, never erased)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands import Outcome, change
from domain.alert import Alert


@dataclass(frozen=True)
class RaiseAlert:
    type_code: int
    name: str
    description: str
    zone_id: UUID | None = None
    pod_id: UUID | None = None


def raise_alert(store: Any, command: RaiseAlert) -> Outcome:
    alert = Alert(
        command.type_code, command.name, command.description, command.zone_id, command.pod_id, None
    )
    return Outcome(store.last_position(store.save(alert)), alert.id)


def archive_alerts(store: Any, alert_ids: list[UUID]) -> int:
    """Archive each alert; returns the log position to wait for."""
    position = 0
    for alert_id in alert_ids:
        position = max(position, change(store, Alert, alert_id, Alert.archive).position)
    return position


def delete_alerts(store: Any, alert_ids: list[UUID]) -> int:
    position = 0
    for alert_id in alert_ids:
        position = max(position, change(store, Alert, alert_id, Alert.delete).position)
    return position
