"""Project: a group of accounts sharing resources (4.3's projects).

A project owns its resources through an account of its own (type project) in its domain; its
members are accounts, each an Admin or a Regular member, and its owner is the Admin that made
it (or was made owner). With invitations required, an account joins by accepting an
invitation. A suspended project refuses new resources; a deleted one is gone with its account.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidParameter, InvalidState

CLAIM_KIND = "project"
# A project's own account is named `PrjAcct-<project>-<domain id>`, as 4.3 names it.
PROJECT_ACCOUNT_PREFIX = "PrjAcct-"
NAME_LIMIT = 255


class ProjectState:
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    DISABLED = "Disabled"  # deleted: refuses everything while its resources are cleaned up


class ProjectRole:
    ADMIN = "Admin"
    REGULAR = "Regular"


class InvitationState:
    PENDING = "Pending"
    COMPLETED = "Completed"
    DECLINED = "Declined"
    EXPIRED = "Expired"


def claim_key(domain_id: UUID, name: str) -> str:
    return f"{domain_id}/{name}"


def check_name(name: str) -> str:
    if not name or not name.strip():
        raise InvalidParameter("A project needs a name")
    if len(name) > NAME_LIMIT:
        raise InvalidParameter(f"A project name has at most {NAME_LIMIT} characters")
    return name


class Project(Aggregate):
    """A project, its members and its invitations."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        name: str,
        display_text: str,
        domain_id: UUID,
        account_id: UUID,
        owner_id: UUID,
        owner_domain_id: UUID,
    ) -> None:
        self.name = check_name(name)
        self.display_text = display_text
        self.domain_id, self.account_id = domain_id, account_id
        self.owner_id, self.owner_domain_id = owner_id, owner_domain_id
        self.state = ProjectState.ACTIVE
        self.members: dict[str, str] = {str(owner_id): ProjectRole.ADMIN}
        # invitation id → {"account_id", "state", "created"}
        self.invitations: dict[str, dict[str, str]] = {}

    # ---- checks ------------------------------------------------------------------------------

    def _check_live(self) -> None:
        if self.state == ProjectState.DISABLED:
            raise InvalidState(f"Project {self.name} has been deleted")

    @property
    def is_deleted(self) -> bool:
        return self.state == ProjectState.DISABLED

    def is_member(self, account_id: UUID) -> bool:
        return str(account_id) in self.members

    def is_admin(self, account_id: UUID) -> bool:
        return self.members.get(str(account_id)) == ProjectRole.ADMIN

    def pending_invitation(self, account_id: UUID) -> str | None:
        for invitation_id, invitation in self.invitations.items():
            if (
                invitation["account_id"] == str(account_id)
                and invitation["state"] == InvitationState.PENDING
            ):
                return invitation_id
        return None

    # ---- changes -----------------------------------------------------------------------------

    def describe(self, display_text: str) -> None:
        self._check_live()
        if display_text != self.display_text:
            self._described(display_text=display_text)

    @event("DisplayTextChanged")
    def _described(self, display_text: str) -> None:
        self.display_text = display_text

    def hand_over(self, account_id: UUID, account_name: str, domain_id: UUID) -> None:
        """Makes a member the owner (its Admin); the former owner stays a Regular member, as in
        4.3. The project counts against its owner's project limit, so it moves with it."""
        self._check_live()
        if account_id == self.owner_id:
            return
        if not self.is_member(account_id):
            raise InvalidParameter(
                f"Account {account_name} doesn't belong to the project. Add it to the project "
                "first and then change the project's ownership"
            )
        self._owner_changed(
            account_id=account_id,
            owner_domain_id=domain_id,
            from_account_id=self.owner_id,
            from_domain_id=self.owner_domain_id,
        )

    @event("OwnerChanged")
    def _owner_changed(
        self, account_id: UUID, owner_domain_id: UUID, from_account_id: UUID, from_domain_id: UUID
    ) -> None:
        self.members[str(from_account_id)] = ProjectRole.REGULAR
        self.members[str(account_id)] = ProjectRole.ADMIN
        self.owner_id, self.owner_domain_id = account_id, owner_domain_id

    def add_member(self, account_id: UUID, role: str = ProjectRole.REGULAR) -> None:
        """Adds an account; one that is a member already stays as it is (4.3 answers success)."""
        self._check_live()
        self._check_open()
        if not self.is_member(account_id):
            self._member_added(account_id=account_id, role=role)

    def _check_open(self) -> None:
        if self.state != ProjectState.ACTIVE:
            raise InvalidParameter(
                f"Can't add account to the specified project id in state={self.state} as it's "
                "no longer active"
            )

    @event("MemberAdded")
    def _member_added(self, account_id: UUID, role: str) -> None:
        self.members[str(account_id)] = role

    def remove_member(self, account_id: UUID, account_name: str) -> None:
        self._check_live()
        if not self.is_member(account_id):
            raise InvalidParameter(
                f"Account {account_name} is not assigned to the project with specified id"
            )
        if self.is_admin(account_id):
            raise InvalidParameter(
                f"Unable to delete account {account_name} from the project with specified id as "
                "the account is the owner of the project"
            )
        self._member_removed(account_id=account_id)

    @event("MemberRemoved")
    def _member_removed(self, account_id: UUID) -> None:
        self.members.pop(str(account_id), None)
        for invitation_id, invitation in list(self.invitations.items()):
            if invitation["account_id"] == str(account_id):
                del self.invitations[invitation_id]

    def invite(self, invitation_id: UUID, account_id: UUID, at: str, active_since: str) -> None:
        """Invites an account; a completed invitation, or a pending one made after
        `active_since` (the invitation timeout ago), refuses another. An older pending one is
        expired and gives way, as a declined one does."""
        self._check_live()
        self._check_open()
        for old_id, old in list(self.invitations.items()):
            if old["account_id"] != str(account_id):
                continue
            pending = old["state"] == InvitationState.PENDING
            if old["state"] == InvitationState.COMPLETED or (
                pending and old["created"] > active_since
            ):
                raise InvalidParameter(
                    f"There is already a pending invitation for account id={account_id} to the "
                    f"project id={self.id}"
                )
            if pending:
                self._answered(invitation_id=old_id, state=InvitationState.EXPIRED)
            self._withdrawn(invitation_id=old_id)
        self._invited(invitation_id=invitation_id, account_id=account_id, at=at)

    def invite_by_email(self, invitation_id: UUID, email: str, token_hash: str, at: str) -> None:
        """Invites whoever holds the e-mailed token (4.3 keeps no account on such an invitation:
        the account that answers with the token joins). Only the token's hash is kept."""
        self._check_open()
        self._invited_by_email(
            invitation_id=invitation_id, email=email, token_hash=token_hash, at=at
        )

    @event("InvitedByEmail")
    def _invited_by_email(self, invitation_id: UUID, email: str, token_hash: str, at: str) -> None:
        self.invitations[str(invitation_id)] = {
            "account_id": "",
            "email": email,
            "token_hash": token_hash,
            "state": InvitationState.PENDING,
            "created": at,
        }

    def pending_by_token(self, token_hash: str) -> str | None:
        for invitation_id, invitation in self.invitations.items():
            if (
                invitation.get("token_hash") == token_hash
                and invitation["state"] == InvitationState.PENDING
            ):
                return invitation_id
        return None

    @event("Invited")
    def _invited(self, invitation_id: UUID, account_id: UUID, at: str) -> None:
        self.invitations[str(invitation_id)] = {
            "account_id": str(account_id),
            "state": InvitationState.PENDING,
            "created": at,
        }

    def answer(
        self, invitation_id: str, accept: bool, active_since: str, answerer: UUID | None = None
    ) -> bool:
        """The invited account (for an e-mailed invitation, `answerer`, the account that holds
        its token) accepts (and joins) or declines. Accepting an invitation made before
        `active_since` expires it instead and answers False."""
        self._check_live()
        invitation = self.invitations[invitation_id]
        if accept and invitation["created"] <= active_since:
            self._answered(invitation_id=invitation_id, state=InvitationState.EXPIRED)
            return False
        state = InvitationState.COMPLETED if accept else InvitationState.DECLINED
        self._answered(invitation_id=invitation_id, state=state)
        account_id = UUID(invitation["account_id"] or str(answerer))
        if accept and not self.is_member(account_id):
            self._member_added(account_id=account_id, role=ProjectRole.REGULAR)
        return True

    @event("InvitationAnswered")
    def _answered(self, invitation_id: str, state: str) -> None:
        self.invitations[invitation_id]["state"] = state

    def withdraw(self, invitation_id: str) -> None:
        self._check_live()
        if invitation_id not in self.invitations:
            raise InvalidParameter(f"Unable to find project invitation by id {invitation_id}")
        self._withdrawn(invitation_id=invitation_id)

    @event("InvitationDeleted")
    def _withdrawn(self, invitation_id: str) -> None:
        self.invitations.pop(invitation_id, None)

    def suspend(self) -> None:
        self._check_live()
        self._suspended()

    @event("Suspended")
    def _suspended(self) -> None:
        self.state = ProjectState.SUSPENDED

    def activate(self) -> bool:
        """Activates a suspended project; False when it was active already (4.3 answers it as
        it is)."""
        self._check_live()
        if self.state == ProjectState.ACTIVE:
            return False
        self._activated()
        return True

    @event("Activated")
    def _activated(self) -> None:
        self.state = ProjectState.ACTIVE

    def delete(self) -> None:
        self._check_live()
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.state = ProjectState.DISABLED
