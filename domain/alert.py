"""Alert: something an operator must know about, with CloudStack's alert type codes."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter

DEFAULT_TYPES: dict[int, str] = {
    0: "ALERT.MEMORY",
    1: "ALERT.CPU",
    2: "ALERT.STORAGE",
    3: "ALERT.STORAGE.ALLOCATED",
    4: "ALERT.NETWORK.PUBLICIP",
    5: "ALERT.NETWORK.PRIVATEIP",
    6: "ALERT.STORAGE.SECONDARY",
    7: "ALERT.COMPUTE.HOST",
    8: "ALERT.USERVM",
    9: "ALERT.SERVICE.DOMAINROUTER",
    10: "ALERT.SERVICE.CONSOLEPROXY",
    11: "ALERT.NETWORK.ROUTING",
    12: "ALERT.STORAGE.MISC",
    13: "ALERT.USAGE",
    14: "ALERT.MANAGEMENT",
    15: "ALERT.NETWORK.DOMAINROUTERMIGRATE",
    16: "ALERT.SERVICE.CONSOLEPROXYMIGRATE",
    17: "ALERT.USERVM.MIGRATE",
    18: "ALERT.NETWORK.VLAN",
    19: "ALERT.SERVICE.SSVM",
    20: "ALERT.USAGE.RESULT",
    21: "ALERT.STORAGE.DELETE",
    22: "ALERT.RESOURCE.COUNT",
    23: "ALERT.USAGE.SANITY",
    24: "ALERT.NETWORK.DIRECTPUBLICIP",
    25: "ALERT.STORAGE.LOCAL",
    26: "ALERT.RESOURCE.EXCEED",
    27: "ALERT.TYPE.SYNC",
}
HOST = 7


def check_type(type_code: int, name: str) -> None:
    """A default type code may only be raised under its own name; other codes are custom."""
    default = DEFAULT_TYPES.get(type_code)
    if default is not None and default.lower() != name.lower():
        raise InvalidParameter(
            f"There is a default alert having type {type_code} and name {default}"
        )


class Alert(Aggregate):
    """One raised alert; archiving or deleting only hides it from the alert list."""

    @event("Raised")
    def __init__(
        self,
        type_code: int,
        name: str,
        description: str,
        zone_id: UUID | None,
        pod_id: UUID | None,
        resource_id: UUID | None,
    ) -> None:
        check_type(type_code, name)
        self.type_code, self.name, self.description = type_code, name, description
        self.zone_id, self.pod_id, self.resource_id = zone_id, pod_id, resource_id
        self.archived = False
        self.deleted = False

    def archive(self) -> None:
        if not self.archived and not self.deleted:
            self._archived()

    @event("Archived")
    def _archived(self) -> None:
        self.archived = True

    def delete(self) -> None:
        if not self.deleted:
            self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.deleted = True


def host_alert(description: str, zone_id: UUID, pod_id: UUID, host_id: UUID) -> Alert:
    return Alert(HOST, DEFAULT_TYPES[HOST], description, zone_id, pod_id, host_id)
