"""deployVirtualMachine's console and identity parameters through the `cs` client, on every leg:
`keyboard` (the console's layout, carried to the host with each start), `customid` (the id a
root administrator chooses for the new VM) and `displayvm` (a root administrator's choice to
keep a VM out of end users' sight), each refused with 4.3's code when bad or not the caller's
to give, and then leaving nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.test_audit_trail import _stratus
from tests.e2e.test_vms import _deploy, _host, _place, _vm


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _started_with(sandbox, vm_id: str) -> list[str]:
    """The console keyboard layout each start request of the VM carried to its host."""
    done = _stratus(sandbox, "history", vm_id, "--json")
    assert done.returncode == 0, done.stderr
    history = [orjson.loads(line) for line in done.stdout.splitlines()]
    return [r["data"]["keyboard"] for r in history if r["event"] == "StartRequested"]


def test_a_keyboard_layout_reaches_the_host_at_every_start_and_a_bad_one_is_refused(
    sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    params = {"zoneid": place.zone, "serviceofferingid": place.small["id"]}
    text = _refused(
        alice.client.deployVirtualMachine,
        431,
        templateid=place.template,
        keyboard="qwerty",
        **params,
    )
    assert text.startswith("Invalid keyboard qwerty: valid values are de, de-ch, es")
    assert alice.client.listVirtualMachines() == {}

    vm = _deploy(alice.client, place, place.small, keyboard="fr")
    plain = _deploy(alice.client, place, place.small)
    alice.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    alice.client.startVirtualMachine(id=vm["id"], fetch_result=True)
    assert _started_with(sandbox, vm["id"]) == ["fr", "fr"]
    assert _started_with(sandbox, plain["id"]) == [""]


def test_only_a_root_admin_chooses_a_new_vms_id(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    chosen = str(uuid.uuid4())
    text = _refused(
        alice.client.deployVirtualMachine,
        531,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        customid=chosen,
    )
    assert "not allowed to create/update custom id" in text
    assert alice.client.listVirtualMachines() == {}

    owner = {"account": alice.username, "domainid": alice.domain_id}
    for bad in ("web-1", chosen.upper()):
        text = _refused(
            admin.deployVirtualMachine,
            431,
            zoneid=place.zone,
            serviceofferingid=place.small["id"],
            templateid=place.template,
            customid=bad,
            **owner,
        )
        assert text == f"UUID: {bad} doesn't follow the UUID format"
    vm = _deploy(admin, place, place.small, customid=chosen, **owner)
    assert vm["id"] == chosen and vm["state"] == "Running"
    assert _vm(alice.client, chosen)["account"] == alice.username
    again = _refused(
        admin.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        customid=chosen,
        **owner,
    )
    assert again == f"UUID: {chosen} already exists so can't create/update with custom id"
    # Another thing's id is taken too: the VM's zone.
    assert "already exists" in _refused(
        admin.deployVirtualMachine,
        431,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        customid=place.zone,
    )
    assert len(alice.client.listVirtualMachines()["virtualmachine"]) == 1

    # A user may not rename it afterwards either (tests/e2e/test_custom_ids.py renames VMs).
    _refused(alice.client.updateVirtualMachine, 531, id=chosen, customid=str(uuid.uuid4()))
    assert _vm(alice.client, chosen)["id"] == chosen


def test_only_a_root_admin_deploys_a_vm_hidden_from_end_users(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1")
    alice = make_tenant(sandbox, admin)
    text = _refused(
        alice.client.deployVirtualMachine,
        531,
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        displayvm="false",
    )
    assert text == "Parameter displayvm can only be specified by a Root Admin"
    assert alice.client.listVirtualMachines() == {}
    # Shown, every VM's default, asks for nothing: anyone may say so.
    own = _deploy(alice.client, place, place.small, displayvm="true")
    assert own["displayvm"] is True

    owner = {"account": alice.username, "domainid": alice.domain_id}
    hidden = _deploy(admin, place, place.small, displayvm="false", **owner)
    shown = _deploy(admin, place, place.small, displayvm="true", **owner)
    assert (hidden["displayvm"], shown["displayvm"]) == (False, True)
    scope = {"domainid": alice.domain_id, "listall": "true"}
    found = admin.listVirtualMachines(displayvm="false", **scope)["virtualmachine"]
    assert [v["id"] for v in found] == [hidden["id"]]
    assert len(admin.listVirtualMachines(displayvm="true", **scope)["virtualmachine"]) == 2
    assert alice.client.listVirtualMachines(id=hidden["id"]) == {}  # hidden from its owner
    shown_again = admin.updateVirtualMachine(id=hidden["id"], displayvm="true")["virtualmachine"]
    assert shown_again["displayvm"] is True
    assert _vm(alice.client, hidden["id"])["displayvm"] is True
