"""AffinityGroup: an account's named rule for where its VMs may run, and the VMs it holds.

CloudStack 4.3 ships two types: `host anti-affinity` (no two members placed on one host at
once) and `ExplicitDedication` (members land only on resources dedicated to the group, see
domain/dedication.py).
A member is placed while it holds room on a host (Starting, Running, Stopping). `VmAffinity` is
a VM's side: the groups it is in, so a start or an expunge finds them without a read model.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState

HOST_ANTI_AFFINITY = "host anti-affinity"
EXPLICIT_DEDICATION = "ExplicitDedication"  # made by dedicating resources (domain/dedication.py)
TYPES = (HOST_ANTI_AFFINITY, EXPLICIT_DEDICATION)
_NAMESPACE = UUID("0c4e9b1a-7d2f-4a86-9e35-b1f08d6c2a47")


def vm_affinity_id(vm_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"vm:{vm_id}")


def check_type(group_type: str) -> None:
    if group_type not in TYPES:
        raise InvalidParameter(
            f"Unable to create affinity group, invalid affinity group type {group_type}"
        )


class AffinityGroup(Aggregate):
    """An affinity group of one account; its members by VM id."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        name: str,
        description: str,
        group_type: str,
        owner_account_id: UUID | None,
        owner_domain_id: UUID,
    ) -> None:
        """A group of one account; an explicit dedication group of a domain has no account
        (every account of the domain's subtree may place VMs in it)."""
        if not name:
            raise InvalidParameter("An affinity group needs a name")
        check_type(group_type)
        self.name, self.description, self.group_type = name, description, group_type
        self.account_id, self.domain_id = owner_account_id, owner_domain_id
        self.members: set[UUID] = set()
        self.removed = False

    def join(self, vm_id: UUID) -> None:
        if self.removed:
            raise InvalidParameter(f"Unable to find affinity group by id {self.id}")
        if vm_id not in self.members:
            self._joined(vm_id=vm_id)

    @event("Joined")
    def _joined(self, vm_id: UUID) -> None:
        self.members = self.members | {vm_id}

    def leave(self, vm_id: UUID) -> None:
        if vm_id in self.members:
            self._left(vm_id=vm_id)

    @event("Left")
    def _left(self, vm_id: UUID) -> None:
        self.members = self.members - {vm_id}

    def delete(self) -> None:
        """As in 4.3, a group with members can be deleted: its members simply leave it."""
        if self.removed:
            raise InvalidState(f"Affinity group {self.name} has been deleted")
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.removed = True
        self.members = set()

    def keeps_apart(self, vm_id: UUID) -> frozenset[UUID]:
        """The members that `vm_id` may not share a host with under this group's rule."""
        if self.removed or self.group_type != HOST_ANTI_AFFINITY:
            return frozenset()
        return frozenset(self.members - {vm_id})


def admits(apart: Iterable[UUID], vms_on_host: Iterable[UUID]) -> bool:
    """Whether a host whose placed VMs are `vms_on_host` may take a VM kept apart from `apart`."""
    return not set(apart) & set(vms_on_host)


class VmAffinity(Aggregate):
    """The affinity groups one VM is in."""

    @staticmethod
    def create_id(vm_id: UUID) -> UUID:
        return vm_affinity_id(vm_id)

    @event("Opened")
    def __init__(self, vm_id: UUID) -> None:
        self.vm_id = vm_id
        self.group_ids: tuple[UUID, ...] = ()

    def set_groups(self, group_ids: Iterable[UUID]) -> None:
        wanted = tuple(dict.fromkeys(group_ids))
        if wanted != self.group_ids:
            self._groups_set(group_ids=list(wanted))

    @event("GroupsSet")
    def _groups_set(self, group_ids: list[UUID]) -> None:
        self.group_ids = tuple(group_ids)
