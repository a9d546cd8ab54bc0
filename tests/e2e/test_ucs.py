"""UCS through the `cs` client against a UCS manager stand-in speaking the UCS XML API: a
manager added with the blades it has, its profiles listed live, a profile associated to a blade
by a job, the manager removed; a refused login adds nothing and answers 4.3's error; the
password is shown nowhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.legs import Deployment, deployed
from tests.e2e.sandbox import Sandbox
from tests.support.ucs_manager import Blade, UcsServer
from tests.support.waiting import wait_until

PASSWORD = "ucs-Pass-5d2a"
BLADES = ("sys/chassis-1/blade-1", "sys/chassis-1/blade-2")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def ucs_leg(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with deployed(request.param, tmp_path_factory.mktemp(request.param)) as deployment:
        yield deployment


@pytest.fixture
def ucs() -> Iterator[UcsServer]:
    with UcsServer(password=PASSWORD) as server:
        server.manager.blades = {dn: Blade(dn) for dn in BLADES}
        server.manager.profiles = ["org-root/ls-esx-template", "org-root/ls-kvm-template"]
        yield server


@pytest.fixture
def admin(ucs_leg: Deployment) -> CloudStack:
    return Sandbox.open(ucs_leg).client()


@pytest.fixture
def zone(admin: CloudStack) -> str:
    made = admin.createZone(
        name=f"ucs-{uuid.uuid4().hex[:8]}",
        networktype="Basic",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
    )
    return str(made["zone"]["id"])


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _carries_4_3_fields(command: str, *items: dict) -> None:
    expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
    assert expected <= set().union(*(set(item) for item in items)), command


def _add(admin: CloudStack, ucs: UcsServer, zone: str, **more: Any) -> dict:
    params = {"zoneid": zone, "url": ucs.url, "username": "ucs-admin", "password": PASSWORD}
    return admin.addUcsManager(**{**params, **more})["ucsmanager"]


def test_a_manager_is_added_with_its_blades_and_a_profile_associated_to_one(
    admin: CloudStack, ucs: UcsServer, zone: str
) -> None:
    manager = _add(admin, ucs, zone, name="rack-a")
    assert (manager["name"], manager["url"], manager["zoneid"]) == ("rack-a", ucs.url, zone)
    assert PASSWORD not in json.dumps(manager)
    _carries_4_3_fields("addUcsManager", manager)
    listed = admin.listUcsManagers(zoneid=zone)["ucsmanager"]
    assert [m["id"] for m in listed] == [manager["id"]]
    assert admin.listUcsManagers(id=manager["id"])["ucsmanager"] == listed
    assert PASSWORD not in json.dumps(listed)
    _carries_4_3_fields("listUcsManagers", *listed)

    blades = admin.listUcsBlades(ucsmanagerid=manager["id"])["ucsblade"]
    assert [b["bladedn"] for b in blades] == list(BLADES)
    assert {b["ucsmanagerid"] for b in blades} == {manager["id"]}
    assert not any("profiledn" in b for b in blades)
    profiles = admin.listUcsProfiles(ucsmanagerid=manager["id"])["ucsprofile"]
    _carries_4_3_fields("listUcsProfiles", *profiles)
    assert [p["ucsdn"] for p in profiles] == [
        "org-root/ls-esx-template",
        "org-root/ls-kvm-template",
    ]

    ucs.manager.associating_polls = 0
    blade = blades[1]
    done = admin.associateUcsProfileToBlade(
        ucsmanagerid=manager["id"],
        bladeid=blade["id"],
        profiledn="org-root/ls-esx-template",
        fetch_result=True,
    )["ucsblade"]
    clone = f"org-root/ls-profile-for-blade-{blade['id']}"
    assert (done["id"], done["bladedn"], done["profiledn"]) == (blade["id"], BLADES[1], clone)
    assert ucs.manager.blades[BLADES[1]].assigned_to == clone
    assert ucs.manager.blades[BLADES[1]].association == "associated"
    after = admin.listUcsBlades(ucsmanagerid=manager["id"])["ucsblade"]
    assert [b.get("profiledn") for b in after] == [None, clone]
    _carries_4_3_fields("listUcsBlades", *after)
    _carries_4_3_fields("associateUcsProfileToBlade", done)
    assert ucs.manager.cookies == set()  # every session logged out

    assert admin.removedeleteUcsManager(ucsmanagerid=manager["id"])["success"] is True
    assert admin.listUcsManagers(zoneid=zone).get("ucsmanager", []) == []
    _refused(admin.listUcsBlades, 431, ucsmanagerid=manager["id"])
    assert _add(admin, ucs, zone)["url"] == ucs.url  # its url is free again


def test_a_refused_login_adds_nothing_and_answers_4_3s_error(
    admin: CloudStack, ucs: UcsServer, zone: str
) -> None:
    text = _refused(admin.addUcsManager, 530, zoneid=zone, url=ucs.url, username="ucs-admin",
                    password="wrong-Pass-1")  # fmt: skip
    assert text.startswith("Cannot get cookie") and "wrong-Pass-1" not in text
    assert admin.listUcsManagers(zoneid=zone).get("ucsmanager", []) == []
    assert ucs.manager.logins == 0


def test_a_manager_is_added_once_and_only_to_a_zone_that_exists(
    admin: CloudStack, ucs: UcsServer, zone: str
) -> None:
    manager = _add(admin, ucs, zone)
    assert "name" not in manager  # none was given
    assert "duplicate UCS manager" in _refused(
        admin.addUcsManager, 431, zoneid=zone, url=ucs.url, username="u", password="p"
    )
    missing = "4e4a0a3c-0000-4000-8000-000000000000"
    _refused(admin.addUcsManager, 431, zoneid=missing, url="10.9.9.9", username="u", password="p")
    admin.removedeleteUcsManager(ucsmanagerid=manager["id"])


def test_an_association_is_refused_for_a_foreign_blade_and_fails_for_an_unknown_profile(
    admin: CloudStack, ucs: UcsServer, zone: str
) -> None:
    manager = _add(admin, ucs, zone)
    blade = admin.listUcsBlades(ucsmanagerid=manager["id"])["ucsblade"][0]
    foreign = "4e4a0a3c-1111-4000-8000-000000000000"
    text = _refused(admin.associateUcsProfileToBlade, 431, ucsmanagerid=manager["id"],
                    bladeid=foreign, profiledn="org-root/ls-esx-template")  # fmt: skip
    assert "cannot find UCS blade" in text
    job = admin.associateUcsProfileToBlade(
        ucsmanagerid=manager["id"], bladeid=blade["id"], profiledn="org-root/ls-nothing"
    )["jobid"]
    result = wait_until(
        lambda: (r := admin.queryAsyncJobResult(jobid=job))["jobstatus"] != 0 and r,
        what="the association job to end",
    )
    assert result["jobstatus"] == 2 and result["jobresult"]["errorcode"] == 530
    assert "no such profile" in result["jobresult"]["errortext"]
    assert "profiledn" not in admin.listUcsBlades(ucsmanagerid=manager["id"])["ucsblade"][0]
    admin.removedeleteUcsManager(ucsmanagerid=manager["id"])


def test_only_root_administrators_reach_ucs_managers(ucs_leg: Deployment) -> None:
    sandbox = Sandbox.open(ucs_leg)
    user = make_tenant(sandbox, sandbox.client())
    with pytest.raises(CloudStackApiException):
        user.client.listUcsManagers()
