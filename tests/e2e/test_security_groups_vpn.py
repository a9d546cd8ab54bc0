"""Security groups and remote access VPN through the `cs` client, with simulator hosts: groups
and their rules in a Basic zone, VMs deployed into them, rule sets reaching the VMs' hosts (and
a host that refuses them alerted), a VPN on a network's router with its users; each account sees
and touches only its own; no VPN password in any answer or audit output, and the pre-shared
key only in its owner's list and in the first answer of the job that made it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from cs import CloudStack, CloudStackApiException

from domain.security_group import vm_rules_id
from tests.e2e import test_routers
from tests.e2e.conftest import Server
from tests.e2e.factories import custom_offering, make_tenant
from tests.e2e.sandbox import Sandbox
from tests.e2e.test_audit_trail import _stratus
from tests.e2e.test_networks import SOURCE_NAT_OFFERING, _fabric, _offering
from tests.e2e.test_routers import (
    SYSTEM_TEMPLATE,
    fail_next,
    register_template,
    routers,
    wait_for,
)
from tests.e2e.test_vms import Place, _deploy, _host, _place, _template

RULES_APPLIED = "Applied"
sim_sandbox = test_routers.sim_sandbox  # the fixture: a sandbox and the simulator's control file


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _basic_place(admin: CloudStack) -> Place:
    zone = admin.createZone(
        name="basic", networktype="Basic", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    pod = admin.createPod(
        name="bp",
        zoneid=zone["id"],
        gateway="10.9.0.1",
        netmask="255.255.255.0",
        startip="10.9.0.10",
        endip="10.9.0.200",
    )["pod"]
    cluster = admin.addCluster(
        clustername="bc",
        podid=pod["id"],
        zoneid=zone["id"],
        hypervisor="Simulator",
        clustertype="CloudManaged",
    )["cluster"][0]
    offerings = admin.listServiceOfferings()["serviceoffering"]
    small = next(o for o in offerings if o["name"] == "Small Instance")
    custom = custom_offering(admin)
    template = _template(admin, zone["id"])
    return Place(zone["id"], pod["id"], cluster["id"], small, custom, template)


def _history(server: Server, resource_id: str) -> list[dict]:
    done = _stratus(server, "history", resource_id, "--json")
    assert done.returncode == 0, done.stderr
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def _applied_counts(server: Server, vm_id: str) -> list[int]:
    """What the simulator reported holding for the VM, answer after answer."""
    records = _history(server, str(vm_rules_id(uuid.UUID(vm_id))))
    return [r["data"]["rule_count"] for r in records if r["event"] == RULES_APPLIED]


def test_security_groups_rules_and_deploys(sim_sandbox: tuple[Sandbox, Path]) -> None:
    server, control_file = sim_sandbox
    admin = server.client()
    place = _basic_place(admin)
    _host(admin, place, "sg-host")
    assert admin.listZones(id=place.zone)["zone"][0]["securitygroupsenabled"] is True
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)

    web = alice.client.createSecurityGroup(name="web", description="front")["securitygroup"]
    assert (web["name"], web["account"], web["ingressrule"]) == ("web", alice.username, [])
    assert "reserved" in _refused(alice.client.createSecurityGroup, 431, name="default")
    assert "already exists" in _refused(alice.client.createSecurityGroup, 431, name="web")
    assert bob.client.listSecurityGroups() == {}
    _refused(
        bob.client.authorizeSecurityGroupIngress,
        531,
        securitygroupid=web["id"],
        protocol="tcp",
        startport=22,
        endport=22,
        cidrlist="0.0.0.0/0",
    )
    assert "Invalid port range" in _refused(
        alice.client.authorizeSecurityGroupIngress,
        431,
        securitygroupid=web["id"],
        protocol="tcp",
        startport=30,
        endport=20,
        cidrlist="0.0.0.0/0",
    )

    vm = _deploy(alice.client, place, place.small, securitygroupnames="web")
    assert [g["name"] for g in vm["securitygroup"]] == ["web"]
    plain = _deploy(alice.client, place, place.small)  # no group named: the default group
    assert [g["name"] for g in plain["securitygroup"]] == ["default"]
    assert wait_for(lambda: _applied_counts(server, vm["id"]) == [0])

    granted = alice.client.authorizeSecurityGroupIngress(
        securitygroupid=web["id"],
        protocol="tcp",
        startport=22,
        endport=22,
        cidrlist="0.0.0.0/0,10.0.0.0/8",
        fetch_result=True,
    )["securitygroup"]
    assert sorted((r["protocol"], r["startport"], r["cidr"]) for r in granted["ingressrule"]) == [
        ("tcp", 22, "0.0.0.0/0"),
        ("tcp", 22, "10.0.0.0/8"),
    ]
    alice.client.authorizeSecurityGroupIngress(
        securitygroupname="web",
        protocol="icmp",
        icmptype=-1,
        icmpcode=-1,
        usersecuritygrouplist={"account": alice.username, "group": "default"},
        fetch_result=True,
    )
    alice.client.authorizeSecurityGroupEgress(
        securitygroupid=web["id"], protocol="udp", startport=53, endport=53,
        cidrlist="8.8.8.8/32", fetch_result=True,
    )  # fmt: skip
    (listed,) = alice.client.listSecurityGroups(virtualmachineid=vm["id"])["securitygroup"]
    assert len(listed["ingressrule"]) == 3 and len(listed["egressrule"]) == 1
    icmp = next(r for r in listed["ingressrule"] if r["protocol"] == "icmp")
    assert (icmp["icmptype"], icmp["icmpcode"], icmp["securitygroupname"]) == (-1, -1, "default")
    # Rules allowing a group are the members' addresses: VMs of a Basic zone have none here.
    assert wait_for(lambda: _applied_counts(server, vm["id"])[-1:] == [3])

    ssh = next(r for r in listed["ingressrule"] if r["cidr"] == "10.0.0.0/8")
    _refused(bob.client.revokeSecurityGroupIngress, 531, id=ssh["ruleid"])
    alice.client.revokeSecurityGroupIngress(id=ssh["ruleid"], fetch_result=True)
    assert wait_for(lambda: _applied_counts(server, vm["id"])[-1:] == [2])

    # A host that refuses a rule set is alerted; Stratus keeps the rules as the user set them.
    fail_next(control_file, "apply_security_rules")
    alice.client.authorizeSecurityGroupIngress(
        securitygroupid=web["id"], protocol="tcp", startport=80, endport=80,
        cidrlist="0.0.0.0/0", fetch_result=True,
    )  # fmt: skip
    alerts = wait_for(lambda: _rule_alerts(admin, vm["id"]))
    assert alerts and "could not be applied" in alerts[0]["description"]

    in_use = _refused(alice.client.deleteSecurityGroup, 536, id=web["id"])
    assert "vms in it" in in_use
    (default,) = alice.client.listSecurityGroups(securitygroupname="default")["securitygroup"]
    assert "reserved" in _refused(alice.client.deleteSecurityGroup, 431, id=default["id"])
    for machine in (vm, plain):
        admin.destroyVirtualMachine(id=machine["id"], expunge="true", fetch_result=True)
    _refused(bob.client.deleteSecurityGroup, 531, id=web["id"])
    alice.client.deleteSecurityGroup(name="web")
    assert [g["name"] for g in alice.client.listSecurityGroups()["securitygroup"]] == ["default"]

    advanced = admin.createZone(
        name="adv", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1"
    )["zone"]
    refused = _refused(
        alice.client.deployVirtualMachine,
        431,
        zoneid=advanced["id"],
        serviceofferingid=place.small["id"],
        templateid=_template(admin, advanced["id"]),
        securitygroupids=default["id"],
    )
    assert "security group feature is not enabled" in refused


def _rule_alerts(admin: CloudStack, vm_id: str) -> list[dict]:
    alerts = admin.listAlerts().get("alert", [])
    return [a for a in alerts if "Security group rules" in a["description"]]


def _vpn_network(server: Server, admin: CloudStack) -> tuple[Any, Any, dict, dict]:
    """A tenant's isolated network with its router running and its source NAT address."""
    place = _place(admin)
    _host(admin, place, "vpn-host")
    register_template(admin, SYSTEM_TEMPLATE)
    alice, bob = make_tenant(server, admin), make_tenant(server, admin)
    _fabric(admin, place.zone)
    offering = _offering(alice.client, SOURCE_NAT_OFFERING)
    network = alice.client.createNetwork(
        name="office", displaytext="office", networkofferingid=offering["id"], zoneid=place.zone
    )["network"]
    _deploy(alice.client, place, place.small)  # implements the network and starts its router
    assert wait_for(
        lambda: [r["state"] for r in routers(admin, networkid=network["id"])] == ["Running"]
    )
    (source_nat,) = alice.client.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    return alice, bob, network, source_nat


def test_remote_access_vpn_and_its_users_keep_their_secrets(
    sim_sandbox: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    server, _control = sim_sandbox
    admin = server.client()
    alice, bob, network, ip = _vpn_network(server, admin)
    password, other_password = f"Pw{uuid.uuid4().hex[:20]}", f"Qw{uuid.uuid4().hex[:20]}"
    answers: list[Any] = []

    def keep(answer: Any) -> Any:
        answers.append(answer)
        return answer

    keep(alice.client.addVpnUser(username="carol", password=password, fetch_result=True))
    _refused(bob.client.createRemoteAccessVpn, 531, publicipid=ip["id"])
    created = alice.client.createRemoteAccessVpn(publicipid=ip["id"], fetch_result=True)
    vpn = created["remoteaccessvpn"]
    key = vpn.pop("presharedkey")  # shown once, to its owner, in the job's result
    assert len(key) == 24 and vpn["publicip"] == ip["ipaddress"] and vpn["state"] == "Running"
    assert vpn["iprange"] == "10.1.2.1-10.1.2.8"
    already = _refused(alice.client.createRemoteAccessVpn, 431, publicipid=ip["id"])
    assert "already exists" in already

    listed = alice.client.listRemoteAccessVpns()["remoteaccessvpn"]
    assert [(v["id"], v["state"]) for v in listed] == [(vpn["id"], "Running")]
    assert listed[0]["presharedkey"] == key  # to its owner, as CloudStack lists it
    assert (
        "presharedkey" not in keep(admin.listRemoteAccessVpns(listall=True))["remoteaccessvpn"][0]
    )
    jobs = keep(alice.client.listAsyncJobs())["asyncjobs"]  # the key only once: not again
    (job,) = [j for j in jobs if j.get("jobinstanceid") == vpn["id"]]
    again = keep(alice.client.queryAsyncJobResult(jobid=job["jobid"]))
    assert again["jobresult"]["remoteaccessvpn"]["id"] == vpn["id"]
    assert keep(bob.client.listRemoteAccessVpns()) == {}
    assert keep(bob.client.listVpnUsers()) == {}
    users = keep(alice.client.listVpnUsers())["vpnuser"]
    assert [(u["username"], u["state"]) for u in users] == [("carol", "Active")]
    assert "password" not in users[0]

    keep(alice.client.addVpnUser(username="dave", password=other_password, fetch_result=True))
    assert "already added" in _refused(
        alice.client.addVpnUser, 431, username="dave", password=other_password
    )
    assert "Password" in _refused(alice.client.addVpnUser, 431, username="erin", password="a b")
    _refused(bob.client.removeVpnUser, 431, username="dave")
    keep(alice.client.removeVpnUser(username="dave", fetch_result=True))
    assert wait_for(
        lambda: [u["username"] for u in keep(alice.client.listVpnUsers())["vpnuser"]] == ["carol"]
    )
    _refused(bob.client.deleteRemoteAccessVpn, 531, publicipid=ip["id"])
    keep(alice.client.deleteRemoteAccessVpn(publicipid=ip["id"], fetch_result=True))
    assert keep(alice.client.listRemoteAccessVpns()) == {}
    keep(alice.client.listEvents(listall=True))
    keep(admin.listEvents(listall=True))
    keep(admin.listAsyncJobs(listall=True))
    keep(alice.client.listNetworks(id=network["id"]))

    export = tmp_path / "audit.jsonl"
    outputs = [orjson.dumps(answers).decode(), server.output()]
    signing = ("--signing-key", str(tmp_path / "audit-signing.key"))
    for argv in (("log",), ("log", "--json"), ("export", *signing, "--output", str(export))):
        done = _stratus(server, *argv)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    outputs += [export.read_text(), _stratus(server, "history", vpn["id"], "--json").stdout]
    for text in outputs:
        for secret in (password, other_password, key):
            assert secret not in text
    assert "carol" in outputs[0]  # the search looked at real answers


def test_a_released_address_takes_its_remote_access_vpn(
    sim_sandbox: tuple[Sandbox, Path],
) -> None:
    server, _control = sim_sandbox
    admin = server.client()
    alice, _bob, network, _source_nat = _vpn_network(server, admin)
    ip = alice.client.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]
    vpn = alice.client.createRemoteAccessVpn(publicipid=ip["id"], fetch_result=True)
    assert vpn["remoteaccessvpn"]["state"] == "Running"
    alice.client.disassociateIpAddress(id=ip["id"], fetch_result=True)
    assert wait_for(lambda: alice.client.listRemoteAccessVpns() == {})
    assert alice.client.listPublicIpAddresses(id=ip["id"]) == {}
