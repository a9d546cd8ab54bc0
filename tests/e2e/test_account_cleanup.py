"""Deleting an account takes away what it owned, as 4.3's account cleanup does: its running VMs
destroyed and expunged, its data disk, its extra public address, then its network (its VLAN and
source NAT address given back), its template and its affinity group, with nothing left listed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from tests.e2e.factories import make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template
from tests.e2e.test_vms import _deploy, _host, _place


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_deleted_account_leaves_nothing_behind(sandbox) -> None:
    admin = sandbox.client()
    place = _place(admin)
    _host(admin, place, "h1", cores=8, memory=16)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    alice = make_tenant(sandbox, admin)
    network = alice.client.createNetwork(
        name="web",
        displaytext="web",
        networkofferingid=_offering(alice.client, SOURCE_NAT_OFFERING)["id"],
        zoneid=place.zone,
    )["network"]
    vm = _deploy(alice.client, place, place.small, networkids=network["id"])
    disk = alice.client.listDiskOfferings()["diskoffering"][0]
    volume = alice.client.createVolume(
        name="data", zoneid=place.zone, diskofferingid=disk["id"], fetch_result=True
    )["volume"]
    alice.client.attachVolume(id=volume["id"], virtualmachineid=vm["id"], fetch_result=True)
    extra = alice.client.associateIpAddress(networkid=network["id"], fetch_result=True)
    template = alice.client.registerTemplate(
        name="mine",
        displaytext="mine",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=alice.client.listOsTypes()["ostype"][0]["id"],
        url=f"http://images.example.org/{uuid.uuid4().hex[:8]}.qcow2",
        zoneid=place.zone,
    )["template"][0]
    group = alice.client.createAffinityGroup(
        name="spread", type="host anti-affinity", fetch_result=True
    )["affinitygroup"]
    held = {
        a["ipaddress"]
        for a in admin.listPublicIpAddresses(zoneid=place.zone, listall=True)["publicipaddress"]
    }
    assert extra["ipaddress"]["ipaddress"] in held

    admin.deleteAccount(id=alice.account_id, fetch_result=True)

    def gone() -> bool:
        return (
            admin.listVirtualMachines(id=vm["id"], listall=True) == {}
            and admin.listVolumes(id=volume["id"], listall=True) == {}
            and admin.listNetworks(id=network["id"], listall=True) == {}
            and admin.listTemplates(templatefilter="all", id=template["id"]) == {}
            and admin.listAffinityGroups(id=group["id"], listall=True) == {}
        )

    _until(gone, "what the account owned to be taken away")
    left = admin.listPublicIpAddresses(zoneid=place.zone, listall=True).get("publicipaddress", [])
    assert not held & {a["ipaddress"] for a in left}


def _cleanup_required(admin) -> dict[str, bool]:
    listed = admin.listAccounts(iscleanuprequired="true", listall="true").get("account", [])
    return {a["id"]: a["iscleanuprequired"] for a in listed}


def test_key_pairs_vpn_users_and_the_default_group_go_with_their_account(sandbox) -> None:
    """A removed account's cleanup is required until all it owned is gone: its SSH key pair, its
    VPN user and its default security group too. A live account that took its name since keeps
    its own key pair of the same name."""
    admin = sandbox.client()
    place = _place(admin)
    host = _host(admin, place, "h1", cores=8, memory=16)
    alice = make_tenant(sandbox, admin)
    vm = _deploy(alice.client, place, place.small)
    alice.client.createSSHKeyPair(name="laptop")
    alice.client.addVpnUser(username="road", password="warrior-01", fetch_result=True)
    alice.client.authorizeSecurityGroupIngress(
        securitygroupname="default",
        protocol="tcp",
        startport=22,
        endport=22,
        cidrlist="192.0.2.0/24",
        fetch_result=True,
    )
    (group,) = admin.listSecurityGroups(
        securitygroupname="default", account=alice.username, domainid=alice.domain_id
    )["securitygroup"]
    assert admin.listAccounts(id=alice.account_id)["account"][0]["iscleanuprequired"] is False

    # Its VM cannot be stopped: the cleanup stays required, and is retried.
    admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:false")
    admin.updateConfiguration(name="account.cleanup.interval", value="1")
    try:
        admin.deleteAccount(id=alice.account_id, fetch_result=True)
        assert _cleanup_required(admin).get(alice.account_id) is True
        assert alice.account_id not in {
            a["id"] for a in admin.listAccounts(listall="true").get("account", [])
        }
        live = admin.listAccounts(iscleanuprequired="false", listall="true")["account"]
        assert alice.account_id not in {a["id"] for a in live}
        assert all(a["iscleanuprequired"] is False for a in live)
        again = make_tenant(sandbox, admin, name=alice.username)
        again.client.createSSHKeyPair(name="laptop")
        admin.configureSimulator(hostid=host["id"], name="StopCommand", value="enabled:true")

        def gone() -> bool:
            keys = admin.listSSHKeyPairs(name="laptop", listall="true").get("sshkeypair", [])
            users = admin.listVpnUsers(username="road", listall="true").get("vpnuser", [])
            return (
                admin.listVirtualMachines(id=vm["id"], listall=True) == {}
                and len(keys) == 1
                and users == []
                and admin.listSecurityGroups(id=group["id"], listall="true") == {}
            )

        _until(gone, "the key pair, VPN user and default group to be taken away")
        _until(lambda: alice.account_id not in _cleanup_required(admin), "the cleanup to end")
        (kept,) = again.client.listSSHKeyPairs(name="laptop")["sshkeypair"]
        assert kept["name"] == "laptop"
    finally:
        admin.updateConfiguration(name="account.cleanup.interval", value="86400")
