"""Domain: a node of the tenant tree (ROOT and its children) that accounts belong to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState

ROOT_PATH = "/"


def child_path(parent_path: str, name: str) -> str:
    """The path of a child domain, as operators write it: `/parent/child/`."""
    return f"{parent_path}{name}/"


class Domain(Aggregate):
    """A tenant domain; its path locates it in the tree and scopes domain administrators."""

    @event("Created")
    def __init__(self, name: str, parent_id: UUID | None, path: str, network_domain: str) -> None:
        if not name or "/" in name:
            raise InvalidParameter("Domain name must be non-empty and must not contain '/'")
        self.name = name
        self.parent_id = parent_id
        self.path = path
        self.network_domain = network_domain
        self.removed = False
        self.child_ids: list[UUID] = []
        self.account_ids: list[UUID] = []

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def rename(self, name: str) -> None:
        if self.is_root:
            raise InvalidParameter("ROOT domain can not be edited with a new name")
        if not name or "/" in name:
            raise InvalidParameter("Domain name must be non-empty and must not contain '/'")
        self._renamed(name=name)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    @event("NetworkDomainChanged")
    def change_network_domain(self, network_domain: str) -> None:
        self.network_domain = network_domain

    @event("ChildAttached")
    def attach_child(self, child_id: UUID) -> None:
        self.child_ids.append(child_id)

    @event("ChildDetached")
    def detach_child(self, child_id: UUID) -> None:
        self.child_ids.remove(child_id)

    @event("AccountAttached")
    def attach_account(self, account_id: UUID) -> None:
        self.account_ids.append(account_id)

    @event("AccountDetached")
    def detach_account(self, account_id: UUID) -> None:
        self.account_ids.remove(account_id)

    def remove(self) -> None:
        if self.is_root:
            raise InvalidParameter("Can't delete the ROOT domain")
        if self.removed:
            raise InvalidState(f"Domain {self.name} is already removed")
        if self.child_ids or self.account_ids:
            raise InvalidState(
                f"Domain {self.name} still has sub-domains or accounts; delete them first "
                "or ask for cleanup"
            )
        self._removed()

    @event("Removed")
    def _removed(self) -> None:
        self.removed = True
