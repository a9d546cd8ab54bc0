"""What a resource, or a zone's hosts, VMs and routers, looked like at a past instant.

States are rebuilt by replaying the resource's own events up to the instant, with the domain's
classes (so upcasters apply). Which aggregates belong to a zone is a registry: each kind names
the events that create it and the field holding its zone, so VMs and routers plug in by adding
one ``ZoneMember`` when their aggregates exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.host import Host
from domain.system_vm import SystemVm
from domain.vm import VirtualMachine
from stratus.store.decoding import Decoder, plain
from stratus.store.readonly import LogSource

_HIDDEN = ("id", "version", "created_on", "modified_on")


@dataclass(frozen=True)
class ZoneMember:
    """A kind of aggregate that lives in a zone: the events creating it, its zone field."""

    label: str
    created_by: tuple[type, ...]
    zone_field: str = "zone_id"


ZONE_MEMBERS: list[ZoneMember] = [
    ZoneMember("hosts", (Host.Added,)),
    ZoneMember("system_vms", (SystemVm.Created,)),  # routers and the zone's system VMs
    ZoneMember("virtual_machines", (VirtualMachine.Deployed,)),
]


def register_zone_member(member: ZoneMember) -> None:
    """Let `audit at --zone` include another kind (virtual machines, routers, ...)."""
    if all(existing.label != member.label for existing in ZONE_MEMBERS):
        ZONE_MEMBERS.append(member)


def state_at(source: LogSource, decoder: Decoder, resource_id: UUID, at: datetime) -> Any:
    """The aggregate as it was at ``at`` (None if it did not exist yet), secrets masked."""
    aggregate = None
    for raw in source.events_of(resource_id):
        event = decoder.event(raw)
        if event.timestamp > at:
            break
        aggregate = event.mutate(aggregate)
    return aggregate


def describe(aggregate: Any, at: datetime) -> dict[str, Any]:
    state = {
        key: value
        for key, value in vars(aggregate).items()
        if not key.startswith("_") and key not in _HIDDEN
    }
    return {
        "id": str(aggregate.id),
        "type": type(aggregate).__name__,
        "version": aggregate.version,
        "as_of": at.isoformat(),
        "modified": aggregate.modified_on.isoformat(),
        "state": plain(state),
    }


def resource_at(
    source: LogSource, decoder: Decoder, resource_id: UUID, at: datetime
) -> dict[str, Any] | None:
    aggregate = state_at(source, decoder, resource_id, at)
    return None if aggregate is None else describe(aggregate, at)


def zone_at(source: LogSource, decoder: Decoder, zone_id: UUID, at: datetime) -> dict[str, Any]:
    """The zone and, per registered kind, every member that existed at ``at``."""
    result: dict[str, Any] = {"zone": resource_at(source, decoder, zone_id, at)}
    for member in ZONE_MEMBERS:
        found = []
        for raw in source.with_topics([get_topic(cls) for cls in member.created_by]):
            created = decoder.event(raw)
            if created.timestamp > at or getattr(created, member.zone_field, None) != zone_id:
                continue
            state = resource_at(source, decoder, raw.originator_id, at)
            if state is not None:
                found.append(state)
        result[member.label] = found
    return result
