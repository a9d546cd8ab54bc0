"""The projects read model (listProjects, listProjectAccounts, listProjectInvitations) and the
queries the API reads: a project by id, and the project accounts an account is a member of."""

from __future__ import annotations

from typing import Any

from domain.project import Project
from stratus.db import Cursor, in_list
from stratus.projection import Projection, Tables, on

PROJECT: Any = Project  # events made by the library's decorator: type checkers cannot see them


def _id(e: Any) -> str:
    return str(e.originator_id)


class ProjectsProjection(Projection):
    """Keeps `projects`, `project_members` and `project_invitations`."""

    name = "projects"
    summary = "projects, their member accounts and invitations"
    tables = ("projects", "project_members", "project_invitations")

    @on(PROJECT.Created)
    def created(self, e: Any, c: Cursor, t: Tables) -> None:
        at = e.timestamp.isoformat()
        c.execute(
            f"INSERT INTO {t.projects} (id, name, display_text, domain_id, account_id, owner_id, "
            "state, created) VALUES (%s, %s, %s, %s, %s, %s, 'Active', %s)",
            (
                _id(e),
                e.name,
                e.display_text,
                str(e.domain_id),
                str(e.account_id),
                str(e.owner_id),
                at,
            ),
        )
        self._member(c, t, e, str(e.owner_id), "Admin")

    def _member(self, c: Cursor, t: Tables, e: Any, account_id: str, role: str) -> None:
        c.execute(
            f"INSERT INTO {t.project_members} (project_id, account_id, project_account_id, role, "
            f"created) SELECT id, %s, account_id, %s, %s FROM {t.projects} WHERE id = %s "
            "ON CONFLICT (project_id, account_id) DO UPDATE SET role = excluded.role",
            (account_id, role, e.timestamp.isoformat(), _id(e)),
        )

    @on(PROJECT.DisplayTextChanged)
    def described(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.projects} SET display_text = %s WHERE id = %s", (e.display_text, _id(e))
        )

    @on(PROJECT.OwnerChanged)
    def owner_changed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.projects} SET owner_id = %s WHERE id = %s", (str(e.account_id), _id(e))
        )
        self._member(c, t, e, str(e.from_account_id), "Regular")
        self._member(c, t, e, str(e.account_id), "Admin")

    @on(PROJECT.MemberAdded)
    def member_added(self, e: Any, c: Cursor, t: Tables) -> None:
        self._member(c, t, e, str(e.account_id), e.role)

    @on(PROJECT.MemberRemoved)
    def member_removed(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"DELETE FROM {t.project_members} WHERE project_id = %s AND account_id = %s",
            (_id(e), str(e.account_id)),
        )
        c.execute(
            f"UPDATE {t.project_invitations} SET removed = 1 WHERE project_id = %s "
            "AND account_id = %s",
            (_id(e), str(e.account_id)),
        )

    @on(PROJECT.Invited)
    def invited(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.project_invitations} (id, project_id, account_id, state, created) "
            "VALUES (%s, %s, %s, 'Pending', %s)",
            (str(e.invitation_id), _id(e), str(e.account_id), e.at),
        )

    @on(PROJECT.InvitedByEmail)
    def invited_by_email(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"INSERT INTO {t.project_invitations} "
            "(id, project_id, account_id, email, state, created) "
            "VALUES (%s, %s, '', %s, 'Pending', %s)",
            (str(e.invitation_id), _id(e), e.email, e.at),
        )

    @on(PROJECT.InvitationAnswered)
    def answered(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.project_invitations} SET state = %s WHERE id = %s",
            (e.state, e.invitation_id),
        )

    @on(PROJECT.InvitationDeleted)
    def invitation_deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.project_invitations} SET removed = 1 WHERE id = %s", (e.invitation_id,)
        )

    @on(PROJECT.Suspended)
    def suspended(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.projects} SET state = 'Suspended' WHERE id = %s", (_id(e),))

    @on(PROJECT.Activated)
    def activated(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(f"UPDATE {t.projects} SET state = 'Active' WHERE id = %s", (_id(e),))

    @on(PROJECT.Deleted)
    def deleted(self, e: Any, c: Cursor, t: Tables) -> None:
        c.execute(
            f"UPDATE {t.projects} SET state = 'Disabled', removed = 1 WHERE id = %s", (_id(e),)
        )
        c.execute(f"DELETE FROM {t.project_members} WHERE project_id = %s", (_id(e),))
        c.execute(
            f"UPDATE {t.project_invitations} SET removed = 1 WHERE project_id = %s", (_id(e),)
        )


PROJECT_SELECT = (
    "SELECT p.id, p.name, p.display_text, p.domain_id, p.account_id, p.owner_id, p.state, "
    "p.created, d.name AS domain_name, d.path AS domain_path, o.name AS owner_name "
    "FROM projects AS p JOIN domains AS d ON d.id = p.domain_id "
    "LEFT JOIN accounts AS o ON o.id = p.owner_id"
)


def project_by_id(cursor: Cursor, project_id: str) -> dict[str, Any] | None:
    found = cursor.execute(PROJECT_SELECT + " WHERE p.id = %s AND p.removed = 0", (project_id,))
    row = found.fetchone()
    return None if row is None else dict(row)


def project_of_account(cursor: Cursor, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The live projects whose own accounts these are, by account id."""
    if not account_ids:
        return {}
    among, values = in_list(cursor, "account_id", account_ids)
    rows = cursor.execute(
        f"SELECT id, name, account_id FROM projects WHERE removed = 0 AND {among}", values
    ).fetchall()
    return {row["account_id"]: dict(row) for row in rows}


def member_project_accounts(cursor: Cursor, account_id: str) -> frozenset[str]:
    """The accounts of the projects this account is a member of (whose resources it manages)."""
    rows = cursor.execute(
        "SELECT project_account_id FROM project_members WHERE account_id = %s", (account_id,)
    ).fetchall()
    return frozenset(row["project_account_id"] for row in rows)


def member_role(cursor: Cursor, project_id: str, account_id: str) -> str | None:
    row = cursor.execute(
        "SELECT role FROM project_members WHERE project_id = %s AND account_id = %s",
        (project_id, account_id),
    ).fetchone()
    return None if row is None else str(row["role"])


def projects_by_account_name(
    cursor: Cursor, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Projects (even deleted ones, as 4.3 names them) by their own account's (name, domain)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, domain_id in sorted(keys):
        row = cursor.execute(
            "SELECT p.id, p.name FROM projects AS p JOIN accounts AS a ON a.id = p.account_id "
            "WHERE a.name = %s AND a.domain_id = %s",
            (name, domain_id),
        ).fetchone()
        if row is not None:
            found[(name, domain_id)] = dict(row)
    return found


PROJECT_ACCOUNTS = "(SELECT account_id FROM projects)"
"""Every project's own account, as SQL: lists leave these out unless asked for projects."""


READ_MODELS = (ProjectsProjection,)
