"""Cisco UCS managers the cloud knows (their address and login) and the compute blades each one
had when it was added, with the service profile the cloud associated to a blade."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState
from domain.values import Secret


@dataclass
class Blade:
    dn: str
    profile_dn: str = ""
    host_id: UUID | None = None


class UcsManager(Aggregate):
    """One UCS manager of a zone and its blades."""

    @event("Added")
    def __init__(
        self,
        id: UUID,
        zone_id: UUID,
        name: str,
        url: str,
        username: str,
        password: Secret,
        blades: dict[str, str],
    ) -> None:
        """`blades` maps each blade's id (a UUID's text) to its dn."""
        self.zone_id, self.name, self.url = zone_id, name, url
        self.username, self.password = username, password
        self.blades = {UUID(blade_id): Blade(dn) for blade_id, dn in blades.items()}
        self.removed = False

    def _check_live(self) -> None:
        if self.removed:
            raise InvalidState(f"The UCS manager {self.name} has been removed")

    def blade(self, blade_id: UUID) -> Blade:
        """A blade to associate a profile to: 431 when the manager has no such blade."""
        self._check_live()
        blade = self.blades.get(blade_id)
        if blade is None:
            raise InvalidParameter(
                f"cannot find UCS blade[id:{blade_id}, ucs manager id:{self.id}]"
            )
        if blade.host_id is not None:
            raise InvalidState(
                f"blade[id:{blade_id}, dn:{blade.dn}] has been associated with "
                f"host[id:{blade.host_id}]"
            )
        return blade

    def associate(self, blade_id: UUID, profile_dn: str) -> None:
        self.blade(blade_id)
        self._associated(blade_id=blade_id, profile_dn=profile_dn)

    @event("ProfileAssociated")
    def _associated(self, blade_id: UUID, profile_dn: str) -> None:
        self.blades[blade_id].profile_dn = profile_dn

    def remove(self) -> None:
        self._check_live()
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
