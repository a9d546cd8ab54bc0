"""Resource limits through the `cs` client: an account's and a domain's limits (their own, a
parent domain's, or the max.account.* / max.domain.* defaults), counts recalculated from what
accounts hold, and deploys and volumes refused with 535 past a limit, even when they race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from api.reference import reference
from api.response_gaps import UNBUILT_FIELDS
from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_network_rules import tenant_with_network
from tests.e2e.test_networks import SOURCE_NAT_OFFERING
from tests.e2e.test_vms import Place, _deploy, _host, _place


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _limits(client: CloudStack, **owner: Any) -> dict[str, int]:
    listed = client.listResourceLimits(**owner)["resourcelimit"]
    return {row["resourcetype"]: row["max"] for row in listed}


def _owner(admin: CloudStack, tenant: Tenant) -> dict[str, str]:
    name = admin.listAccounts(id=tenant.account_id)["account"][0]["name"]
    return {"account": name, "domainid": tenant.domain_id}


def test_an_account_has_the_default_limits_until_one_is_set(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    owner = _owner(admin, tenant)
    mine = _limits(tenant.client)
    assert mine == {
        "0": 20, "1": 20, "2": 20, "3": 20, "4": 20, "5": 10,
        "6": 20, "7": 20, "8": 40, "9": 40960, "10": 200, "11": 400,
    }  # fmt: skip
    changed = admin.updateResourceLimit(resourcetype=0, max=3, **owner)["resourcelimit"]
    assert (changed["account"], changed["resourcetype"], changed["max"]) == (
        owner["account"],
        "0",
        3,
    )
    assert _limits(tenant.client, resourcetype=0) == {"0": 3}
    assert _limits(admin, resourcetype=0, **owner) == {"0": 3}
    admin.updateResourceLimit(resourcetype=0, **owner)  # no max: unlimited
    assert _limits(tenant.client)["0"] == -1
    _refused(admin.updateResourceLimit, 431, resourcetype=12, max=1, **owner)
    _refused(admin.updateResourceLimit, 431, resourcetype=0, max=-2, **owner)
    _refused(tenant.client.updateResourceLimit, 432, resourcetype=0, max=99, **owner)
    assert _limits(tenant.client)["0"] == -1


def test_a_domain_takes_the_nearest_limit_above_or_the_default(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    parent = admin.createDomain(name="parent", parentdomainid=sandbox.domain_id)["domain"]
    child = admin.createDomain(name="child", parentdomainid=parent["id"])["domain"]
    assert _limits(admin, domainid=child["id"])["8"] == 80  # max.domain.cpus
    admin.updateResourceLimit(domainid=parent["id"], resourcetype=8, max=16)
    assert _limits(admin, domainid=child["id"])["8"] == 16
    listed = admin.listResourceLimits(domainid=parent["id"], isrecursive=True, resourcetype=8)
    assert {(r["domain"], r["max"]) for r in listed["resourcelimit"]} == {
        ("parent", 16),
        ("child", 16),
    }
    text = _refused(admin.updateResourceLimit, 431, domainid=child["id"], resourcetype=8, max=17)
    assert "parent" in text
    admin.updateResourceLimit(domainid=child["id"], resourcetype=8, max=4)
    assert _limits(admin, domainid=child["id"])["8"] == 4
    boss = make_tenant(sandbox, admin, account_type=2, domain_id=child["id"])
    _refused(boss.client.updateResourceLimit, 531, domainid=child["id"], resourcetype=8, max=2)
    _refused(boss.client.updateResourceLimit, 531, domainid=parent["id"], resourcetype=8, max=2)


def _world(sandbox: Sandbox) -> tuple[CloudStack, Place]:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=64, memory=64)
    return admin, place


def test_deploys_past_an_accounts_limit_are_refused_and_destroying_frees_room(
    sandbox: Sandbox,
) -> None:
    admin, place = _world(sandbox)
    tenant = make_tenant(sandbox, admin)
    admin.updateResourceLimit(resourcetype=0, max=1, **_owner(admin, tenant))
    first = _deploy(tenant.client, place, place.small)
    text = _refused(_deploy, 535, client=tenant.client, place=place, offering=place.small)
    assert "user_vm" in text or "instance" in text
    assert len(tenant.client.listVirtualMachines()["virtualmachine"]) == 1
    tenant.client.destroyVirtualMachine(id=first["id"], fetch_result=True)
    _deploy(tenant.client, place, place.small)


def test_memory_and_volume_limits_refuse_what_would_pass_them(sandbox: Sandbox) -> None:
    admin, place = _world(sandbox)
    tenant = make_tenant(sandbox, admin)
    owner = _owner(admin, tenant)
    admin.updateResourceLimit(resourcetype=9, max=600, **owner)  # one Small Instance (512 MiB)
    _deploy(tenant.client, place, place.small)
    _refused(_deploy, 535, client=tenant.client, place=place, offering=place.small)
    admin.updateResourceLimit(resourcetype=2, max=1, **owner)  # its ROOT volume is the one
    offering = admin.listDiskOfferings()["diskoffering"][0]
    _refused(
        tenant.client.createVolume,
        535,
        name="data",
        zoneid=place.zone,
        diskofferingid=offering["id"],
        fetch_result=True,
    )
    assert len(tenant.client.listVolumes()["volume"]) == 1


def test_a_domains_limit_holds_for_all_its_accounts_together(sandbox: Sandbox) -> None:
    admin, place = _world(sandbox)
    team = admin.createDomain(name="team", parentdomainid=sandbox.domain_id)["domain"]
    admin.updateResourceLimit(domainid=team["id"], resourcetype=0, max=2)
    alice = make_tenant(sandbox, admin, domain_id=team["id"])
    bob = make_tenant(sandbox, admin, domain_id=team["id"])
    _deploy(alice.client, place, place.small)
    _deploy(bob.client, place, place.small)
    text = _refused(_deploy, 535, client=alice.client, place=place, offering=place.small)
    assert "team" in text


def test_racing_deploys_never_pass_a_limit(sandbox: Sandbox) -> None:
    admin, place = _world(sandbox)
    tenant = make_tenant(sandbox, admin)
    admin.updateResourceLimit(resourcetype=0, max=3, **_owner(admin, tenant))

    def deploy(_: int) -> tuple[int, str]:
        try:
            _deploy(tenant.client, place, place.small)
        except CloudStackApiException as refused:
            return int(refused.error["errorcode"]), refused.error["errortext"]
        return 0, ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = sorted(pool.map(deploy, range(8)))
    assert [code for code, _ in outcomes] == [0] * 3 + [535] * 5, outcomes
    assert len(tenant.client.listVirtualMachines()["virtualmachine"]) == 3


def test_resource_counts_are_recalculated_for_an_account_and_its_domain(sandbox: Sandbox) -> None:
    admin, place = _world(sandbox)
    team = admin.createDomain(name="counted", parentdomainid=sandbox.domain_id)["domain"]
    tenant = make_tenant(sandbox, admin, domain_id=team["id"])
    _deploy(tenant.client, place, place.small)
    owner = _owner(admin, tenant)
    counted = admin.updateResourceCount(**owner)["resourcecount"]
    counts = {row["resourcetype"]: row["resourcecount"] for row in counted}
    assert (counts["0"], counts["8"], counts["9"], counts["2"]) == (1, 1, 512, 1)
    assert counted[0]["account"] == owner["account"]
    (domain_vms,) = admin.updateResourceCount(domainid=team["id"], resourcetype=0)["resourcecount"]
    assert (domain_vms["domainid"], domain_vms["resourcecount"]) == (team["id"], 1)
    _refused(tenant.client.updateResourceCount, 432, domainid=team["id"])


def test_answers_carry_4_3_response_fields_but_those_declared_unbuilt(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    tenant = make_tenant(sandbox, admin)
    owner = _owner(admin, tenant)
    key = admin.listUsers(id=tenant.user_id)["user"][0]["apikey"]
    answers = {
        "listResourceLimits": admin.listResourceLimits(**owner)["resourcelimit"],
        "updateResourceLimit": [
            admin.updateResourceLimit(resourcetype=3, max=5, **owner)["resourcelimit"]
        ],
        "updateResourceCount": admin.updateResourceCount(**owner)["resourcecount"],
        "getUser": [admin.getUser(userapikey=key)["user"]],
    }
    gaps = {}
    for command, items in answers.items():
        expected = set(reference()[command].response) - set(UNBUILT_FIELDS.get(command, {}))
        missing = sorted(expected - set().union(*(set(item) for item in items)))
        if missing:
            gaps[command] = missing
    assert gaps == {}


def _counts(admin: CloudStack, owner: dict[str, str]) -> dict[str, int]:
    counted = admin.updateResourceCount(**owner)["resourcecount"]
    return {row["resourcetype"]: row["resourcecount"] for row in counted}


def test_addresses_networks_snapshots_and_templates_are_limited_too(sandbox: Sandbox) -> None:
    admin, alice, _bob, network, (vm, _) = tenant_with_network(sandbox)
    user, owner = alice.client, _owner(admin, alice)
    held = _counts(admin, owner)
    assert (held["1"], held["6"]) == (1, 1)  # the network's source-NAT address
    admin.updateResourceLimit(resourcetype=1, max=2, **owner)
    ip = user.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    _refused(user.associateIpAddress, 535, networkid=network["id"], fetch_result=True)
    user.disassociateIpAddress(id=ip["id"], fetch_result=True)
    user.associateIpAddress(networkid=network["id"], fetch_result=True)
    admin.updateResourceLimit(resourcetype=6, max=1, **owner)
    offering = admin.listNetworkOfferings(name=SOURCE_NAT_OFFERING)["networkoffering"][0]
    zone = network["zoneid"]
    made = dict(name="more", displaytext="more", networkofferingid=offering["id"], zoneid=zone)
    _refused(user.createNetwork, 535, **made)
    admin.updateResourceLimit(resourcetype=3, max=0, **owner)
    root = user.listVolumes(virtualmachineid=vm["id"])["volume"][0]
    _refused(user.createSnapshot, 535, volumeid=root["id"], fetch_result=True)
    admin.updateResourceLimit(resourcetype=4, max=0, **owner)
    os_type = user.listOsTypes()["ostype"][0]["id"]
    image = dict(displaytext="mine", hypervisor="Simulator", format="QCOW2", ostypeid=os_type)
    url = "http://images.example.org/mine.qcow2"
    _refused(user.registerTemplate, 535, name="mine", url=url, zoneid=zone, **image)
    assert user.listTemplates(templatefilter="self") == {}
    assert _counts(admin, owner) == held | {"1": 2, "2": held["2"]}


def test_an_account_shows_its_limits_totals_and_what_is_left(sandbox: Sandbox) -> None:
    admin, place = _world(sandbox)
    tenant = make_tenant(sandbox, admin)
    admin.updateResourceLimit(resourcetype=0, max=5, **_owner(admin, tenant))
    _deploy(tenant.client, place, place.small)
    (account,) = tenant.client.listAccounts()["account"]
    assert (account["vmlimit"], account["vmtotal"], account["vmavailable"]) == ("5", 1, "4")
    assert (account["memorytotal"], account["memoryavailable"]) == (512, str(40960 - 512))
    assert (account["cpulimit"], account["vmrunning"], account["vmstopped"]) == ("40", 1, 0)
    assert account["volumetotal"] == 1 and account["primarystoragelimit"] == "200"
    (boss,) = admin.listAccounts(name=sandbox.admin_name)["account"]
    assert (boss["vmlimit"], boss["vmavailable"]) == ("Unlimited", "Unlimited")
