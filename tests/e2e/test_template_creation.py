"""Templates made from a VM's ROOT volume through the `cs` client: the VM's owner stops it and
asks for a template; the job answers it Ready in the VM's zone, owned by the VM's account, and
new VMs deploy from it. Who may make one, from what, and what each refusal leaves behind."""

from __future__ import annotations

from typing import Any

from cs import CloudStack

from tests.e2e.factories import make_tenant
from tests.e2e.test_isos_and_sharing import UBUNTU, _refused
from tests.e2e.test_vms import _host, _place

PUBLIC_USER_TEMPLATES = "allow.public.user.templates"


def _root(client: CloudStack, vm_id: str) -> dict[str, Any]:
    return client.listVolumes(virtualmachineid=vm_id, type="ROOT")["volume"][0]


def _create(client: CloudStack, name: str, **params: Any) -> dict[str, Any]:
    made = client.createTemplate(
        name=name, displaytext=f"{name} image", ostypeid=UBUNTU, fetch_result=True, **params
    )
    return dict(made["template"])


def _own_templates(client: CloudStack) -> set[str]:
    return {t["name"] for t in client.listTemplates(templatefilter="self").get("template", [])}


def test_a_stopped_vms_root_volume_becomes_a_template_its_owner_deploys_from(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    user = make_tenant(sandbox, admin)
    neighbour = make_tenant(sandbox, admin)
    vm = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template,
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    root = _root(user.client, vm["id"])
    source = admin.listTemplates(templatefilter="all", id=place.template)["template"][0]

    text = _refused(user.client.createTemplate, 534, name="early", displaytext="early",
                    ostypeid=UBUNTU, volumeid=root["id"], fetch_result=True)  # fmt: skip
    assert "must be Stopped" in text
    _refused(neighbour.client.createTemplate, 531, name="theft", displaytext="theft",
             ostypeid=UBUNTU, volumeid=root["id"])  # fmt: skip
    _refused(neighbour.client.createTemplate, 531, name="theft", displaytext="theft",
             ostypeid=UBUNTU, virtualmachineid=vm["id"])  # fmt: skip
    user.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    _refused(user.client.createTemplate, 531, name="tagged", displaytext="tagged",
             ostypeid=UBUNTU, volumeid=root["id"], templatetag="gold")  # fmt: skip
    assert _own_templates(user.client) == set()

    made = _create(
        user.client, "golden", volumeid=root["id"], passwordenabled=True, bits=32,
        isfeatured=True, requireshvm=False, url="ignored", **{"details[0].nic": "e1000"},
    )  # fmt: skip
    assert made["isready"] is True and made["status"] == "Download Complete"
    assert (made["zoneid"], made["accountid"], made["hypervisor"]) == (
        place.zone, user.account_id, "Simulator",
    )  # fmt: skip
    assert made["format"] == source["format"]
    assert made["sourcetemplateid"] == place.template
    assert made["size"] == root["size"]
    assert made["passwordenabled"] is True and made["isfeatured"] is False  # users feature nothing
    assert made["ispublic"] is False and made["templatetype"] == "USER"
    assert made["details"] == {"nic": "e1000"}
    assert _own_templates(user.client) == {"golden"}
    assert "golden" not in _own_templates(neighbour.client)

    clone = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=made["id"],
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    assert (clone["state"], clone["templateid"]) == ("Running", made["id"])
    _refused(neighbour.client.deployVirtualMachine, 531, zoneid=place.zone,
             serviceofferingid=place.small["id"], templateid=made["id"])  # fmt: skip

    by_vm = _create(user.client, "by-vm", virtualmachineid=vm["id"])
    assert by_vm["isready"] is True and by_vm["accountid"] == user.account_id
    featured = _create(admin, "featured", volumeid=root["id"], isfeatured=True, templatetag="x")
    assert featured["isfeatured"] is True and featured["templatetag"] == "x"
    assert featured["accountid"] == user.account_id  # the VM's owner owns it


def test_what_a_template_cannot_be_made_from_is_refused_and_changes_nothing(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    user = make_tenant(sandbox, admin)
    vm = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template,
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    root = _root(user.client, vm["id"])
    snapshot = user.client.createSnapshot(volumeid=root["id"], fetch_result=True)["snapshot"]
    user.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    base = {"name": "nope", "displaytext": "nope", "ostypeid": UBUNTU}

    text = _refused(user.client.createTemplate, 431, snapshotid=snapshot["id"], **base)
    assert "snapshot" in text and "not supported" in text
    _refused(user.client.createTemplate, 431, **base)  # no source at all
    _refused(user.client.createTemplate, 431, volumeid=root["id"], snapshotid=snapshot["id"],
             **base)  # fmt: skip
    _refused(user.client.createTemplate, 431, volumeid=root["id"], bits=16, **base)
    _refused(user.client.createTemplate, 431, volumeid=vm["id"], **base)  # not a volume
    admin.updateConfiguration(name=PUBLIC_USER_TEMPLATES, value="false")
    try:
        _refused(user.client.createTemplate, 531, volumeid=root["id"], ispublic=True, **base)
    finally:
        admin.updateConfiguration(name=PUBLIC_USER_TEMPLATES, value="true")
    never = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template,
        startvm=False, fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    text = _refused(user.client.createTemplate, 431, virtualmachineid=never["id"],
                    fetch_result=True, **base)  # fmt: skip
    assert "never run on a host" in text
    assert _own_templates(user.client) == set()

    public = _create(user.client, "shared", volumeid=root["id"], ispublic=True)
    assert public["ispublic"] is True
