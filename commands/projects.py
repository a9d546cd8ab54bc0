"""Commands on projects: create (with the project's own account), update, suspend, activate,
delete, and the accounts in a project (added, invited, answering, removed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from commands import Outcome
from commands.names import claimed, released
from domain.account import Account, AccountType
from domain.domains import Domain
from domain.errors import InvalidParameter, NotFound
from domain.project import (
    CLAIM_KIND,
    PROJECT_ACCOUNT_PREFIX,
    Project,
    check_name,
    claim_key,
)


def project_account_name(name: str, domain_id: UUID) -> str:
    """The name of a project's own account, as 4.3 makes it."""
    return f"{PROJECT_ACCOUNT_PREFIX}{name}-{domain_id}"


def _live(store: Any, project_id: UUID) -> Project:
    project: Project = store.get(Project, project_id, what="project")
    if project.is_deleted:
        raise NotFound(f"Unable to find project by id {project_id}")
    return project


def _saved(store: Any, project: Project, *others: Any) -> Outcome:
    return Outcome(store.last_position(store.save(project, *others)), project.id)


@dataclass(frozen=True)
class CreateProject:
    project_id: UUID
    name: str
    display_text: str
    domain_id: UUID
    owner_id: UUID
    owner_domain_id: UUID


def create_project(store: Any, command: CreateProject) -> Outcome:
    """The project, its account and its owner as its Admin, in one commit (the owner's project
    limit is checked by the ledgers in that commit)."""
    name = check_name(command.name)

    def attempt() -> Outcome:
        domain = store.get(Domain, command.domain_id, what="domain")
        account_name = project_account_name(name, domain.id)
        account = Account(account_name, domain.id, AccountType.PROJECT, "")
        project = Project(
            command.project_id,
            name,
            command.display_text,
            domain.id,
            account.id,
            command.owner_id,
            command.owner_domain_id,
        )
        domain.attach_account(account.id)
        claims = [
            claimed(
                store,
                CLAIM_KIND,
                claim_key(domain.id, name),
                project.id,
                f"Project with name {name} in domain id={domain.id}",
            ),
            claimed(
                store,
                "account",
                f"{domain.id}/{account_name}",
                account.id,
                f"The account {account_name} in domain {domain.name}",
            ),
        ]
        return _saved(store, project, account, domain, *claims)

    return store.run(attempt)


@dataclass(frozen=True)
class UpdateProject:
    project_id: UUID
    display_text: str | None = None
    # The new owner: (account id, account name, domain id).
    owner: tuple[UUID, str, UUID] | None = None


def update_project(store: Any, command: UpdateProject) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        if command.display_text is not None:
            project.describe(command.display_text)
        if command.owner is not None:
            project.hand_over(*command.owner)
        return _saved(store, project)

    return store.run(attempt)


@dataclass(frozen=True)
class AddAccount:
    project_id: UUID
    account_id: UUID


def add_account(store: Any, command: AddAccount) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        project.add_member(command.account_id)
        return _saved(store, project)

    return store.run(attempt)


def active_since(timeout_seconds: int) -> str:
    """The moment before which an invitation made is past the timeout, as its records keep it."""
    return (datetime.now(UTC) - timedelta(seconds=timeout_seconds)).isoformat()


@dataclass(frozen=True)
class InviteAccount:
    project_id: UUID
    account_id: UUID
    timeout_seconds: int


def invite_account(store: Any, command: InviteAccount) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        project.invite(
            uuid4(),
            command.account_id,
            datetime.now(UTC).isoformat(),
            active_since(command.timeout_seconds),
        )
        return _saved(store, project)

    return store.run(attempt)


def token_hash(token: str) -> str:
    """What the log keeps of an invitation token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class InviteByEmail:
    project_id: UUID
    invitation_id: UUID
    email: str
    token_hash: str


def invite_by_email(store: Any, command: InviteByEmail) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        project.invite_by_email(
            command.invitation_id, command.email, command.token_hash, datetime.now(UTC).isoformat()
        )
        return _saved(store, project)

    return store.run(attempt)


@dataclass(frozen=True)
class RemoveAccount:
    project_id: UUID
    account_id: UUID
    account_name: str


def remove_account(store: Any, command: RemoveAccount) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        project.remove_member(command.account_id, command.account_name)
        return _saved(store, project)

    return store.run(attempt)


@dataclass(frozen=True)
class AnswerInvitation:
    project_id: UUID
    account_id: UUID
    account_name: str
    accept: bool
    timeout_seconds: int
    # The hash of the e-mailed token it answers with; None answers the account's own invitation.
    token_hash: str | None = None


def answer_invitation(store: Any, command: AnswerInvitation) -> Outcome:
    """Accepts or declines the account's pending invitation. An expired one is marked so (and
    saved) before the refusal, as 4.3 does."""

    def attempt() -> tuple[Outcome, bool]:
        project = _live(store, command.project_id)
        if command.token_hash is None:
            invitation_id = project.pending_invitation(command.account_id)
        else:
            invitation_id = project.pending_by_token(command.token_hash)
        if invitation_id is None:
            raise InvalidParameter(
                f"Unable to find invitation for account name={command.account_name} to the "
                f"project id={command.project_id}"
            )
        answered = project.answer(
            invitation_id,
            command.accept,
            active_since(command.timeout_seconds),
            command.account_id,
        )
        return _saved(store, project), answered

    outcome, answered = store.run(attempt)
    if not answered:
        raise InvalidParameter(
            f"Invitation is expired for account id={command.account_name} to the project "
            f"id={command.project_id}"
        )
    return outcome


@dataclass(frozen=True)
class DeleteInvitation:
    project_id: UUID
    invitation_id: UUID


def delete_invitation(store: Any, command: DeleteInvitation) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, command.project_id)
        project.withdraw(str(command.invitation_id))
        return _saved(store, project)

    return store.run(attempt)


def suspend_project(store: Any, project_id: UUID) -> Outcome:
    """Suspended, its account disabled: nothing new is made for it until it is activated."""

    def attempt() -> Outcome:
        project = _live(store, project_id)
        account = store.get(Account, project.account_id, what="account")
        project.suspend()
        if account.state == "enabled":
            account.disable(lock=False)
        return _saved(store, project, account)

    return store.run(attempt)


def activate_project(store: Any, project_id: UUID) -> Outcome:
    def attempt() -> Outcome:
        project = _live(store, project_id)
        if not project.activate():
            return Outcome(store.last_position([]), project.id)
        account = store.get(Account, project.account_id, what="account")
        account.enable()
        return _saved(store, project, account)

    return store.run(attempt)


def delete_project(store: Any, project_id: UUID) -> Outcome:
    """The project, its account, its members and invitations are gone; its name is free."""

    def attempt() -> Outcome:
        project = _live(store, project_id)
        account = store.get(Account, project.account_id, what="account")
        domain = store.get(Domain, project.domain_id, what="domain")
        project.delete()
        account.remove()
        domain.detach_account(account.id)
        claims = [
            released(store, CLAIM_KIND, claim_key(domain.id, project.name)),
            released(store, "account", f"{domain.id}/{account.name}"),
        ]
        return _saved(store, project, account, domain, *[c for c in claims if c])

    return store.run(attempt)
