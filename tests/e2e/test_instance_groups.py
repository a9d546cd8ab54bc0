"""Instance groups through the `cs` client: an account's named groups of VMs, made by
createInstanceGroup or by naming a new group at deploy or update; names unique in the account;
VMs listed by group and showing theirs; each account sees and changes only its own groups."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import Place, _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _groups(client: CloudStack, **filters: Any) -> dict[str, str]:
    """name → id of the groups the client lists."""
    listed = client.listInstanceGroups(**filters).get("instancegroup", [])
    return {g["name"]: g["id"] for g in listed}


def _vm(client: CloudStack, vm_id: str) -> dict:
    return client.listVirtualMachines(id=vm_id)["virtualmachine"][0]


def _in_group(client: CloudStack, group_id: str) -> set[str]:
    listed = client.listVirtualMachines(groupid=group_id).get("virtualmachine", [])
    return {vm["id"] for vm in listed}


@pytest.fixture
def place(server) -> Place:
    admin = server.client()
    where = _place(admin)
    _host(admin, where, "h1", cores=32, memory=64)
    return where


def test_an_owner_creates_lists_renames_and_deletes_a_group(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    made = tenant.client.createInstanceGroup(name="web")["instancegroup"]
    assert made["name"] == "web" and made["account"] == tenant.username
    assert made["domainid"] == tenant.domain_id and made["domain"] == "ROOT" and made["created"]
    assert _groups(tenant.client) == {"web": made["id"]}
    assert "already exists" in _refused(tenant.client.createInstanceGroup, 431, name="WEB")
    renamed = tenant.client.updateInstanceGroup(id=made["id"], name="front")["instancegroup"]
    assert renamed["name"] == "front" and renamed["id"] == made["id"]
    again = tenant.client.createInstanceGroup(name="web")["instancegroup"]  # the name is free
    assert _groups(tenant.client) == {"front": made["id"], "web": again["id"]}
    assert _groups(tenant.client, name="fro") == {"front": made["id"]}
    assert _groups(tenant.client, keyword="we") == {"web": again["id"]}
    taken = _refused(tenant.client.updateInstanceGroup, 431, id=again["id"], name="Front")
    assert "already exists" in taken
    assert tenant.client.deleteInstanceGroup(id=made["id"])["success"] is True
    assert _groups(tenant.client) == {"web": again["id"]}
    _refused(tenant.client.deleteInstanceGroup, 431, id=made["id"])


def test_names_are_unique_per_account_and_groups_stay_with_their_owner(server) -> None:
    admin = server.client()
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    mine = alice.client.createInstanceGroup(name="web")["instancegroup"]
    theirs = bob.client.createInstanceGroup(name="web")["instancegroup"]
    assert _groups(alice.client, listall=True) == {"web": mine["id"]}
    assert _groups(bob.client, id=mine["id"]) == {}
    _refused(bob.client.updateInstanceGroup, 531, id=mine["id"], name="stolen")
    _refused(bob.client.deleteInstanceGroup, 531, id=mine["id"])
    _refused(
        bob.client.createInstanceGroup,
        531,
        name="planted",
        account=alice.username,
        domainid=alice.domain_id,
    )
    assert _groups(alice.client) == {"web": mine["id"]}
    for_alice = admin.createInstanceGroup(
        name="ops", account=alice.username, domainid=alice.domain_id
    )["instancegroup"]
    assert for_alice["account"] == alice.username
    assert set(_groups(alice.client)) == {"web", "ops"}
    listed = {g["id"] for g in admin.listInstanceGroups(listall=True)["instancegroup"]}
    assert {mine["id"], theirs["id"], for_alice["id"]} <= listed


def test_bad_names_and_projects_are_refused_and_change_nothing(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    _refused(tenant.client.createInstanceGroup, 431, name="x" * 256)
    _refused(tenant.client.createInstanceGroup, 431, name="   ")
    text = _refused(
        tenant.client.createInstanceGroup,
        431,
        name="p",
        projectid="11111111-2222-3333-4444-555555555555",
    )
    assert "Unable to find project" in text
    assert _groups(tenant.client) == {}


def test_a_new_group_named_at_deploy_is_made_and_the_vm_shows_it(server, place) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    first = _deploy(tenant.client, place, place.small, group="batch")
    group_id = _groups(tenant.client)["batch"]
    assert (first["group"], first["groupid"]) == ("batch", group_id)
    second = _deploy(tenant.client, place, place.small, group="batch")
    alone = _deploy(tenant.client, place, place.small)
    assert second["groupid"] == group_id and "groupid" not in alone and "group" not in alone
    assert _in_group(tenant.client, group_id) == {first["id"], second["id"]}
    assert list(_groups(tenant.client)) == ["batch"]


def test_update_moves_a_vm_between_groups_and_an_empty_name_takes_it_out(server, place) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    vm = _deploy(tenant.client, place, place.small, group="old")
    moved = tenant.client.updateVirtualMachine(id=vm["id"], group="new")["virtualmachine"]
    groups = _groups(tenant.client)
    assert moved["groupid"] == groups["new"] and moved["group"] == "new"
    assert _in_group(tenant.client, groups["old"]) == set()
    assert _in_group(tenant.client, groups["new"]) == {vm["id"]}
    out = tenant.client.updateVirtualMachine(id=vm["id"], group="")["virtualmachine"]
    assert "groupid" not in out and _in_group(tenant.client, groups["new"]) == set()
    _refused(tenant.client.updateVirtualMachine, 431, id=vm["id"], group="y" * 256)
    assert "groupid" not in _vm(tenant.client, vm["id"])


def test_renaming_shows_on_the_vms_and_deleting_leaves_them_in_no_group(server, place) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    vm = _deploy(tenant.client, place, place.small, group="blue")
    group_id = vm["groupid"]
    tenant.client.updateInstanceGroup(id=group_id, name="green")
    assert _vm(tenant.client, vm["id"])["group"] == "green"
    tenant.client.deleteInstanceGroup(id=group_id)
    after = _vm(tenant.client, vm["id"])
    assert "group" not in after and "groupid" not in after and after["state"] == "Running"
    again = tenant.client.updateVirtualMachine(id=vm["id"], group="green")["virtualmachine"]
    assert again["groupid"] != group_id


def test_another_account_cannot_put_a_vm_in_or_list_vms_by_a_group_it_does_not_own(
    server, place
) -> None:
    admin = server.client()
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    vm = _deploy(alice.client, place, place.small, group="mine")
    _refused(bob.client.updateVirtualMachine, 531, id=vm["id"], group="theirs")
    assert bob.client.listVirtualMachines(groupid=vm["groupid"]) == {}
    assert _groups(bob.client) == {}
    assert _vm(alice.client, vm["id"])["group"] == "mine"


def test_concurrent_deploys_naming_one_new_group_all_land_in_it(server, place) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    with ThreadPoolExecutor(4) as pool:
        vms = list(
            pool.map(lambda _: _deploy(tenant.client, place, place.small, group="herd"), range(4))
        )
    groups = _groups(tenant.client)
    assert list(groups) == ["herd"]
    assert _in_group(tenant.client, groups["herd"]) == {vm["id"] for vm in vms}


def test_concurrent_creates_of_one_name_make_one_group(server) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)

    def create(_: int) -> int:
        try:
            tenant.client.createInstanceGroup(name="race")
        except CloudStackApiException as refused:
            return int(refused.error["errorcode"])
        return 200

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(create, range(6)))
    assert codes == [200] + [431] * 5
    assert list(_groups(tenant.client)) == ["race"]


def test_answers_carry_4_3_response_fields(server, place) -> None:
    admin = server.client()
    tenant = make_tenant(server, admin)
    vm = _deploy(tenant.client, place, place.small, group="fields")
    answers = {
        "listInstanceGroups": tenant.client.listInstanceGroups()["instancegroup"],
        "createInstanceGroup": [tenant.client.createInstanceGroup(name="g2")["instancegroup"]],
    }
    for command, items in answers.items():
        expected = set(reference()[command].response) - set(
            UNBUILT_FIELDS.get("listInstanceGroups", {})
        )
        assert expected - set().union(*(set(item) for item in items)) == set(), command
    assert {"group", "groupid"} <= set(_vm(tenant.client, vm["id"]))
