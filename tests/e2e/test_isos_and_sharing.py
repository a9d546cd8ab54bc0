"""ISOs and template sharing through the `cs` client: ISOs registered, listed by ISO filter,
updated, copied between zones and deleted; templates and ISOs shared with accounts of the
owner's domain, who then list and deploy from them; copies and preparation of templates."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from domain.template import os_type_id
from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import wait_for
from tests.e2e.test_vms import _host, _place

UBUNTU = str(os_type_id("Ubuntu 14.04 (64-bit)"))


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _zone(admin: CloudStack, *, store: bool = True) -> str:
    """A zone of its own; with `store`, a simulator cluster keeps its images."""
    token = uuid.uuid4().hex[:6]
    zone = admin.createZone(
        name=f"z-{token}", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]["id"]
    if store:
        pod = admin.createPod(
            name=f"p-{token}", zoneid=zone, gateway="10.1.0.1", netmask="255.255.255.0",
            startip="10.1.0.10", endip="10.1.0.200",
        )["pod"]["id"]  # fmt: skip
        admin.addCluster(
            clustername=f"c-{token}", podid=pod, zoneid=zone, hypervisor="Simulator",
            clustertype="CloudManaged",
        )  # fmt: skip
    return zone


def _iso(client: CloudStack, zone: str, name: str, url: str = "", **extra: Any) -> dict:
    return client.registerIso(
        name=name, displaytext=f"{name} disc", url=url or f"http://images.example.org/{name}.iso",
        zoneid=zone, **({"ostypeid": UBUNTU} | extra),
    )["iso"][0]  # fmt: skip


def _ready(client: CloudStack, command: str, key: str, item_id: str, zone: str) -> dict:
    def look() -> dict | None:
        filters = {"isofilter" if key == "iso" else "templatefilter": "all"}
        listed = getattr(client, command)(id=item_id, zoneid=zone, **filters).get(key, [])
        return listed[0] if listed and listed[0]["isready"] else None

    found = wait_for(look)
    assert found, f"{item_id} never became ready in {zone}"
    return found


def _names(client: CloudStack, command: str, key: str, **filters: Any) -> set[str]:
    return {i["name"] for i in getattr(client, command)(**filters).get(key, [])}


def test_isos_are_registered_listed_by_filter_updated_copied_and_deleted(sandbox) -> None:
    admin = sandbox.client()
    zone, other = _zone(admin), _zone(admin)
    user = make_tenant(sandbox, admin)
    neighbour = make_tenant(sandbox, admin)
    boot = _iso(admin, zone, "boot", ispublic=True, isfeatured=True)
    mine = _iso(user.client, zone, "mine")
    data = user.client.registerIso(
        name="data", displaytext="data", url="http://images.example.org/d.iso", zoneid=zone,
        bootable=False,
    )["iso"][0]  # fmt: skip
    assert (mine["format"], mine["bootable"], mine["account"]) == ("ISO", True, user.username)
    assert "hypervisor" not in mine and data["bootable"] is False
    for item in (boot, mine, data):
        ready = _ready(admin, "listIsos", "iso", item["id"], zone)
        assert ready["status"] == "Download Complete" and ready["zoneid"] == zone

    iso_names = lambda client, **f: _names(client, "listIsos", "iso", **f)  # noqa: E731
    assert iso_names(user.client) == {"mine", "data"}  # selfexecutable unless told
    assert iso_names(user.client, isofilter="featured") >= {"boot"}
    assert iso_names(user.client, isofilter="self") == {"mine", "data"}
    assert iso_names(user.client, isofilter="executable") >= {"boot", "mine", "data"}
    assert iso_names(user.client, isofilter="self", bootable=False) == {"data"}
    assert iso_names(user.client, isofilter="sharedexecutable") == set()
    assert iso_names(neighbour.client, isofilter="executable") & {"mine", "data"} == set()
    _refused(user.client.listIsos, 431, isofilter="all")
    _refused(user.client.listIsos, 431, isofilter="mine")
    assert _names(user.client, "listTemplates", "template", templatefilter="self") == set()

    assert "GuestOS" in _refused(
        user.client.registerIso, 431, name="x", displaytext="x", zoneid=zone,
        url="http://images.example.org/x.iso",
    )  # fmt: skip
    _refused(_iso, 431, client=user.client, zone=zone, name="x", url="http://i.example.org/x.img")
    assert "no image store" in _refused(_iso, 431, client=admin, zone=_zone(admin, store=False),
                                        name="nowhere")  # fmt: skip
    _refused(_iso, 531, client=user.client, zone=zone, name="x", isfeatured=True)
    assert iso_names(user.client, isofilter="self") == {"mine", "data"}  # refusals made nothing

    renamed = user.client.updateIso(id=mine["id"], name="mine2", bootable=False)["iso"]
    assert (renamed["name"], renamed["bootable"]) == ("mine2", False)
    _refused(neighbour.client.updateIso, 531, id=mine["id"], name="taken")
    _refused(user.client.updateIso, 431, id=boot["id"], format="QCOW2")
    _refused(user.client.updateTemplate, 431, id=mine["id"], name="not a template")

    copied = user.client.copyIso(id=mine["id"], destzoneid=other, fetch_result=True)["iso"]
    assert copied["zoneid"] == other and copied["id"] == mine["id"]
    _ready(admin, "listIsos", "iso", mine["id"], other)
    assert {i["zoneid"] for i in user.client.listIsos(id=mine["id"])["iso"]} == {zone, other}
    _refused(user.client.copyIso, 431, id=mine["id"], destzoneid=zone, sourcezoneid=zone,
             fetch_result=True)  # fmt: skip
    _refused(neighbour.client.copyIso, 531, id=mine["id"], destzoneid=other)

    _refused(neighbour.client.deleteIso, 531, id=mine["id"])
    user.client.deleteIso(id=mine["id"], zoneid=other, fetch_result=True)
    assert {i["zoneid"] for i in user.client.listIsos(id=mine["id"])["iso"]} == {zone}
    user.client.deleteIso(id=mine["id"], fetch_result=True)
    assert iso_names(user.client, isofilter="self") == {"data"}


def test_a_shared_template_is_listed_and_deployed_by_the_accounts_it_is_shared_with(
    sandbox,
) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    owner = make_tenant(sandbox, admin)
    friend = make_tenant(sandbox, admin)
    stranger = make_tenant(sandbox, admin)
    elsewhere = admin.createDomain(name=f"else-{uuid.uuid4().hex[:6]}")["domain"]["id"]
    outsider = make_tenant(sandbox, admin, domain_id=elsewhere)
    template = owner.client.registerTemplate(
        name="golden", displaytext="golden", url="http://images.example.org/golden.qcow2",
        hypervisor="Simulator", format="QCOW2", ostypeid=UBUNTU, zoneid=place.zone,
    )["template"][0]  # fmt: skip
    _ready(admin, "listTemplates", "template", template["id"], place.zone)
    tpl_names = lambda client, f: _names(client, "listTemplates", "template", templatefilter=f)  # noqa: E731

    _refused(friend.client.deployVirtualMachine, 531, zoneid=place.zone,
             serviceofferingid=place.small["id"], templateid=template["id"])  # fmt: skip
    owner.client.updateTemplatePermissions(id=template["id"], accounts=friend.username, op="add")
    permissions = owner.client.listTemplatePermissions(id=template["id"])["templatepermission"]
    assert permissions == {
        "id": template["id"],
        "ispublic": False,
        "domainid": owner.domain_id,
        "account": [friend.username],
        "projectids": [],
    }
    assert tpl_names(friend.client, "sharedexecutable") == {"golden"}
    assert "golden" in tpl_names(friend.client, "executable")
    assert "golden" not in tpl_names(stranger.client, "executable")
    vm = friend.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=template["id"],
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    assert vm["templateid"] == template["id"] and vm["account"] == friend.username

    text = _refused(
        owner.client.updateTemplatePermissions, 431, id=template["id"],
        accounts=outsider.username, op="add",
    )  # fmt: skip
    assert "account not found" in text
    _refused(owner.client.updateTemplatePermissions, 431, id=template["id"],
             accounts=stranger.username)  # fmt: skip
    _refused(owner.client.updateTemplatePermissions, 531, id=template["id"], isfeatured=True)
    _refused(owner.client.updateTemplatePermissions, 431, id=template["id"], isextractable=True)
    _refused(friend.client.updateTemplatePermissions, 531, id=template["id"], ispublic=True)
    _refused(stranger.client.listTemplatePermissions, 531, id=template["id"])
    assert "golden" not in tpl_names(stranger.client, "community")

    owner.client.updateTemplatePermissions(id=template["id"], accounts=friend.username, op="remove")
    assert tpl_names(friend.client, "sharedexecutable") == set()
    owner.client.updateTemplatePermissions(id=template["id"], ispublic=True)
    assert "golden" in tpl_names(stranger.client, "community")
    public = stranger.client.listTemplatePermissions(id=template["id"])["templatepermission"]
    assert public["ispublic"] is True and public["account"] == []
    admin.updateTemplatePermissions(id=template["id"], isfeatured=True, isextractable=True)
    listed = owner.client.listTemplates(templatefilter="self", id=template["id"])["template"][0]
    assert (listed["isfeatured"], listed["isextractable"]) == (True, True)


def test_a_projects_templates_and_isos_are_its_own_and_shared_with_it_by_id(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    alice, bob = make_tenant(sandbox, admin), make_tenant(sandbox, admin)
    project = alice.client.createProject(name="media", displaytext="media", fetch_result=True)[
        "project"
    ]
    image = {"hypervisor": "Simulator", "format": "QCOW2", "ostypeid": UBUNTU}
    _refused(
        bob.client.registerTemplate, 531, name="theirs", displaytext="theirs", zoneid=place.zone,
        url="http://images.example.org/theirs.qcow2", projectid=project["id"], **image,
    )  # fmt: skip
    made = alice.client.registerTemplate(
        name="team", displaytext="team", url="http://images.example.org/team.qcow2",
        zoneid=place.zone, projectid=project["id"], sshkeyenabled="true", **image,
    )["template"][0]  # fmt: skip
    assert made["sshkeyenabled"] is True
    _ready(admin, "listTemplates", "template", made["id"], place.zone)
    own = _names(alice.client, "listTemplates", "template", templatefilter="self")
    of_project = _names(
        alice.client, "listTemplates", "template", templatefilter="self", projectid=project["id"]
    )
    every = _names(alice.client, "listTemplates", "template", templatefilter="self", projectid=-1)
    assert ("team" in own, of_project, every) == (False, {"team"}, {"team"})
    _refused(bob.client.listTemplates, 531, templatefilter="self", projectid=project["id"])
    vm = alice.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=made["id"],
        projectid=project["id"], fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    assert vm["templateid"] == made["id"]

    iso = _iso(alice.client, place.zone, "team-tools", projectid=project["id"])
    listed = _names(alice.client, "listIsos", "iso", isofilter="self", projectid=project["id"])
    assert listed == {"team-tools"}
    assert "team-tools" not in _names(alice.client, "listIsos", "iso", isofilter="self")
    assert iso["account"] != alice.username

    # A template of Alice's own is shared with the project by its id, and unshared again.
    golden = alice.client.registerTemplate(
        name="golden", displaytext="golden", url="http://images.example.org/golden.qcow2",
        zoneid=place.zone, **image,
    )["template"][0]  # fmt: skip
    assert golden["sshkeyenabled"] is False
    share = alice.client.updateTemplatePermissions
    _refused(share, 431, id=golden["id"], projectids=project["id"])  # no op
    _refused(bob.client.updateTemplatePermissions, 531, id=golden["id"],
             projectids=project["id"], op="add")  # fmt: skip
    _ready(admin, "listTemplates", "template", golden["id"], place.zone)
    share(id=golden["id"], projectids=project["id"], op="add")
    shown = alice.client.listTemplatePermissions(id=golden["id"])["templatepermission"]
    assert (shown["projectids"], shown["account"]) == ([project["id"]], [])
    shared = _names(
        alice.client, "listTemplates", "template", templatefilter="sharedexecutable",
        projectid=project["id"],
    )  # fmt: skip
    assert shared == {"golden"}
    share(id=golden["id"], projectids=project["id"], op="remove")
    assert (
        alice.client.listTemplatePermissions(id=golden["id"])["templatepermission"]["projectids"]
        == []
    )


def test_isos_are_shared_like_templates(sandbox) -> None:
    admin = sandbox.client()
    zone = _zone(admin)
    owner = make_tenant(sandbox, admin)
    friend = make_tenant(sandbox, admin)
    iso = _iso(owner.client, zone, "tools")
    _ready(admin, "listIsos", "iso", iso["id"], zone)
    owner.client.updateIsoPermissions(id=iso["id"], accounts=friend.username, op="add")
    assert _names(friend.client, "listIsos", "iso", isofilter="sharedexecutable") == {"tools"}
    shown = owner.client.listIsoPermissions(id=iso["id"])["templatepermission"]
    assert shown["account"] == [friend.username]
    owner.client.updateIsoPermissions(id=iso["id"], op="reset")
    assert _names(friend.client, "listIsos", "iso", isofilter="sharedexecutable") == set()
    _refused(owner.client.listTemplatePermissions, 431, id=iso["id"])

    tag = {"tags[0].key": "team", "tags[0].value": "ops"}
    owner.client.createTags(resourceids=iso["id"], resourcetype="ISO", fetch_result=True, **tag)
    tagged = owner.client.listIsos(isofilter="self", **tag)["iso"]
    assert [i["id"] for i in tagged] == [iso["id"]]
    assert [(t["key"], t["value"]) for t in tagged[0]["tags"]] == [("team", "ops")]
    _refused(owner.client.createTags, 431, resourceids=iso["id"], resourcetype="Template",
             fetch_result=True, **tag)  # fmt: skip
    _refused(friend.client.createTags, 531, resourceids=iso["id"], resourcetype="ISO",
             fetch_result=True, **tag)  # fmt: skip


def test_templates_are_copied_to_other_zones_and_prepared_by_administrators(sandbox) -> None:
    admin = sandbox.client()
    zone, other, third = _zone(admin), _zone(admin), _zone(admin)
    user = make_tenant(sandbox, admin)
    template = user.client.registerTemplate(
        name="t", displaytext="t", url="http://images.example.org/t.qcow2?size_gb=2",
        hypervisor="Simulator", format="QCOW2", ostypeid=UBUNTU, zoneid=zone,
    )["template"][0]  # fmt: skip
    _refused(user.client.copyTemplate, 431, id=template["id"], destzoneid=zone, fetch_result=True)
    _ready(admin, "listTemplates", "template", template["id"], zone)
    copied = user.client.copyTemplate(id=template["id"], destzoneid=other, fetch_result=True)
    assert copied["template"]["zoneid"] == other
    ready = _ready(admin, "listTemplates", "template", template["id"], other)
    assert ready["size"] == 2 * 1024**3
    _refused(user.client.copyTemplate, 431, id=template["id"], destzoneid=str(uuid.uuid4()))

    _refused(user.client.prepareTemplate, 432, templateid=template["id"], zoneid=third)
    prepared = admin.prepareTemplate(templateid=template["id"], zoneid=third)["template"][0]
    assert prepared["zoneid"] == third
    _ready(admin, "listTemplates", "template", template["id"], third)
    again = admin.prepareTemplate(templateid=template["id"], zoneid=third)["template"][0]
    assert again["isready"] is True


def test_an_iso_is_attached_to_a_vm_and_detached_through_its_host(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    user = make_tenant(sandbox, admin)
    neighbour = make_tenant(sandbox, admin)
    tools = _iso(user.client, place.zone, "tools")
    other = _iso(user.client, place.zone, "other")
    private = _iso(neighbour.client, place.zone, "private")
    for item in (tools, other, private):
        _ready(admin, "listIsos", "iso", item["id"], place.zone)
    vm = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template,
        fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    assert "isoid" not in vm

    attached = user.client.attachIso(id=tools["id"], virtualmachineid=vm["id"], fetch_result=True)
    shown = attached["virtualmachine"]
    assert (shown["isoid"], shown["isoname"], shown["isodisplaytext"]) == (
        tools["id"], "tools", "tools disc",
    )  # fmt: skip
    listed = user.client.listVirtualMachines(isoid=tools["id"])["virtualmachine"]
    assert [v["id"] for v in listed] == [vm["id"]]
    assert user.client.listVirtualMachines(isoid=other["id"]) == {}

    text = _refused(user.client.attachIso, 431, id=other["id"], virtualmachineid=vm["id"],
                    fetch_result=True)  # fmt: skip
    assert "already attached" in text
    _refused(user.client.attachIso, 531, id=private["id"], virtualmachineid=vm["id"])
    _refused(neighbour.client.attachIso, 531, id=private["id"], virtualmachineid=vm["id"])
    _refused(neighbour.client.detachIso, 531, virtualmachineid=vm["id"])
    assert user.client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["isoid"] == tools["id"]

    assert "detach it first" in _refused(user.client.deleteIso, 431, id=tools["id"])
    detached = user.client.detachIso(virtualmachineid=vm["id"], fetch_result=True)
    assert "isoid" not in detached["virtualmachine"]
    _refused(user.client.detachIso, 431, virtualmachineid=vm["id"], fetch_result=True)

    user.client.stopVirtualMachine(id=vm["id"], fetch_result=True)
    stopped = user.client.attachIso(id=other["id"], virtualmachineid=vm["id"], fetch_result=True)
    assert stopped["virtualmachine"]["isoid"] == other["id"]
    assert stopped["virtualmachine"]["state"] == "Stopped"

    never = user.client.deployVirtualMachine(
        zoneid=place.zone, serviceofferingid=place.small["id"], templateid=place.template,
        startvm=False, fetch_result=True,
    )["virtualmachine"]  # fmt: skip
    text = _refused(user.client.attachIso, 431, id=tools["id"], virtualmachineid=never["id"],
                    fetch_result=True)  # fmt: skip
    assert "never run on a host" in text
