"""Projects: the CloudStack commands on projects, their accounts and their invitations.

Who may do what, as in 4.3: anybody (a plain user while `allow.user.create.projects` is on)
creates a project and becomes its Admin; the project's Admin, and administrators over its
domain, change, suspend, activate and delete it and add and remove its accounts; members see
it; an invited account answers its own invitation.
"""

from __future__ import annotations

import secrets
import string
from typing import Any
from uuid import UUID, uuid4

from api.access import Role, check_reach, list_scope
from api.cloudstack.common import (
    OWNER_PARAMS,
    account_row,
    domain_row,
    limit_sql,
    project_row,
    resolve_owner_filters,
)
from api.cloudstack.configuration import current_value
from api.cloudstack.jobs import hypervisor_job, run_async
from api.cloudstack.resource_limits import account_figures
from api.cloudstack.unbuilt import TAGS_MAP
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType
from api.tagging import narrow
from commands import projects as cmd
from commands import vms as vm_cmd
from commands.projects import active_since
from domain.configuration import DEFINITIONS, GLOBAL
from domain.errors import InvalidParameter, PermissionDenied, ResourceUnavailable
from domain.values import Secret
from projections.configuration import overrides
from projections.projects import PROJECT_SELECT, member_role
from stratus.db import contains
from stratus.mail import MailSettings, MailUndelivered, send

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.project"
ACCOUNT_PKG = "org.apache.cloudstack.api.command.user.account"
TOKEN_LENGTH = 10  # 4.3's invitation tokens: ten random letters and digits
TOKEN_ALPHABET = string.ascii_letters + string.digits


# ---- reading and rendering -------------------------------------------------------------------


def _account_rows(call: Call, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    with call.read() as cursor:
        rows: list[dict[str, Any]] = cursor.execute(
            f"SELECT * FROM accounts WHERE id IN ({marks})", ids
        ).fetchall()
    return rows


def render_projects(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Projects with their own account's limits and totals, for the whole page at once."""
    figures = account_figures(call, _account_rows(call, [row["account_id"] for row in rows]))
    return [_project_body(row) | figures.get(row["account_id"], {}) for row in rows]


def _project_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "displaytext": row["display_text"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "account": row["owner_name"],
        "state": row["state"],
    }


def render_project(call: Call, project_id: str) -> dict[str, Any]:
    return render_projects(call, [project_row(call, project_id)])[0]


def _managed(call: Call, project_id: str) -> dict[str, Any]:
    """A project the caller may change: its Admin, or an administrator over its domain."""
    project = project_row(call, project_id)
    caller = call.caller
    if caller.role == Role.USER:
        with call.read() as cursor:
            role = member_role(cursor, project["id"], caller.account_id)
        if role != "Admin":
            raise PermissionDenied(
                f"Account {caller.account_name} does not have permission to operate on "
                f"project id={project['id']}: only its Admin may"
            )
    return project


def _project_account(call: Call, project: dict[str, Any], name: str) -> dict[str, Any]:
    """An account of the project's domain, by name (4.3 finds only active ones there)."""
    row = account_row(call, name, project["domain_id"])
    if row["state"] != "enabled" or int(row["account_type"]) == 5:
        raise InvalidParameter(
            f"Unable to find account name={name} in domain id={project['domain_id']}"
        )
    return row


def _timeout(call: Call) -> int:
    return int(current_value(call, "project.invite.timeout"))


# ---- create, update, delete, suspend, activate -----------------------------------------------


def create_project(call: Call, args: dict[str, Any]) -> Submitted:
    caller = call.caller
    if caller.role == Role.USER and current_value(call, "allow.user.create.projects") != "true":
        raise PermissionDenied("Regular user is not permitted to create a project")
    if args["account"] and not args["domainid"]:
        raise InvalidParameter("Account must be specified with domainId parameter")
    owner_id, owner_domain_id, domain_id = caller.account_id, caller.domain_id, caller.domain_id
    if args["domainid"]:
        domain = domain_row(call, args["domainid"])
        check_reach(caller, account_id=None, domain_path=domain["path"], what="that domain")
        if args["account"]:
            owner = account_row(call, args["account"], domain["id"])
            check_reach(
                caller,
                account_id=owner["id"],
                domain_path=owner["domain_path"],
                what="that account",
            )
            owner_id, owner_domain_id = owner["id"], owner["domain_id"]
        domain_id = domain["id"]
    if owner_domain_id != domain_id:
        raise InvalidParameter("A project's owner must be an account of the project's domain")
    project_id = uuid4()
    command = cmd.CreateProject(
        project_id,
        args["name"],
        args["displaytext"],
        UUID(domain_id),
        UUID(owner_id),
        UUID(owner_domain_id),
    )
    call.write(lambda store, c: cmd.create_project(store, c), command)
    return run_async(
        call,
        instance_type="Project",
        instance_id=project_id,
        event_type="PROJECT.CREATE",
        description=f"Creating project {args['name']}",
        work=lambda: {"object": "project", "id": str(project_id)},
        creates=True,
    )


def update_project(call: Call, args: dict[str, Any]) -> Submitted:
    project = _managed(call, args["id"])
    owner = None
    if args["account"]:
        row = _project_account(call, project, args["account"])
        owner = (UUID(row["id"]), row["name"], UUID(row["domain_id"]))
    command = cmd.UpdateProject(UUID(project["id"]), args["displaytext"], owner)
    return _project_job(call, project, "PROJECT.UPDATE", "Updating", cmd.update_project, command)


def _project_job(
    call: Call, project: dict[str, Any], event: str, verb: str, handler: Any, command: Any
) -> Submitted:
    """The project's job, its change made before the job is answered (so a bad request is
    refused at once, as 4.3's checks are), the project rendered as it is when it ends."""
    call.write(handler, command)
    return run_async(
        call,
        instance_type="Project",
        instance_id=UUID(project["id"]),
        event_type=event,
        description=f"{verb} project {project['name']}",
        work=lambda: {"object": "project", "id": project["id"]},
    )


def suspend_project(call: Call, args: dict[str, Any]) -> Submitted:
    project = _managed(call, args["id"])
    submitted = _project_job(
        call, project, "PROJECT.SUSPEND", "Suspending", cmd.suspend_project, UUID(project["id"])
    )
    _stop_vms(call, project)
    return submitted


def _stop_vms(call: Call, project: dict[str, Any]) -> None:
    """Each running VM of a suspended project is stopped, by a job of its own (4.3 stops them
    as it disables the project's account)."""
    with call.read() as cursor:
        running = cursor.execute(
            "SELECT id, name FROM virtual_machines WHERE account_id = %s AND state = 'Running'",
            (project["account_id"],),
        ).fetchall()
    for vm in running:
        vm_id = UUID(vm["id"])
        hypervisor_job(
            call,
            "VirtualMachine",
            vm_id,
            "VM.STOP",
            f"Stopping VM {vm['name']} of suspended project {project['name']}",
            lambda job_id, vm_id=vm_id: vm_cmd.stop_vm(call.store, vm_id, job_id, forced=False),
        )


def activate_project(call: Call, args: dict[str, Any]) -> Submitted:
    project = _managed(call, args["id"])
    return _project_job(
        call, project, "PROJECT.ACTIVATE", "Activating", cmd.activate_project, UUID(project["id"])
    )


# What a project's account may not hold when the project is deleted (see the docs' decision):
# VMs not destroyed (a destroyed one is expunged in its time, its ROOT disk with it), data
# disks, addresses, snapshots, templates and networks.
def delete_project(call: Call, args: dict[str, Any]) -> Submitted:
    """The project and its account go at once; what the project owned is taken away by the
    account cleanup (`entrypoint.account_cleanup`), as 4.3 cleans a deleted project up."""
    project = _managed(call, args["id"])
    call.write(cmd.delete_project, UUID(project["id"]))
    return run_async(
        call,
        instance_type="Project",
        instance_id=UUID(project["id"]),
        event_type="PROJECT.DELETE",
        description=f"Deleting project {project['name']}",
        work=lambda: {"success": True},
    )


# ---- accounts and invitations ----------------------------------------------------------------


def _success_job(call: Call, project: dict[str, Any], event: str, description: str) -> Submitted:
    return run_async(
        call,
        instance_type="Project",
        instance_id=UUID(project["id"]),
        event_type=event,
        description=description,
        work=lambda: {"success": True},
    )


def add_account(call: Call, args: dict[str, Any]) -> Submitted:
    if not args["account"] and not args["email"]:
        raise InvalidParameter("Either accountName or email is required")
    invite = current_value(call, "project.invite.required") == "true"
    if not args["account"]:
        if not invite:
            raise InvalidParameter(
                "Account information is required for assigning account to the project"
            )
        return _invite_by_email(call, args["projectid"], args["email"])
    project = project_row(call, args["projectid"])
    row = _project_account(call, project, args["account"])
    project = _managed(call, args["projectid"])
    if invite:
        command: Any = cmd.InviteAccount(UUID(project["id"]), UUID(row["id"]), _timeout(call))
        call.write(cmd.invite_account, command)
    else:
        call.write(cmd.add_account, cmd.AddAccount(UUID(project["id"]), UUID(row["id"])))
    return _success_job(
        call, project, "PROJECT.ACCOUNT.ADD", f"Adding account {row['name']} to the project"
    )


def _invite_by_email(call: Call, project_id: str, email: str) -> Submitted:
    """A random token is e-mailed to the address, then the invitation recorded with the
    token's hash. When the mail cannot be delivered nothing is recorded (4.3 removes the
    invitation it made) and the caller is told why."""
    project = _managed(call, project_id)
    if project["state"] != "Active":
        raise InvalidParameter(
            f"Can't add account to the specified project id in state={project['state']} as "
            "it's no longer active"
        )
    if "@" not in email or any(ch.isspace() or ch in "<>,;" for ch in email):
        raise InvalidParameter(f"Unable to send an invitation to {email!r}: not an e-mail address")
    token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    try:
        send(
            _mail_settings(call),
            email,
            f"Invitation to the CloudStack project id={project['id']}",
            f"You are invited to the CloudStack project {project['name']} "
            f"(id={project['id']}).\n\nTo join it, answer the invitation with "
            f"updateProjectInvitation projectid={project['id']} token={token}\n",
        )
    except MailUndelivered as error:
        raise ResourceUnavailable(
            f"Failed to send the project invitation to {email}: {error}; no invitation was made"
        ) from None
    command = cmd.InviteByEmail(UUID(project["id"]), uuid4(), email, cmd.token_hash(token))
    call.write(cmd.invite_by_email, command)
    return _success_job(call, project, "PROJECT.ACCOUNT.ADD", "Inviting an e-mail address")


def _mail_settings(call: Call) -> MailSettings:
    """4.3's `project.smtp.*` settings, the password opened from its seal."""
    with call.read() as cursor:
        values = overrides(cursor)

    def setting(name: str) -> str:
        return values.get((name, GLOBAL, ""), DEFINITIONS[name].default)

    password = setting("project.smtp.password")
    return MailSettings(
        host=setting("project.smtp.host"),
        port=int(setting("project.smtp.port") or 465),
        use_auth=setting("project.smtp.useAuth").lower() == "true",
        username=setting("project.smtp.username"),
        password=Secret(call.runtime.store.box.open(password) if password else ""),
        sender=setting("project.email.sender"),
    )


def delete_account(call: Call, args: dict[str, Any]) -> Submitted:
    project = project_row(call, args["projectid"])
    row = _project_account(call, project, args["account"])
    project = _managed(call, args["projectid"])
    command = cmd.RemoveAccount(UUID(project["id"]), UUID(row["id"]), row["name"])
    call.write(cmd.remove_account, command)
    return _success_job(
        call, project, "PROJECT.ACCOUNT.REMOVE", f"Removing account {row['name']} from project"
    )


def update_invitation(call: Call, args: dict[str, Any]) -> Submitted:
    caller = call.caller
    project = _invited_project(call, args["projectid"])
    name = args["account"] or caller.account_name
    row = _project_account(call, project, name)
    check_reach(caller, account_id=row["id"], domain_path=row["domain_path"], what="that account")
    accept = args["accept"] is not False
    token_hash = cmd.token_hash(args["token"]) if args["token"] else None
    command = cmd.AnswerInvitation(
        UUID(project["id"]), UUID(row["id"]), row["name"], accept, _timeout(call), token_hash
    )
    call.write(cmd.answer_invitation, command)
    return _success_job(
        call, project, "PROJECT.INVITATION.UPDATE", f"Answering the invitation of {row['name']}"
    )


def _invited_project(call: Call, project_id: str) -> dict[str, Any]:
    """A live project by id: an invited account is no member yet, so it sees no more."""
    with call.read() as cursor:
        row = cursor.execute(
            PROJECT_SELECT + " WHERE p.id = %s AND p.removed = 0", (project_id,)
        ).fetchone()
    if row is None:
        raise InvalidParameter(f"Unable to find the project id={project_id}")
    return dict(row)


def delete_invitation(call: Call, args: dict[str, Any]) -> Submitted:
    with call.read() as cursor:
        found = cursor.execute(
            "SELECT project_id FROM project_invitations WHERE id = %s AND removed = 0",
            (args["id"],),
        ).fetchone()
    if found is None:
        raise InvalidParameter(f"Unable to find project invitation by id {args['id']}")
    project = _managed(call, found["project_id"])
    call.write(cmd.delete_invitation, cmd.DeleteInvitation(UUID(project["id"]), UUID(args["id"])))
    return _success_job(call, project, "PROJECT.INVITATION.REMOVE", "Removing a project invitation")


# ---- lists ----------------------------------------------------------------------------------


def list_projects(call: Call, args: dict[str, Any]) -> Listing:
    caller = call.caller
    owner = resolve_owner_filters(call, args)
    owner.pop("projects")
    where: list[str] = ["p.removed = 0"]
    params: list[Any] = []
    member = owner.get("account_id")
    if caller.role == Role.USER or not (member or owner.get("domain_path") or owner["list_all"]):
        member = member or caller.account_id
    if member:
        where.append("p.id IN (SELECT project_id FROM project_members WHERE account_id = %s)")
        params.append(member)
    else:
        scope = list_scope(caller, prefix="d.", account_column="id", **owner)
        where.append(scope.clause.replace("d.domain_path", "d.path"))
        params += scope.params
    for key, column in (("id", "p.id"), ("name", "p.name"), ("displaytext", "p.display_text")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["state"]:
        where.append("lower(p.state) = lower(%s)")
        params.append(args["state"])
    if args["keyword"]:
        clause, values = contains(("p.name", "p.display_text"), args["keyword"])
        where.append(clause)
        params += values
    narrow(args, "Project", "p.id", where, params)
    sql = " WHERE " + " AND ".join(where)
    count_sql = "SELECT count(*) AS n FROM projects AS p JOIN domains AS d ON d.id = p.domain_id"
    with call.read() as cursor:
        count = cursor.execute(count_sql + sql, params).fetchone()["n"]
        rows = cursor.execute(
            PROJECT_SELECT + sql + " ORDER BY p.created, p.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing(render_projects(call, [dict(r) for r in rows]), int(count))


def list_project_accounts(call: Call, args: dict[str, Any]) -> Listing:
    project = project_row(call, args["projectid"])
    where, params = ["m.project_id = %s"], [project["id"]]
    if args["account"]:
        where.append("a.name = %s")
        params.append(args["account"])
    if args["role"]:
        where.append("lower(m.role) = lower(%s)")
        params.append(args["role"])
    if args["keyword"]:
        clause, values = contains(("a.name",), args["keyword"])
        where.append(clause)
        params += values
    sql = (
        " FROM project_members AS m JOIN accounts AS a ON a.id = m.account_id WHERE "
        + " AND ".join(where)
    )
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT m.role, a.id, a.name, a.account_type, a.domain_id, a.domain_name"
            + sql
            + " ORDER BY m.created, a.id"
            + limit_sql(args["paging"]),
            params,
        ).fetchall()
    return Listing([_render_member(project, row) for row in rows], int(count))


def _render_member(project: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {
        "projectid": project["id"],
        "project": project["name"],
        "accountid": row["id"],
        "account": row["name"],
        "accounttype": int(row["account_type"]),
        "role": row["role"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
    }


# An invitation with its project's domain; an e-mailed one has no account (its `account_id` is
# empty), so the owner scope sees it by the project's domain, as 4.3 lists it.
INVITATIONS = (
    "(SELECT i.id, i.state, i.created, i.project_id, i.email, i.removed, "
    "p.name AS project_name, p.domain_id, d.name AS domain_name, a.name AS account_name, "
    "i.account_id, COALESCE(a.domain_path, d.path) AS domain_path "
    "FROM project_invitations AS i JOIN projects AS p ON p.id = i.project_id "
    "JOIN domains AS d ON d.id = p.domain_id "
    "LEFT JOIN accounts AS a ON a.id = i.account_id) AS v"
)


def list_invitations(call: Call, args: dict[str, Any]) -> Listing:
    owner = resolve_owner_filters(call, args)
    owner["projects"] = "any"
    scope = list_scope(call.caller, prefix="v.", account_column="account_id", **owner)
    where, params = ["v.removed = 0", scope.clause], list(scope.params)
    for key, column in (("id", "v.id"), ("projectid", "v.project_id")):
        if args[key]:
            where.append(f"{column} = %s")
            params.append(args[key])
    if args["state"]:
        where.append("lower(v.state) = lower(%s)")
        params.append(args["state"])
    if args["activeonly"]:  # pending, and not past `project.invite.timeout`
        where.append("v.state = 'Pending' AND v.created > %s")
        params.append(active_since(_timeout(call)))
    sql = " FROM " + INVITATIONS + " WHERE " + " AND ".join(where)
    with call.read() as cursor:
        count = cursor.execute("SELECT count(*) AS n" + sql, params).fetchone()["n"]
        rows = cursor.execute(
            "SELECT v.*" + sql + " ORDER BY v.created, v.id" + limit_sql(args["paging"]), params
        ).fetchall()
    return Listing([_render_invitation(row) for row in rows], int(count))


def _render_invitation(row: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "id": row["id"],
        "projectid": row["project_id"],
        "project": row["project_name"],
        "domainid": row["domain_id"],
        "domain": row["domain_name"],
        "state": row["state"],
    }
    if row["email"]:
        answer["email"] = row["email"]
    else:
        answer["account"] = row["account_name"]
    return answer


# ---- the table -------------------------------------------------------------------------------

ID = Param("id", P.UUID, required=True)


def _project_command(name: str, handler: Any, params: tuple[Param, ...], java: str) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        item_key="project",
        render=render_project,
        java_class=f"{PKG}.{java}",
    )


def _success_command(name: str, handler: Any, params: tuple[Param, ...], java: str) -> ApiCommand:
    return ApiCommand(
        name,
        handler,
        params,
        shape="async",
        is_async=True,
        java_class=java if "." in java else f"{PKG}.{java}",
    )


COMMANDS = (
    _project_command(
        "createProject",
        create_project,
        (
            Param("name", P.STRING, required=True),
            Param("displaytext", P.STRING, required=True),
            Param("account", P.STRING),
            Param("domainid", P.UUID),
        ),
        "CreateProjectCmd",
    ),
    _project_command(
        "updateProject",
        update_project,
        (ID, Param("displaytext", P.STRING), Param("account", P.STRING)),
        "UpdateProjectCmd",
    ),
    _project_command("suspendProject", suspend_project, (ID,), "SuspendProjectCmd"),
    _project_command("activateProject", activate_project, (ID,), "ActivateProjectCmd"),
    _success_command("deleteProject", delete_project, (ID,), "DeleteProjectCmd"),
    _success_command(
        "addAccountToProject",
        add_account,
        (
            Param("projectid", P.UUID, required=True),
            Param("account", P.STRING),
            Param("email", P.STRING),
        ),
        f"{ACCOUNT_PKG}.AddAccountToProjectCmd",
    ),
    _success_command(
        "deleteAccountFromProject",
        delete_account,
        (Param("projectid", P.UUID, required=True), Param("account", P.STRING, required=True)),
        f"{ACCOUNT_PKG}.DeleteAccountFromProjectCmd",
    ),
    _success_command(
        "updateProjectInvitation",
        update_invitation,
        (
            Param("projectid", P.UUID, required=True),
            Param("accept", P.BOOLEAN),
            Param("account", P.STRING),
            Param("token", P.STRING),
        ),
        "UpdateProjectInvitationCmd",
    ),
    _success_command(
        "deleteProjectInvitation", delete_invitation, (ID,), "DeleteProjectInvitationCmd"
    ),
    ApiCommand(
        "listProjects",
        list_projects,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("name", P.STRING),
            Param("displaytext", P.STRING),
            Param("state", P.STRING),
            TAGS_MAP,
        ),
        shape="list",
        item_key="project",
        java_class=f"{PKG}.ListProjectsCmd",
    ),
    ApiCommand(
        "listProjectAccounts",
        list_project_accounts,
        (
            Param("projectid", P.UUID, required=True),
            Param("account", P.STRING),
            Param("role", P.STRING),
        ),
        shape="list",
        item_key="projectaccount",
        java_class=f"{ACCOUNT_PKG}.ListProjectAccountsCmd",
    ),
    ApiCommand(
        "listProjectInvitations",
        list_invitations,
        (
            *OWNER_PARAMS,
            Param("id", P.UUID),
            Param("projectid", P.UUID),
            Param("state", P.STRING),
            Param("activeonly", P.BOOLEAN, default=False),
        ),
        shape="list",
        item_key="projectinvitation",
        java_class=f"{PKG}.ListProjectInvitationsCmd",
    ),
)
