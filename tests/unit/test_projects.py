"""Projects, given-when-then on the aggregate and the ledgers' view of it, no I/O."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidParameter, InvalidState
from domain.project import InvitationState, Project, ProjectRole, ProjectState
from domain.resource_limits import holding

EARLY, LATE, LATER = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00", "2026-01-03"


def _project(owner: UUID | None = None) -> Project:
    return Project(uuid4(), "web", "web team", uuid4(), uuid4(), owner or uuid4(), uuid4())


def test_the_creator_is_its_admin_and_the_project_counts_against_the_creator() -> None:
    owner = uuid4()
    project = _project(owner)
    assert project.members == {str(owner): ProjectRole.ADMIN}
    assert project.state == ProjectState.ACTIVE
    held = holding(project)
    assert held is not None and held.account_id == owner and held.amounts == {"5": 1}


def test_an_account_added_twice_is_a_member_once() -> None:
    project, member = _project(), uuid4()
    project.add_member(member)
    project.add_member(member)
    kinds = [type(e).__name__ for e in project.collect_events()]
    assert kinds == ["Created", "MemberAdded"]


def test_an_invitation_is_accepted_once_and_a_second_is_refused_while_pending() -> None:
    project, member = _project(), uuid4()
    project.invite(uuid4(), member, LATE, active_since=EARLY)
    with pytest.raises(InvalidParameter, match="already a pending invitation"):
        project.invite(uuid4(), member, LATE, active_since=EARLY)
    invitation = project.pending_invitation(member)
    assert invitation is not None
    assert project.answer(invitation, accept=True, active_since=EARLY) is True
    assert project.members[str(member)] == ProjectRole.REGULAR
    assert project.invitations[invitation]["state"] == InvitationState.COMPLETED


def test_an_invitation_past_its_time_expires_instead_of_joining() -> None:
    project, member = _project(), uuid4()
    project.invite(uuid4(), member, EARLY, active_since=EARLY)
    invitation = project.pending_invitation(member)
    assert invitation is not None
    assert project.answer(invitation, accept=True, active_since=LATE) is False
    assert not project.is_member(member)
    assert project.invitations[invitation]["state"] == InvitationState.EXPIRED
    project.invite(uuid4(), member, LATER, active_since=LATE)  # a new one may be sent
    assert project.pending_invitation(member) not in (None, invitation)


def test_the_owner_cannot_be_removed_and_ownership_moves_to_members_only() -> None:
    owner, member, stranger = uuid4(), uuid4(), uuid4()
    project = _project(owner)
    project.add_member(member)
    with pytest.raises(InvalidParameter, match="owner of the project"):
        project.remove_member(owner, "alice")
    with pytest.raises(InvalidParameter, match="doesn't belong to the project"):
        project.hand_over(stranger, "carol", uuid4())
    project.hand_over(member, "bob", uuid4())
    assert project.members == {str(owner): ProjectRole.REGULAR, str(member): ProjectRole.ADMIN}
    project.remove_member(owner, "alice")
    assert not project.is_member(owner)
    moved = [e for e in project.collect_events() if type(e).__name__ == "OwnerChanged"]
    assert moved[0].from_account_id == owner  # the former owner's ledger gives the project back


def test_a_suspended_project_takes_no_accounts_and_a_deleted_one_nothing() -> None:
    project = _project()
    project.suspend()
    with pytest.raises(InvalidParameter, match="no longer active"):
        project.add_member(uuid4())
    assert project.activate() is True and project.activate() is False
    project.delete()
    held = holding(project)
    assert held is not None and held.amounts == {}
    with pytest.raises(InvalidState):
        project.describe("gone")


def test_an_emailed_invitation_lets_the_token_holder_join_and_keeps_only_the_hash() -> None:
    project, holder = _project(), uuid4()
    invitation = uuid4()
    project.invite_by_email(invitation, "bob@example.org", "hash-of-token", LATE)
    (invited,) = [e for e in project.collect_events() if type(e).__name__ == "InvitedByEmail"]
    assert (invited.email, invited.token_hash) == ("bob@example.org", "hash-of-token")
    assert project.pending_by_token("another-hash") is None
    found = project.pending_by_token("hash-of-token")
    assert found == str(invitation)
    assert project.answer(found, True, active_since=EARLY, answerer=holder)
    assert project.is_member(holder)
    assert project.invitations[found]["state"] == InvitationState.COMPLETED
    assert project.pending_by_token("hash-of-token") is None


def test_an_emailed_invitation_past_its_time_expires_and_nobody_joins() -> None:
    project, holder = _project(), uuid4()
    project.invite_by_email(uuid4(), "bob@example.org", "h", EARLY)
    found = project.pending_by_token("h")
    assert found is not None
    assert not project.answer(found, True, active_since=LATE, answerer=holder)
    assert not project.is_member(holder)
    assert project.invitations[found]["state"] == InvitationState.EXPIRED


def test_a_suspended_project_sends_no_emailed_invitation() -> None:
    project = _project()
    project.suspend()
    with pytest.raises(InvalidParameter, match="no longer active"):
        project.invite_by_email(uuid4(), "bob@example.org", "h", LATE)
