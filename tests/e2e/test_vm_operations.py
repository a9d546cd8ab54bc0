"""VM operations through the `cs` client: updateVirtualMachine with every 4.3 parameter (each
refused with 4.3's code when bad, then changing nothing), restoreVirtualMachine and
cleanVMReservations."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_audit_trail import _stratus
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, wait_for
from tests.e2e.test_vms import _deploy, _host, _place, _vm


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _b64(size: int) -> str:
    return base64.b64encode(b"#" * size).decode()


def test_an_owner_changes_every_property_and_sees_it_listed(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small, name="web-1")
    assert (vm["isdynamicallyscalable"], vm["displayvm"]) == (False, True)
    os_type = admin.listOsTypes()["ostype"][-1]["id"]

    updated = alice.client.updateVirtualMachine(
        id=vm["id"],
        name="web-2",
        displayname="Web two",
        haenable="true",
        ostypeid=os_type,
        isdynamicallyscalable="true",
        userdata=base64.b64encode(b"#cloud-config\n").decode(),
    )["virtualmachine"]
    assert (updated["name"], updated["displayname"], updated["haenable"]) == (
        "web-2",
        "Web two",
        True,
    )
    assert (updated["guestosid"], updated["isdynamicallyscalable"]) == (os_type, True)
    listed = _vm(alice.client, vm["id"])
    assert (listed["name"], listed["isdynamicallyscalable"]) == ("web-2", True)
    assert "userdata" not in listed  # 4.3 never shows it back


def test_user_data_is_base64_within_2kb_by_get_and_32kb_by_post(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    update = alice.client.updateVirtualMachine
    assert "not base64" in _refused(update, 431, id=vm["id"], userdata="not*base64!")
    assert "too long" in _refused(update, 431, id=vm["id"], userdata=_b64(2049))
    assert update(id=vm["id"], userdata=_b64(2048))["virtualmachine"]["id"] == vm["id"]

    by_post = sandbox.client(alice.client.key, alice.client.secret, method="post")
    done = by_post.updateVirtualMachine(id=vm["id"], userdata=_b64(20000))["virtualmachine"]
    assert done["id"] == vm["id"]
    text = _refused(by_post.updateVirtualMachine, 431, id=vm["id"], userdata=_b64(24576))
    assert "too long" in text


def test_only_a_root_admin_hides_a_vm_and_lists_by_display(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    shown = _deploy(alice.client, place, place.small)
    hidden = _deploy(alice.client, place, place.small)
    _refused(alice.client.updateVirtualMachine, 531, id=hidden["id"], displayvm="false")
    assert _vm(alice.client, hidden["id"])["displayvm"] is True

    done = admin.updateVirtualMachine(id=hidden["id"], displayvm="false")["virtualmachine"]
    assert done["displayvm"] is False
    found = admin.listVirtualMachines(domainid=alice.domain_id, listall="true", displayvm="false")
    assert [v["id"] for v in found["virtualmachine"]] == [hidden["id"]]
    found = admin.listVirtualMachines(domainid=alice.domain_id, listall="true", displayvm="true")
    assert [v["id"] for v in found["virtualmachine"]] == [shown["id"]]
    _refused(alice.client.listVirtualMachines, 531, displayvm="false")


def test_bad_names_and_other_tenants_change_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small, name="app")
    update = alice.client.updateVirtualMachine
    for bad in ("9lives", "-edge", "under_score", "x" * 64):
        assert "Invalid name" in _refused(update, 431, id=vm["id"], name=bad, displayname="no")
    _refused(bob.client.updateVirtualMachine, 531, id=vm["id"], name="taken-over")
    _refused(bob.client.updateVirtualMachine, 531, id=vm["id"], isdynamicallyscalable="true")
    after = _vm(alice.client, vm["id"])
    assert (after["name"], after["displayname"], after["isdynamicallyscalable"]) == (
        "app",
        "app",
        False,
    )


def test_a_host_name_is_unique_among_the_vms_of_a_network(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    network = alice.client.createNetwork(
        name="web",
        displaytext="web",
        networkofferingid=_offering(alice.client, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]
    _deploy(alice.client, place, place.small, name="one", networkids=network["id"])
    two = _deploy(alice.client, place, place.small, name="two", networkids=network["id"])
    text = _refused(alice.client.updateVirtualMachine, 431, id=two["id"], name="ONE")
    assert "already exists in the network web" in text
    assert _vm(alice.client, two["id"])["name"] == "two"
    renamed = alice.client.updateVirtualMachine(id=two["id"], name="three")["virtualmachine"]
    assert renamed["name"] == "three"


def test_cleaning_reservations_keeps_the_room_of_placed_vms(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    before = admin.listHosts(id=host["id"])["host"][0]["memoryallocated"]
    assert before == 512 * 1024**2
    _refused(alice.client.cleanVMReservations, 432)
    done = admin.cleanVMReservations(fetch_result=True)
    assert done["success"] is True
    assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == before
    assert _vm(alice.client, vm["id"])["state"] == "Running"


def _second_template(admin, zone_id: str, hypervisor: str = "Simulator", ready=True) -> str:
    template = admin.registerTemplate(
        name=f"other-{hypervisor.lower()}",
        displaytext="other",
        url=f"http://images.example.org/other-{hypervisor.lower()}.qcow2",
        hypervisor=hypervisor,
        format="QCOW2",
        ostypeid=admin.listOsTypes()["ostype"][0]["id"],
        zoneid=zone_id,
        ispublic="true",
    )["template"][0]["id"]
    assert not ready or wait_for(
        lambda: admin.listTemplates(templatefilter="all", id=template)["template"][0].get("isready")
    )
    return template


def _job_refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as failed:
        call(fetch_result=True, **params)
    assert failed.value.error["errorcode"] == code, failed.value.error
    return str(failed.value.error["errortext"])


def test_a_vm_is_restored_to_its_template_or_a_new_one_keeping_its_power_state(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    restored = alice.client.restoreVirtualMachine(virtualmachineid=vm["id"], fetch_result=True)
    restored = restored["virtualmachine"]
    assert (restored["id"], restored["state"]) == (vm["id"], "Running")
    assert restored["templateid"] == place.template

    other = _second_template(admin, place.zone)
    _refused(bob.client.restoreVirtualMachine, 531, virtualmachineid=vm["id"])
    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    moved = alice.client.restoreVirtualMachine(
        virtualmachineid=vm["id"], templateid=other, fetch_result=True
    )["virtualmachine"]
    assert (moved["state"], moved["templateid"]) == ("Stopped", other)
    assert _vm(alice.client, vm["id"])["templatename"] == "other-simulator"
    started = alice.client.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert (started["state"], started["templateid"]) == ("Running", other)


def test_a_restore_is_refused_for_a_destroyed_vm_or_a_template_not_in_its_zone(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    kvm_template = _second_template(admin, place.zone, "KVM", ready=False)  # no KVM host here
    text = _refused(
        alice.client.restoreVirtualMachine, 431, virtualmachineid=vm["id"], templateid=kvm_template
    )
    assert "has not been completely downloaded" in text
    alice.client.destroyVirtualMachine(id=vm["id"], fetch_result=True)
    text = _job_refused(alice.client.restoreVirtualMachine, 431, virtualmachineid=vm["id"])
    assert "in state Destroyed" in text
    assert _vm(alice.client, vm["id"])["templateid"] == place.template


def test_a_stopped_vm_and_its_volumes_are_assigned_to_another_account(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["iscustomized"])
    disk = alice.client.createVolume(
        name="data-1", zoneid=place.zone, diskofferingid=custom["id"], size=2, fetch_result=True
    )["volume"]
    alice.client.attachVolume(id=disk["id"], virtualmachineid=vm["id"], fetch_result=True)
    to_bob = {"virtualmachineid": vm["id"], "account": bob.username, "domainid": bob.domain_id}
    _refused(alice.client.assignVirtualMachine, 432, **to_bob)
    assert "only a stopped VM" in _refused(admin.assignVirtualMachine, 431, **to_bob)

    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    bob_limit = {"resourcetype": 0, "account": bob.username, "domainid": bob.domain_id}
    admin.updateResourceLimit(max=0, **bob_limit)  # no room for one more VM: refused, unmoved
    assert _refused(admin.assignVirtualMachine, 535, **to_bob)
    assert _vm(alice.client, vm["id"])["account"] == alice.username
    admin.updateResourceLimit(max=-1, **bob_limit)
    moved = admin.assignVirtualMachine(**to_bob)["virtualmachine"]
    totals = {
        a["name"]: (a["vmtotal"], a["volumetotal"])
        for a in admin.listAccounts(domainid=sandbox.domain_id, listall="true")["account"]
        if a["name"] in (alice.username, bob.username)
    }
    assert totals == {alice.username: (0, 0), bob.username: (1, 2)}  # the counts moved too
    assert (moved["id"], moved["account"], moved["state"]) == (vm["id"], bob.username, "Stopped")
    assert alice.client.listVirtualMachines() == {}
    assert alice.client.listVolumes() == {}
    _refused(alice.client.startVirtualMachine, 531, id=vm["id"])
    assert bob.client.listVirtualMachines()["count"] == 1
    volumes = bob.client.listVolumes()["volume"]
    assert {(v["type"], v["account"]) for v in volumes} == {
        ("ROOT", bob.username),
        ("DATADISK", bob.username),
    }
    assert "belongs to that account already" in _refused(admin.assignVirtualMachine, 431, **to_bob)
    started = bob.client.startVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert started["state"] == "Running"


def test_an_assignment_that_cannot_be_done_changes_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small, startvm="false", group="web")
    to = {"virtualmachineid": vm["id"], "domainid": bob.domain_id}
    assert "in a group" in _refused(admin.assignVirtualMachine, 431, account=bob.username, **to)
    _refused(admin.assignVirtualMachine, 431, account="nobody-at-all", **to)
    assert _vm(alice.client, vm["id"])["account"] == alice.username


def _start_user_data(sandbox, vm_id: str) -> list[str]:
    """The user data each start request of the VM carried to its host."""
    done = _stratus(sandbox, "history", vm_id, "--json")
    assert done.returncode == 0, done.stderr
    history = [orjson.loads(line) for line in done.stdout.splitlines()]
    return [r["data"]["user_data"] for r in history if r["event"] == "StartRequested"]


def test_user_data_given_at_deploy_or_update_reaches_the_host_at_each_start(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    first, second = _b64(100), base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    refused = _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        userdata="%%%",
    )
    assert "not base64" in refused
    assert alice.client.listVirtualMachines() == {}
    vm = _deploy(alice.client, place, place.small, userdata=first)
    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    alice.client.updateVirtualMachine(id=vm["id"], userdata=second)
    alice.client.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _start_user_data(sandbox, vm["id"]) == [first, second]
