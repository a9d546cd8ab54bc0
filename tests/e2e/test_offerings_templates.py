"""Offerings and templates through `cs` against a real server (in-process bus and adapters)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cs import CloudStackApiException

from domain.template import os_type_id
from tests.e2e.factories import make_tenant

UBUNTU = str(os_type_id("Ubuntu 14.04 (64-bit)"))
NATS_ADAPTERS = ("simulator", "kvm")  # beside the server on the NATS leg: a KVM template too


def _refused(call: Any, status: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    error = refused.value.error
    assert refused.value.error["errorcode"] == status, error
    assert set(error) >= {"errorcode", "cserrorcode", "errortext"}
    return str(error["errortext"])


def _zone(admin, name: str = "z1") -> str:
    return admin.createZone(
        name=name, networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]["id"]


def _by_name(listing: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in listing.get(key, [])}


def test_offerings_fixed_custom_system_and_disk_and_who_may_manage_them(sandbox) -> None:
    admin = sandbox.client()
    seeded = _by_name(admin.listServiceOfferings(), "serviceoffering")
    assert set(seeded) == {"Small Instance", "Medium Instance"}  # as 4.3 seeds them
    small, medium = seeded["Small Instance"], seeded["Medium Instance"]
    assert (small["cpunumber"], small["cpuspeed"], small["memory"]) == (1, 500, 512)
    assert (medium["cpunumber"], medium["cpuspeed"], medium["memory"]) == (1, 1000, 1024)
    assert not small["iscustomized"] and small["storagetype"] == "shared"
    system = _by_name(admin.listServiceOfferings(issystem=True), "serviceoffering")
    assert {o["systemvmtype"] for o in system.values()} == {
        "domainrouter",
        "consoleproxy",
        "secondarystoragevm",
    }
    router = system["System Offering For Software Router"]
    assert (router["cpunumber"], router["cpuspeed"], router["memory"]) == (1, 500, 128)
    assert system["System Offering For Console Proxy - Local Storage"]["storagetype"] == "local"
    assert all(o["issystem"] and o["defaultuse"] for o in system.values())
    assert all("memory" in o for o in system.values())

    fixed = admin.createServiceOffering(
        name="big", displaytext="Big", cpunumber=4, cpuspeed=2000, memory=8192, offerha=True
    )["serviceoffering"]
    assert (fixed["cpunumber"], fixed["iscustomized"], fixed["offerha"]) == (4, False, True)
    custom = admin.createServiceOffering(name="dyn", displaytext="Dynamic")["serviceoffering"]
    assert custom["iscustomized"] is True
    text = _refused(admin.createServiceOffering, 431, name="half", displaytext="x", cpunumber=2)
    assert (
        text
        == "For creating a custom compute offering cpu, cpu speed and memory all should be null"
    )
    _refused(
        admin.createServiceOffering, 431, name="m", displaytext="x", cpunumber=1, cpuspeed=1,
        memory=16,
    )  # fmt: skip
    renamed = admin.updateServiceOffering(id=fixed["id"], name="bigger", sortkey=1)
    assert renamed["serviceoffering"]["name"] == "bigger"

    disks = _by_name(admin.listDiskOfferings(), "diskoffering")
    assert disks["Small"]["disksize"] == 5 and disks["Custom"]["iscustomized"] is True
    assert (disks["Medium"]["disksize"], disks["Large"]["disksize"]) == (20, 100)
    assert disks["Large"]["displaytext"] == "Large Disk, 100 GB"
    disk = admin.createDiskOffering(name="d50", displaytext="50 GB", disksize=50)["diskoffering"]
    assert disk["disksize"] == 50 and disk["storagetype"] == "shared"
    _refused(admin.createDiskOffering, 431, name="none", displaytext="no size")

    user = make_tenant(sandbox, admin)
    _refused(user.client.createServiceOffering, 432, name="u", displaytext="u")
    _refused(user.client.deleteServiceOffering, 432, id=fixed["id"])
    _refused(user.client.listServiceOfferings, 531, issystem=True)
    assert "bigger" in _by_name(user.client.listServiceOfferings(), "serviceoffering")
    # A disk offering not displayed is listed to root administrators only
    assert "d50" in _by_name(user.client.listDiskOfferings(), "diskoffering")
    hidden = admin.updateDiskOffering(id=disk["id"], displayoffering="false")["diskoffering"]
    assert hidden["displayoffering"] is False
    assert "d50" not in _by_name(user.client.listDiskOfferings(), "diskoffering")
    assert _by_name(admin.listDiskOfferings(), "diskoffering")["d50"]["displayoffering"] is False
    _refused(user.client.updateDiskOffering, 432, id=disk["id"], displayoffering="true")
    assert admin.deleteServiceOffering(id=fixed["id"]) == {"success": True}
    assert admin.deleteDiskOffering(id=disk["id"]) == {"success": True}
    assert "bigger" not in _by_name(admin.listServiceOfferings(), "serviceoffering")


def test_domain_admins_create_offerings_for_their_domain_that_only_it_sees(sandbox) -> None:
    admin = sandbox.client()
    sales = admin.createDomain(name="sales")["domain"]["id"]
    other = admin.createDomain(name="other")["domain"]["id"]
    boss = make_tenant(sandbox, admin, account_type=2, domain_id=sales)
    clerk = make_tenant(sandbox, admin, domain_id=sales)
    outsider = make_tenant(sandbox, admin, domain_id=other)
    _refused(boss.client.createServiceOffering, 531, name="p", displaytext="p")
    _refused(boss.client.createServiceOffering, 531, name="o", displaytext="o", domainid=other)
    made = boss.client.createServiceOffering(
        name="sales-small", displaytext="s", cpunumber=1, cpuspeed=500, memory=256, domainid=sales
    )["serviceoffering"]
    assert made["domainid"] == sales and made["domain"] == "sales"
    assert "sales-small" in _by_name(clerk.client.listServiceOfferings(), "serviceoffering")
    assert "sales-small" not in _by_name(outsider.client.listServiceOfferings(), "serviceoffering")
    public = _by_name(boss.client.listServiceOfferings(), "serviceoffering")["Small Instance"]
    _refused(boss.client.updateServiceOffering, 531, id=public["id"], name="mine")


def _wait_template(client, template_id: str, *, ready: bool, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        item = client.listTemplates(templatefilter="all", id=template_id)["template"][0]
        if item["isready"] == ready and item["status"] != "Downloading":
            return item
        if time.monotonic() > deadline:
            raise AssertionError(f"template stayed {item['status']}")
        time.sleep(0.05)


def test_templates_download_per_hypervisor_and_filters_depend_on_the_caller(sandbox) -> None:
    admin = sandbox.client()
    zone = _zone(admin)
    register = dict(zoneid=zone, ostypeid=UBUNTU, displaytext="t")
    sim = admin.registerTemplate(
        name="sim", hypervisor="Simulator", format="QCOW2", ispublic=True, isfeatured=True,
        url="http://images.example.org/sim.qcow2?size_gb=3", **register,
    )["template"][0]  # fmt: skip
    assert (sim["templatetype"], sim["zoneid"]) == ("USER", zone)
    # The simulator downloads at once: the answer may already show the download done.
    assert (sim["isready"], sim["status"]) in {
        (False, "Not Downloaded"),
        (False, "Downloading"),
        (True, "Download Complete"),
    }
    done = _wait_template(admin, sim["id"], ready=True)
    assert done["status"] == "Download Complete" and done["size"] == 3 * 1024**3
    assert done["ostypename"] == "Ubuntu 14.04 (64-bit)" and done["account"] == sandbox.admin_name

    failed = admin.registerTemplate(
        name="broken", hypervisor="Simulator", format="VHD",
        url="http://images.example.org/x.vhd?fail=checksum+mismatch", **register,
    )["template"][0]  # fmt: skip
    assert "checksum mismatch" in _wait_template(admin, failed["id"], ready=False)["status"]
    kvm = admin.registerTemplate(
        name="kvm", hypervisor="KVM", format="QCOW2", url="http://i.example.org/k.qcow2", **register
    )["template"][0]
    # The KVM driver stores templates in an image store, and this server names none.
    assert "STRATUS_KVM_IMAGE_STORE" in _wait_template(admin, kvm["id"], ready=False)["status"]
    for hypervisor, image_format, url in (
        ("XenServer", "VHD", "http://i.example.org/x.vhd.bz2"),
        ("VMware", "OVA", "http://i.example.org/v.ova"),
        ("Hyperv", "VHDX", "http://i.example.org/h.vhdx"),
    ):
        item = admin.registerTemplate(
            name=hypervisor, hypervisor=hypervisor, format=image_format, url=url, **register
        )["template"][0]
        assert item["hypervisor"] == hypervisor and item["format"] == image_format
    text = _refused(
        admin.registerTemplate, 431, name="bad", hypervisor="XenServer", format="QCOW2",
        url="http://i.example.org/b.qcow2", **register,
    )  # fmt: skip
    assert "not supported by hypervisor XenServer" in text

    user = make_tenant(sandbox, admin)
    mine = user.client.registerTemplate(
        name="mine", hypervisor="Simulator", format="VHD", url="http://i.example.org/m.vhd",
        **register,
    )["template"][0]  # fmt: skip
    _wait_template(admin, mine["id"], ready=True)
    _refused(
        user.client.registerTemplate, 531, name="sys", hypervisor="KVM", format="QCOW2",
        url="http://i.example.org/s.qcow2", templatetype="SYSTEM", **register,
    )  # fmt: skip
    admin.registerTemplate(
        name="systemvm-kvm", hypervisor="KVM", format="QCOW2", templatetype="SYSTEM",
        url="http://i.example.org/systemvm.qcow2", **register,
    )  # fmt: skip
    # 4.3's routing template is a SYSTEM one: a root admin's, never another type's.
    _refused(
        user.client.registerTemplate, 531, name="rt", hypervisor="KVM", format="QCOW2",
        url="http://i.example.org/r.qcow2", isrouting="true", **register,
    )  # fmt: skip
    _refused(
        admin.registerTemplate, 431, name="rt", hypervisor="KVM", format="QCOW2",
        url="http://i.example.org/r.qcow2", isrouting="true", templatetype="USER", **register,
    )  # fmt: skip
    routing = admin.registerTemplate(
        name="router-kvm", hypervisor="KVM", format="QCOW2", isrouting="true",
        url="http://i.example.org/router.qcow2", **register,
    )["template"][0]  # fmt: skip
    assert routing["templatetype"] == "SYSTEM"

    def names(client, which: str) -> set[str]:
        return set(_by_name(client.listTemplates(templatefilter=which), "template"))

    assert names(user.client, "featured") == {"sim"}
    assert names(user.client, "self") == {"mine"}
    assert names(user.client, "selfexecutable") == {"mine"}
    assert names(user.client, "executable") == {"sim", "mine"}
    assert names(user.client, "community") == set()
    assert names(user.client, "sharedexecutable") == set()
    _refused(user.client.listTemplates, 431, templatefilter="all")
    assert {"systemvm-kvm", "router-kvm", "mine"} <= names(admin, "all")
    assert names(admin, "selfexecutable") == {"sim", "mine"}
    assert names(admin, "featured") == {"sim"}
    _refused(user.client.updateTemplate, 531, id=sim["id"], name="taken")
    _refused(user.client.deleteTemplate, 531, id=sim["id"])
    os_types = user.client.listOsTypes(keyword="ubuntu")["ostype"]
    assert UBUNTU in {t["id"] for t in os_types}
    assert user.client.listOsCategories(name="Ubuntu")["count"] == 1


def test_a_user_updates_and_deletes_their_own_template(sandbox) -> None:
    admin = sandbox.client()
    zone = _zone(admin)
    user = make_tenant(sandbox, admin)
    item = user.client.registerTemplate(
        name="own", displaytext="own", hypervisor="Simulator", format="VHD", zoneid=zone,
        ostypeid=UBUNTU, url="http://i.example.org/own.vhd",
    )["template"][0]  # fmt: skip
    updated = user.client.updateTemplate(id=item["id"], name="renamed")["template"]
    assert updated["name"] == "renamed"
    job = user.client.deleteTemplate(id=item["id"])["jobid"]
    deadline = time.monotonic() + 10
    while user.client.queryAsyncJobResult(jobid=job)["jobstatus"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert user.client.queryAsyncJobResult(jobid=job)["jobresult"] == {"success": True}
    assert user.client.listTemplates(templatefilter="self") == {}


def test_a_template_url_naming_a_local_host_is_refused_unless_the_operator_allows_it(
    server,
) -> None:
    # A server of its own: the test changes an operator setting every account would see.
    admin = server.client()
    user = make_tenant(server, admin)
    register = dict(
        zoneid=_zone(admin), ostypeid=UBUNTU, displaytext="t", hypervisor="Simulator",
        format="QCOW2",
    )  # fmt: skip
    for url in (
        "http://127.0.0.1:5432/x.qcow2",
        "http://169.254.169.254/latest/meta-data/x.qcow2",
        "http://[::ffff:127.0.0.1]:22/x.qcow2",
        "http://2130706433/x.qcow2",
        "http://localhost/x.qcow2",
    ):
        text = _refused(user.client.registerTemplate, 431, name="probe", url=url, **register)
        assert text == "Illegal host specified in url"
    for url in ("http://[::1/x.qcow2", "http://images.example.org:99999/x.qcow2"):
        text = _refused(user.client.registerTemplate, 431, name="probe", url=url, **register)
        assert text.startswith("Invalid URL")
    assert user.client.listTemplates(templatefilter="self").get("template", []) == []

    sites = "secstorage.allowed.internal.sites"
    _refused(admin.updateConfiguration, 431, name=sites, value="0.0.0.0/0")
    _refused(admin.updateConfiguration, 431, name=sites, value="10.0.0.0/8,mirror")
    admin.updateConfiguration(name=sites, value="127.0.0.1")
    assert admin.listConfigurations(name=sites)["configuration"][0]["value"] == "127.0.0.1/32"
    mirror = user.client.registerTemplate(
        name="mirror", url="http://127.0.0.1:8080/x.qcow2", **register
    )["template"][0]
    assert mirror["name"] == "mirror"
    _refused(
        user.client.registerTemplate, 431, name="p", url="http://127.0.0.2/x.qcow2", **register
    )


def test_an_image_larger_than_the_operators_limit_fails_without_saying_more(server) -> None:
    # A server of its own: the test changes an operator setting every account would see.
    admin = server.client()
    register = dict(zoneid=_zone(admin), ostypeid=UBUNTU, displaytext="t", hypervisor="Simulator")
    assert (
        admin.listConfigurations(name="max.template.iso.size")["configuration"][0]["value"] == "50"
    )
    admin.updateConfiguration(name="max.template.iso.size", value="2")

    big = admin.registerTemplate(
        name="big", format="QCOW2", url="http://images.example.org/big.qcow2?size_gb=3", **register
    )["template"][0]
    small = admin.registerTemplate(
        name="small", format="QCOW2", url="http://images.example.org/s.qcow2?size_gb=2", **register
    )["template"][0]

    status = _wait_template(admin, big["id"], ready=False)["status"]
    assert "did not serve a file within the limits" in status and "size_gb" not in status
    assert _wait_template(admin, small["id"], ready=True)["size"] == 2 * 1024**3


def test_offerings_set_storage_qos_or_io_throttling_and_answer_what_they_set(sandbox) -> None:
    admin = sandbox.client()
    fixed = admin.createDiskOffering(
        name="gold", displaytext="Gold", disksize=10, miniops=500, maxiops=1000,
        hypervisorsnapshotreserve=25,
    )["diskoffering"]  # fmt: skip
    assert (fixed["miniops"], fixed["maxiops"], fixed["hypervisorsnapshotreserve"]) == (
        500,
        1000,
        25,
    )
    assert fixed["iscustomizediops"] is False
    custom = admin.createDiskOffering(
        name="pick", displaytext="Pick", disksize=10, customizediops=True
    )["diskoffering"]
    assert custom["iscustomizediops"] is True and "miniops" not in custom
    throttled = admin.createServiceOffering(
        name="slow", displaytext="Slow", cpunumber=1, cpuspeed=500, memory=512,
        bytesreadrate=1048576, byteswriterate=524288, iopsreadrate=200, iopswriterate=100,
    )["serviceoffering"]  # fmt: skip
    rates = ("diskBytesReadRate", "diskBytesWriteRate", "diskIopsReadRate", "diskIopsWriteRate")
    assert [throttled[key] for key in rates] == [1048576, 524288, 200, 100]
    assert throttled["iscustomizediops"] is False and "miniops" not in throttled
    compute = admin.createServiceOffering(
        name="iops", displaytext="IOPS", cpunumber=1, cpuspeed=500, memory=512, miniops=100,
        maxiops=200,
    )["serviceoffering"]  # fmt: skip
    assert (compute["miniops"], compute["maxiops"]) == (100, 200)

    listed = _by_name(admin.listDiskOfferings(), "diskoffering")
    assert (listed["gold"]["miniops"], listed["gold"]["hypervisorsnapshotreserve"]) == (500, 25)
    assert listed["pick"]["iscustomizediops"] is True
    assert listed["Small"]["iscustomizediops"] is False and "miniops" not in listed["Small"]
    services = _by_name(admin.listServiceOfferings(), "serviceoffering")
    assert [services["slow"][key] for key in rates] == [1048576, 524288, 200, 100]
    assert services["iops"]["maxiops"] == 200

    before = len(admin.listDiskOfferings()["diskoffering"])
    for wrong in (
        {"miniops": 1000, "maxiops": 500},
        {"miniops": 100},
        {"customizediops": True, "miniops": 1, "maxiops": 2},
        {"miniops": 1, "maxiops": 2, "bytesreadrate": 1000},
        {"hypervisorsnapshotreserve": -5},
    ):
        _refused(admin.createDiskOffering, 431, name="bad", displaytext="b", disksize=1, **wrong)
        _refused(
            admin.createServiceOffering, 431, name="bad", displaytext="b", cpunumber=1,
            cpuspeed=500, memory=512, **wrong,
        )  # fmt: skip
    assert len(admin.listDiskOfferings()["diskoffering"]) == before
    assert "bad" not in _by_name(admin.listServiceOfferings(), "serviceoffering")
