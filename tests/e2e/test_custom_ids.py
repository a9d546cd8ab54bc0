"""Custom ids through the `cs` client: a root administrator renames a resource (`customid` on
createVolume and on the update commands), after which it is found and answered under the new id
everywhere, the old id names nothing, and no one else may rename or take an id in use."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_vms import _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _custom_offering(admin) -> dict:
    return next(o for o in admin.listDiskOfferings()["diskoffering"] if o["name"] == "Custom")


def test_a_renamed_vm_answers_its_new_id_everywhere_and_its_old_id_names_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    owner = {"account": alice.username, "domainid": alice.domain_id}
    vm = _deploy(admin, place, place.small, **owner)
    new = str(uuid.uuid4())

    text = _refused(alice.client.updateVirtualMachine, 531, id=vm["id"], customid=new)
    assert "not allowed to create/update custom id" in text
    bad = _refused(admin.updateVirtualMachine, 431, id=vm["id"], customid=new.upper())
    assert bad == f"UUID: {new.upper()} doesn't follow the UUID format"
    taken = _refused(admin.updateVirtualMachine, 431, id=vm["id"], customid=place.zone)
    assert taken == f"UUID: {place.zone} already exists so can't create/update with custom id"
    assert alice.client.listVirtualMachines()["virtualmachine"][0]["id"] == vm["id"]

    renamed = admin.updateVirtualMachine(id=vm["id"], customid=new, displayname="web")
    assert (renamed["virtualmachine"]["id"], renamed["virtualmachine"]["displayname"]) == (
        new,
        "web",
    )
    (listed,) = alice.client.listVirtualMachines()["virtualmachine"]
    assert listed["id"] == new
    assert alice.client.listVirtualMachines(id=new)["virtualmachine"][0]["name"] == vm["name"]
    # What names the VM names it by its new id: its ROOT volume, found by it.
    (root,) = alice.client.listVolumes(virtualmachineid=new)["volume"]
    assert root["virtualmachineid"] == new
    gone = _refused(alice.client.listVirtualMachines, 431, id=vm["id"])
    assert vm["id"] in gone
    _refused(alice.client.stopVirtualMachine, 431, id=vm["id"])
    stopped = alice.client.stopVirtualMachine(id=new, fetch_result=True)
    assert (stopped["virtualmachine"]["id"], stopped["virtualmachine"]["state"]) == (
        new,
        "Stopped",
    )
    # Renamed once more: the first custom id goes the way of the original.
    newer = str(uuid.uuid4())
    admin.updateVirtualMachine(id=new, customid=newer)
    assert alice.client.listVirtualMachines()["virtualmachine"][0]["id"] == newer
    assert alice.client.listVirtualMachines(id=new) == {}
    # An id once given is never given again: not to a new VM, not back to the first.
    again = _refused(admin.updateVirtualMachine, 431, id=newer, customid=new)
    assert "already exists" in again
    assert "already exists" in _refused(
        admin.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        customid=new,
    )


def test_a_volume_is_created_under_a_custom_id_and_renamed_by_update(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    offering = _custom_offering(admin)
    chosen = str(uuid.uuid4())
    params = {"zoneid": place.zone, "diskofferingid": offering["id"], "size": 1}
    text = _refused(alice.client.createVolume, 531, name="d", customid=chosen, **params)
    assert "not allowed to create/update custom id" in text
    assert alice.client.listVolumes() == {}

    made = admin.createVolume(
        name="d",
        customid=chosen,
        account=alice.username,
        domainid=alice.domain_id,
        fetch_result=True,
        **params,
    )["volume"]
    assert made["id"] == chosen
    assert alice.client.listVolumes(id=chosen)["volume"][0]["name"] == "d"
    vm = _deploy(alice.client, place, place.small)
    attached = alice.client.attachVolume(id=chosen, virtualmachineid=vm["id"], fetch_result=True)
    assert attached["volume"]["id"] == chosen

    later = str(uuid.uuid4())
    answer = admin.updateVolume(id=chosen, customid=later, fetch_result=True)
    assert answer["volume"]["id"] == later
    ids = {v["id"] for v in alice.client.listVolumes(virtualmachineid=vm["id"])["volume"]}
    assert later in ids and chosen not in ids
    assert alice.client.listVolumes(id=chosen) == {}
