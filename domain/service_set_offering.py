"""What network and VPC offerings share: terms naming their services, a state, updates and
deletion. Each kind says how it is called and what it refuses; the events are the kind's own
(`NetworkOffering.Updated`, `VpcOffering.Deleted`), as the library redefines a base's nested
event classes on each subclass."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.errors import InvalidParameter, InvalidState, ResourceInUse

OFFERING_STATES = ("Enabled", "Disabled")


def canonical(value: str, known: Iterable[str], what: str) -> str:
    """`value` in its canonical spelling (matched without regard to case)."""
    for name in known:
        if name.lower() == value.strip().lower():
            return name
    raise InvalidParameter(f"Invalid {what} {value}: use one of {', '.join(known)}")


class ServiceSetOffering(Aggregate):
    """An offering of services; a disabled one makes nothing new, a deleted one nothing."""

    KIND: ClassVar[str]  # "network offering", "VPC offering": what its refusals call it
    UPDATABLE: ClassVar[frozenset[str]]  # the terms an update may change, beside the state
    NOT_USABLE: ClassVar[type[Exception]] = InvalidState  # a disabled one used (4.3's codes)
    IN_USE: ClassVar[str]  # 4.3's refusal of a delete, with {name} and {using}

    def _begin(self, terms: dict[str, Any], state: str, is_default: bool) -> None:
        """What each kind's Created event sets (the library takes an aggregate's own `id`
        argument only from an `__init__` the class itself declares)."""
        self.terms = dict(terms)
        self.state = canonical(state, OFFERING_STATES, "state")
        self.is_default = is_default
        self.removed = False

    @property
    def _called(self) -> str:
        """The kind and name, to start a sentence with."""
        return f"{self.KIND[:1].upper()}{self.KIND[1:]} {self.name}"

    @property
    def name(self) -> str:
        return str(self.terms["name"])

    @property
    def services(self) -> dict[str, list[str]]:
        return dict(self.terms["services"])

    def check_usable(self) -> None:
        if self.removed:
            raise InvalidState(f"{self._called} has been deleted")
        if self.state != "Enabled":
            raise self.NOT_USABLE(f"{self._called} is not enabled")

    def update(self, changes: dict[str, Any]) -> None:
        if self.removed:
            raise InvalidState(f"{self._called} has been deleted")
        unknown = set(changes) - self.UPDATABLE - {"state"}
        if unknown:
            raise InvalidParameter(f"Cannot update {', '.join(sorted(unknown))} of a {self.KIND}")
        if "state" in changes:
            changes = {**changes, "state": canonical(changes["state"], OFFERING_STATES, "state")}
        if changes:
            self.trigger_event(self.Updated, changes=dict(changes))

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.state = self.changes.get("state", aggregate.state)
            aggregate.terms = {
                **aggregate.terms,
                **{k: v for k, v in self.changes.items() if k != "state"},
            }

    def delete(self, using: int) -> None:
        """Delete it unless it is a default one or `using` of what it made still exist."""
        if self.removed:
            raise InvalidState(f"{self._called} has already been deleted")
        if self.is_default:
            raise InvalidParameter(f"Default {self.KIND} can't be deleted")
        if using:
            raise ResourceInUse(self.IN_USE.format(name=self.name, using=using))
        self.trigger_event(self.Deleted)

    class Deleted(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.removed = True
