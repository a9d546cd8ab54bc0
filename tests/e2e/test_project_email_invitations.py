"""Inviting to a project by e-mail: with invitations required, a project's Admin invites an
address; the invitation goes out through the configured SMTP server (a real one the test runs),
the invited user reads the token out of the mail and joins the project with it. A wrong token
is refused; a mail server that cannot be reached makes no invitation. The token and the SMTP
password are never shown."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.test_projects import _create, _projects, _refused, _setting

USER, PASSWORD = "mailer", "s3cret-smtp-pass"


class Mailbox:
    """What the mail server was given: (envelope sender, recipients, message)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content)
        self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def _login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    server = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=_login, auth_require_tls=False
    )
    server.start()
    try:
        yield box, port
    finally:
        server.stop()


def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _token(message: Any) -> str:
    """The token, as the invited user reads it in the mail."""
    body = message.get_payload(decode=True).decode()
    found = re.search(r"token=(\w+)", body)
    assert found, body
    return found.group(1)


def _smtp(admin: CloudStack, port: int) -> list[Any]:
    return [
        _setting(admin, "project.invite.required", "true"),
        _setting(admin, "project.smtp.host", "127.0.0.1"),
        _setting(admin, "project.smtp.port", str(port)),
        _setting(admin, "project.smtp.useAuth", "true"),
        _setting(admin, "project.smtp.username", USER),
        _setting(admin, "project.email.sender", "cloud@example.org"),
    ]


def test_an_emailed_token_lets_its_holder_join(sandbox, mailbox) -> None:
    box, port = mailbox
    admin = sandbox.client()
    alice, bob, carol = (make_tenant(sandbox, admin) for _ in range(3))
    project = _create(alice.client, "mailed")
    admin.updateConfiguration(name="project.smtp.password", value=PASSWORD)
    (shown,) = admin.listConfigurations(name="project.smtp.password")["configuration"]
    assert shown["value"] == "********"
    settings = _smtp(admin, port)
    for setting in settings:
        setting.__enter__()
    try:
        answer = alice.client.addAccountToProject(
            projectid=project["id"], email="bob@example.org", fetch_result=True
        )
        assert answer["success"] is True
        (sender, recipients, message) = box.delivered[0]
        assert (sender, recipients) == ("cloud@example.org", ["bob@example.org"])
        assert message["To"] == "bob@example.org" and project["id"] in message["Subject"]
        token = _token(message)
        assert len(token) == 10

        (invitation,) = admin.listProjectInvitations(listall=True, projectid=project["id"])[
            "projectinvitation"
        ]
        assert invitation["email"] == "bob@example.org" and invitation["state"] == "Pending"
        assert "account" not in invitation and invitation["project"] == "mailed"
        assert token not in str(invitation) and token not in str(answer)
        events = admin.listEvents(listall=True).get("event", [])
        assert all(token not in str(event) for event in events)

        # A wrong token finds no invitation and changes nothing.
        text = _refused(
            bob.client.updateProjectInvitation, 431, projectid=project["id"], token="wrongtoken"
        )
        assert "Unable to find invitation" in text
        assert _projects(bob.client) == {}

        bob.client.updateProjectInvitation(
            projectid=project["id"], token=token, accept=True, fetch_result=True
        )
        assert set(_projects(bob.client)) == {project["id"]}
        members = alice.client.listProjectAccounts(projectid=project["id"])["projectaccount"]
        assert {m["account"] for m in members} == {alice.username, bob.username}
        (done,) = admin.listProjectInvitations(listall=True, projectid=project["id"])[
            "projectinvitation"
        ]
        assert done["state"] == "Completed"
        # A used token answers nothing again.
        _refused(carol.client.updateProjectInvitation, 431, projectid=project["id"], token=token)
        assert _projects(carol.client) == {}

        # Declining with a token leaves the decliner out.
        alice.client.addAccountToProject(
            projectid=project["id"], email="carol@example.org", fetch_result=True
        )
        _until(lambda: len(box.delivered) == 2, "the second mail")
        second = _token(box.delivered[1][2])
        carol.client.updateProjectInvitation(
            projectid=project["id"], token=second, accept=False, fetch_result=True
        )
        assert _projects(carol.client) == {}
        states = {
            i["email"]: i["state"]
            for i in admin.listProjectInvitations(listall=True, projectid=project["id"])[
                "projectinvitation"
            ]
        }
        assert states == {"bob@example.org": "Completed", "carol@example.org": "Declined"}

        # A token past `project.invite.timeout` is refused and its invitation marked Expired.
        with _setting(admin, "project.invite.timeout", "1"):
            alice.client.addAccountToProject(
                projectid=project["id"], email="carol@example.org", fetch_result=True
            )
            late = _token(box.delivered[2][2])
            _until(
                lambda: (
                    not admin.listProjectInvitations(
                        listall=True, projectid=project["id"], activeonly=True
                    ).get("projectinvitation")
                ),
                "the invitation to pass its time",
            )
            text = _refused(
                carol.client.updateProjectInvitation,
                431,
                projectid=project["id"],
                token=late,
                accept=True,
            )
            assert "expired" in text
        assert _projects(carol.client) == {}
        expired = admin.listProjectInvitations(
            listall=True, projectid=project["id"], state="Expired"
        )["projectinvitation"]
        assert [i["email"] for i in expired] == ["carol@example.org"]

        # Only the project's Admin invites.
        _refused(
            bob.client.addAccountToProject, 531, projectid=project["id"], email="x@example.org"
        )
        assert len(box.delivered) == 3
    finally:
        for setting in reversed(settings):
            setting.__exit__(None, None, None)
        admin.updateConfiguration(name="project.smtp.password", value="")


def test_an_unreachable_mail_server_makes_no_invitation(sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    project = _create(alice.client, "unmailed")
    settings = _smtp(admin, _free_port())  # nobody listens there
    for setting in settings:
        setting.__enter__()
    try:
        text = _refused(
            alice.client.addAccountToProject, 534, projectid=project["id"], email="b@example.org"
        )
        assert "Failed to send the project invitation" in text and "no invitation" in text
        found = admin.listProjectInvitations(listall=True, projectid=project["id"])
        assert found.get("projectinvitation") is None
    finally:
        for setting in reversed(settings):
            setting.__exit__(None, None, None)
    # Without invitations required, an address alone cannot add anybody.
    _refused(alice.client.addAccountToProject, 431, projectid=project["id"], email="b@x.org")
