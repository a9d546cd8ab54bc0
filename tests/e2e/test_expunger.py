"""The expunger: a destroyed VM is expunged without anyone asking once `expunge.delay` has
passed, its room given back; one recovered before then is kept. VMs take `instance.name` as
the last part of their instance names."""

from __future__ import annotations

from tests.e2e.test_vms import CUSTOM_DETAILS, _deploy, _host, _place
from tests.support.waiting import wait_until


def test_destroyed_vms_are_expunged_once_the_delay_has_passed(server) -> None:
    admin = server.client()
    admin.updateConfiguration(name="instance.name", value="QA")
    place = _place(admin)
    host = _host(admin, place, "h1")
    kept = _deploy(admin, place, place.custom, name="kept", **CUSTOM_DETAILS)
    assert kept["instancename"].endswith("-QA")
    admin.destroyVirtualMachine(id=kept["id"], fetch_result=True)
    assert admin.recoverVirtualMachine(id=kept["id"])["virtualmachine"]["state"] == "Stopped"
    gone = _deploy(admin, place, place.custom, name="gone", **CUSTOM_DETAILS)
    admin.destroyVirtualMachine(id=gone["id"], fetch_result=True)
    assert admin.listVirtualMachines(id=gone["id"])["virtualmachine"][0]["state"] == "Destroyed"
    admin.updateConfiguration(name="expunge.interval", value="1")
    admin.updateConfiguration(name="expunge.delay", value="0")
    wait_until(lambda: admin.listVirtualMachines(id=gone["id"]) == {}, 60, "the expunge")
    assert admin.listVirtualMachines(id=kept["id"])["virtualmachine"][0]["state"] == "Stopped"
    assert admin.listHosts(id=host["id"])["host"][0]["memoryallocated"] == 0
