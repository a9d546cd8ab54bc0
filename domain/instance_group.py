"""InstanceGroup: an account's named folder of VMs (4.3's instance groups), and who is in it.

A group's name is unique in its account (held by a name claim). A VM is in one group at most:
the VM keeps which (`VirtualMachine.GroupChanged`), the group keeps its members, and a move
changes the VM, the group it leaves and the group it joins in one commit. Deleting a group
takes its VMs out of it; the VMs themselves stay.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState

CLAIM_KIND = "instance-group"
NAME_LIMIT = 255


def claim_key(account_id: UUID, name: str) -> str:
    return f"{account_id}/{name}"


def check_name(name: str) -> str:
    if not name or not name.strip():
        raise InvalidParameter("An instance group needs a name")
    if len(name) > NAME_LIMIT:
        raise InvalidParameter(f"An instance group name has at most {NAME_LIMIT} characters")
    return name


class InstanceGroup(Aggregate):
    """A named group of an account's VMs."""

    @event("Created")
    def __init__(self, id: UUID, name: str, account_id: UUID, domain_id: UUID) -> None:
        self.name = check_name(name)
        self.account_id, self.domain_id = account_id, domain_id
        self.members: list[UUID] = []
        self.deleted = False

    def _check_live(self) -> None:
        if self.deleted:
            raise InvalidState(f"Instance group {self.name} has been deleted")

    def rename(self, name: str) -> None:
        self._check_live()
        if name != self.name:
            self._renamed(name=check_name(name))

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def admit(self, vm_id: UUID) -> None:
        self._check_live()
        if vm_id not in self.members:
            self._member_added(vm_id=vm_id)

    @event("MemberAdded")
    def _member_added(self, vm_id: UUID) -> None:
        self.members.append(vm_id)

    def let_go(self, vm_id: UUID) -> None:
        """A VM leaves (a deleted group has let every VM go already)."""
        if vm_id in self.members and not self.deleted:
            self._member_removed(vm_id=vm_id)

    @event("MemberRemoved")
    def _member_removed(self, vm_id: UUID) -> None:
        self.members.remove(vm_id)

    def delete(self) -> None:
        self._check_live()
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.deleted = True
        self.members = []
