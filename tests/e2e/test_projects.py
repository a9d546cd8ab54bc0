"""Projects through the `cs` client: a user makes a project and invites another account, which
accepts and deploys a VM into it; members see and manage the project's resources, others do
not; suspending stops its VMs and refuses new ones; limits hold per project; deleting it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import Place, _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _projects(client: CloudStack, **filters: Any) -> dict[str, dict]:
    return {p["id"]: p for p in client.listProjects(**filters).get("project", [])}


def _vm_ids(client: CloudStack, **filters: Any) -> set[str]:
    return {vm["id"] for vm in client.listVirtualMachines(**filters).get("virtualmachine", [])}


def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Waits on a condition the server reaches by itself (a job an adapter finishes)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def _setting(admin: CloudStack, name: str, value: str) -> Iterator[None]:
    before = admin.listConfigurations(name=name)["configuration"][0]["value"]
    admin.updateConfiguration(name=name, value=value)
    try:
        yield
    finally:
        admin.updateConfiguration(name=name, value=before)


@pytest.fixture
def place(sandbox) -> Place:
    admin = sandbox.client()
    where = _place(admin)
    _host(admin, where, "h1", cores=32, memory=64)
    return where


def _create(client: CloudStack, name: str) -> dict:
    return client.createProject(name=name, displaytext=f"{name} team", fetch_result=True)["project"]


def test_an_invited_account_joins_deploys_and_the_project_lives_to_its_deletion(
    sandbox, place
) -> None:
    admin = sandbox.client()
    alice, bob, carol = (make_tenant(sandbox, admin) for _ in range(3))
    project = _create(alice.client, "web")
    assert (project["name"], project["displaytext"], project["state"]) == (
        "web",
        "web team",
        "Active",
    )
    assert project["account"] == alice.username and project["domainid"] == alice.domain_id
    assert project["vmtotal"] == 0 and project["vmlimit"] == "20"
    assert "already exists" in _refused(
        alice.client.createProject, 431, name="web", displaytext="again"
    )

    with _setting(admin, "project.invite.required", "true"):
        alice.client.addAccountToProject(
            projectid=project["id"], account=bob.username, fetch_result=True
        )
    invited = bob.client.listProjectInvitations()["projectinvitation"]
    assert [(i["projectid"], i["account"], i["state"]) for i in invited] == [
        (project["id"], bob.username, "Pending")
    ]
    assert _projects(bob.client) == {}  # not a member until it accepts
    assert len(bob.client.listProjectInvitations(activeonly=True)["projectinvitation"]) == 1
    assert carol.client.listProjectInvitations(listall=True).get("projectinvitation") is None
    bob.client.updateProjectInvitation(projectid=project["id"], accept=True, fetch_result=True)
    assert bob.client.listProjectInvitations(activeonly=True).get("projectinvitation") is None
    (done,) = bob.client.listProjectInvitations(state="Completed")["projectinvitation"]
    assert done["project"] == "web"
    assert set(_projects(bob.client)) == {project["id"]}
    members = alice.client.listProjectAccounts(projectid=project["id"])["projectaccount"]
    assert {(m["account"], m["role"]) for m in members} == {
        (alice.username, "Admin"),
        (bob.username, "Regular"),
    }

    vm = _deploy(bob.client, place, place.small, projectid=project["id"])
    assert vm["state"] == "Running"
    disk = bob.client.listDiskOfferings()["diskoffering"][0]
    volume = bob.client.createVolume(
        name="shared-data",
        zoneid=place.zone,
        diskofferingid=disk["id"],
        projectid=project["id"],
        fetch_result=True,
    )["volume"]
    assert (volume["projectid"], volume["project"]) == (project["id"], "web")
    listed = alice.client.listVolumes(projectid=project["id"], type="DATADISK")["volume"]
    assert [v["id"] for v in listed] == [volume["id"]]
    # Listed twice: the second page answers the project as the first did.
    for _ in range(2):
        (root,) = bob.client.listVolumes(projectid=project["id"], type="ROOT")["volume"]
        assert (root["projectid"], root["project"]) == (project["id"], "web")
        assert root["account"] == volume["account"]
    assert "volume" not in carol.client.listVolumes(listall=True, projectid="-1")
    assert (vm["projectid"], vm["project"]) == (project["id"], "web")
    assert _vm_ids(alice.client, projectid=project["id"]) == {vm["id"]}
    assert _vm_ids(bob.client, projectid="-1") == {vm["id"]}
    assert _vm_ids(bob.client) == set()  # lists without a project leave projects out
    assert vm["id"] not in _vm_ids(admin, listall=True)
    assert vm["id"] in _vm_ids(admin, listall=True, projectid="-1")

    # A non-member neither sees nor touches the project or its VM.
    assert _projects(carol.client, listall=True) == {}
    _refused(carol.client.listVirtualMachines, 531, projectid=project["id"])
    assert _vm_ids(carol.client, projectid="-1") == set()
    _refused(carol.client.stopVirtualMachine, 531, id=vm["id"])
    _refused(
        carol.client.deployVirtualMachine,
        531,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        projectid=project["id"],
    )
    _refused(carol.client.suspendProject, 531, id=project["id"])

    # Only the project's Admin manages it.
    _refused(bob.client.suspendProject, 531, id=project["id"])
    _refused(bob.client.addAccountToProject, 531, projectid=project["id"], account=carol.username)
    text = _refused(
        alice.client.deleteAccountFromProject, 431, projectid=project["id"], account=alice.username
    )
    assert "owner of the project" in text

    suspended = alice.client.suspendProject(id=project["id"], fetch_result=True)["project"]
    assert suspended["state"] == "Suspended"
    _until(
        lambda: (
            alice.client.listVirtualMachines(id=vm["id"], projectid=project["id"])[
                "virtualmachine"
            ][0]["state"]
            == "Stopped"
        ),
        "the suspended project's VM to stop",
    )
    assert "no longer active" in _refused(
        bob.client.deployVirtualMachine,
        531,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        projectid=project["id"],
    )
    assert "disabled" in _refused(bob.client.startVirtualMachine, 531, id=vm["id"])
    active = alice.client.activateProject(id=project["id"], fetch_result=True)["project"]
    assert active["state"] == "Active"
    bob.client.startVirtualMachine(id=vm["id"], fetch_result=True)

    # Deleting the project takes away what it holds (its running VM, its data volume), as 4.3.
    alice.client.deleteProject(id=project["id"], fetch_result=True)
    assert _projects(alice.client) == {} and _projects(bob.client) == {}
    _until(
        lambda: (
            admin.listVirtualMachines(id=vm["id"], listall=True) == {}
            and admin.listVolumes(id=volume["id"], listall=True) == {}
        ),
        "the deleted project's VM and volume to be taken away",
    )
    assert _create(alice.client, "web")["name"] == "web"  # the name is free again


def test_accounts_join_directly_and_leave_and_bad_requests_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    project = _create(alice.client, "ops")
    add = alice.client.addAccountToProject
    assert add(projectid=project["id"], account=bob.username, fetch_result=True)["success"]
    # Adding a member again succeeds and changes nothing, as in 4.3.
    assert add(projectid=project["id"], account=bob.username, fetch_result=True)["success"]
    members = alice.client.listProjectAccounts(projectid=project["id"])["projectaccount"]
    assert sorted(m["account"] for m in members) == sorted([alice.username, bob.username])
    assert set(_projects(bob.client)) == {project["id"]}
    _refused(add, 431, projectid=project["id"], account="nobody-here")
    _refused(add, 431, projectid=project["id"])
    _refused(add, 431, projectid=project["id"], email="bob@example.org")
    text = _refused(alice.client.updateProject, 431, id=project["id"], account="nobody-here")
    assert "Unable to find account" in text

    # Ownership moves to a member; the former owner stays a Regular member.
    moved = alice.client.updateProject(
        id=project["id"], account=bob.username, displaytext="ops crew", fetch_result=True
    )["project"]
    assert (moved["account"], moved["displaytext"]) == (bob.username, "ops crew")
    roles = {
        m["account"]: m["role"]
        for m in bob.client.listProjectAccounts(projectid=project["id"])["projectaccount"]
    }
    assert roles == {alice.username: "Regular", bob.username: "Admin"}
    bob.client.deleteAccountFromProject(
        projectid=project["id"], account=alice.username, fetch_result=True
    )
    assert _projects(alice.client) == {}
    _refused(
        bob.client.deleteAccountFromProject, 431, projectid=project["id"], account=alice.username
    )


def test_users_may_be_kept_from_making_projects(sandbox) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    with _setting(admin, "allow.user.create.projects", "false"):
        _refused(alice.client.createProject, 531, name="nope", displaytext="nope")
        made = admin.createProject(
            name="for-alice",
            displaytext="made by an admin",
            account=alice.username,
            domainid=alice.domain_id,
            fetch_result=True,
        )["project"]
    assert made["account"] == alice.username
    assert set(_projects(alice.client)) == {made["id"]}


def test_limits_hold_per_project(sandbox, place) -> None:
    admin = sandbox.client()
    alice = make_tenant(sandbox, admin)
    project = _create(alice.client, "capped")
    limit = admin.updateResourceLimit(projectid=project["id"], resourcetype=0, max=1)[
        "resourcelimit"
    ]
    assert (limit["projectid"], limit["project"], limit["max"]) == (project["id"], "capped", 1)
    listed = alice.client.listResourceLimits(projectid=project["id"], resourcetype=0)
    assert listed["resourcelimit"][0]["max"] == 1
    _deploy(alice.client, place, place.small, projectid=project["id"])
    text = _refused(
        _deploy,
        535,
        client=alice.client,
        place=place,
        offering=place.small,
        projectid=project["id"],
    )
    assert "project" in text
    # The cap is the project's: the member's own account deploys as before.
    assert _deploy(alice.client, place, place.small)["state"] == "Running"
    counted = admin.updateResourceCount(
        domainid=alice.domain_id, projectid=project["id"], resourcetype=0
    )["resourcecount"]
    assert [(c["projectid"], c["resourcecount"]) for c in counted] == [(project["id"], 1)]
    shown = _projects(alice.client)[project["id"]]
    assert (shown["vmlimit"], shown["vmtotal"], shown["vmavailable"]) == ("1", 1, "0")
