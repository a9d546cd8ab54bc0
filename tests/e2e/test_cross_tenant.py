"""The cross-tenant probe: no account sees or changes another account's resources.

One server for the module, with two domains; in each a domain administrator and two plain user
accounts that own resources of every kind the simulator makes quickly. Every list command of the
command tables is asked by a plain user of another account and by the administrator of the other
domain, with and without owner filters; every change command that takes an id is handed the
victim's ids. A command is either probed or listed in `NOT_PROBED` with the reason, so a new
command cannot pass unnoticed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from cs import CloudStack, CloudStackApiException

from api.cloudstack import tables
from api.dispatch import ApiCommand
from api.params import ParamType
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.factories import Tenant, make_tenant
from tests.e2e.test_networks import SOURCE_NAT_OFFERING
from tests.e2e.test_routers import SYSTEM_TEMPLATE, register_template, routers, wait_for
from tests.e2e.test_vms import Place, _deploy, _host, _place

REFUSALS = {431, 432, 530, 531, 532, 533, 534, 535, 536, 537}
OWNER_VARIANTS: tuple[tuple[str, ...], ...] = (
    (),
    ("listall",),
    ("listall", "isrecursive"),
    ("domainid",),
    ("domainid", "listall", "isrecursive"),
    ("domainid", "account"),
    ("account",),
    ("projectid",),
)


@dataclass
class Holder:
    """A plain user account and the ids of what it owns."""

    tenant: Tenant
    name: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> CloudStack:
        return self.tenant.client


@dataclass
class World:
    server: Server
    admin: CloudStack
    place: Place
    domains: dict[str, dict]
    bosses: dict[str, Tenant]
    holders: dict[str, list[Holder]]
    api_keys: dict[str, str]  # user id → API key, of every tenant


def _fabric(admin: CloudStack, zone: str) -> None:
    physical = admin.createPhysicalNetwork(
        zoneid=zone, name="fabric", isolationmethods="VXLAN", vlan="6000-6019"
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled")
    admin.createVlanIpRange(
        zoneid=zone,
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.60",
        forvirtualnetwork="true",
    )


def _stock(world_admin: CloudStack, place: Place, holder: Holder) -> None:
    """One resource of every kind the simulator makes quickly, owned by the holder."""
    client, ids = holder.client, holder.ids
    offering = client.listNetworkOfferings(name=SOURCE_NAT_OFFERING)["networkoffering"][0]
    ids["network"] = client.createNetwork(
        name=f"net-{holder.name}",
        displaytext="net",
        networkofferingid=offering["id"],
        zoneid=place.zone,
    )["network"]["id"]
    vm = _deploy(client, place, place.small, name=f"vm-{holder.name}")
    ids["vm"] = vm["id"]
    assert wait_for(
        lambda: [r["state"] for r in routers(world_admin, networkid=ids["network"])] == ["Running"]
    )
    ids["root"] = client.listVolumes(virtualmachineid=vm["id"])["volume"][0]["id"]
    disk = client.listDiskOfferings()["diskoffering"][0]
    ids["volume"] = client.createVolume(
        name=f"data-{holder.name}", zoneid=place.zone, diskofferingid=disk["id"], fetch_result=True
    )["volume"]["id"]
    ids["snapshot"] = client.createSnapshot(volumeid=ids["root"], fetch_result=True)["snapshot"][
        "id"
    ]
    ids["vmsnapshot"] = client.createVMSnapshot(virtualmachineid=vm["id"], fetch_result=True)[
        "vmsnapshot"
    ]["id"]
    (nat,) = client.listPublicIpAddresses(issourcenat="true")["publicipaddress"]
    ids["sourcenat"] = nat["id"]
    ip = client.associateIpAddress(networkid=ids["network"], fetch_result=True)["ipaddress"]
    ids["ip"] = ip["id"]
    ids["firewall"] = client.createFirewallRule(
        ipaddressid=ip["id"], protocol="tcp", startport=1000, endport=1000, fetch_result=True
    )["firewallrule"]["id"]
    ids["portforward"] = client.createPortForwardingRule(
        ipaddressid=ip["id"],
        privateport=22,
        publicport=22,
        protocol="tcp",
        virtualmachineid=vm["id"],
        fetch_result=True,
    )["portforwardingrule"]["id"]
    ids["loadbalancer"] = client.createLoadBalancerRule(
        publicipid=ip["id"],
        name=f"lb-{holder.name}",
        algorithm="roundrobin",
        publicport=80,
        privateport=8080,
        fetch_result=True,
    )["loadbalancer"]["id"]
    ids["securitygroup"] = client.createSecurityGroup(name=f"sg-{holder.name}")["securitygroup"][
        "id"
    ]
    ids["vpn"] = client.createRemoteAccessVpn(publicipid=nat["id"], fetch_result=True)[
        "remoteaccessvpn"
    ]["id"]
    ids["vpnuser"] = client.addVpnUser(
        username=f"v{holder.name}", password=f"Pw{uuid.uuid4().hex[:12]}", fetch_result=True
    )["vpnuser"]["id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("cross-tenant")
    env = {"STRATUS_SIMULATOR_CONTROL": str(root / "control.json")}
    server = start_server(root / "data", env)
    try:
        yield _build(server)
    finally:
        stop_server(server)


def _build(server: Server) -> World:
    admin = server.client()
    place = _place(admin)
    for n in range(2):
        _host(admin, place, f"h{n}", cores=32, memory=64)
    register_template(admin, SYSTEM_TEMPLATE)
    _fabric(admin, place.zone)
    domains, bosses, holders = {}, {}, {}
    for side in ("east", "west"):
        domain = admin.createDomain(name=side)["domain"]
        domains[side] = domain
        bosses[side] = make_tenant(server, admin, account_type=2, domain_id=domain["id"])
        holders[side] = [
            Holder(make_tenant(server, admin, domain_id=domain["id"]), f"{side}{n}")
            for n in range(2)
        ]
        for holder in holders[side]:
            _stock(admin, place, holder)
    keys = {
        u["id"]: u["apikey"]
        for u in admin.listUsers(listall=True)["user"]
        if u.get("apikey") and u["id"] != server.admin.get("userid")
    }
    return World(server, admin, place, domains, bosses, holders, keys)


# ---- what a victim owns, and where it must not show --------------------------------------------


def _answer(client: CloudStack, command: str, params: dict[str, Any]) -> Any:
    """The answer to a command, or the CloudStack refusal's code."""
    try:
        return getattr(client, command)(**params)
    except CloudStackApiException as refused:
        code = int(refused.error.get("errorcode", 0))
        assert code in REFUSALS, (command, params, refused.error)
        return code


def _owner_params(variant: tuple[str, ...], victim: Holder) -> dict[str, str]:
    values = {
        "listall": "true",
        "isrecursive": "true",
        "domainid": victim.tenant.domain_id,
        "account": victim.tenant.username,
        "projectid": str(uuid.uuid4()),
    }
    return {name: values[name] for name in variant}


def _secrets_of(world: World, victim: Holder) -> set[str]:
    """Strings of the victim that no other account may be shown: its ids, its API key."""
    owned = set(victim.ids.values()) | {victim.tenant.account_id, victim.tenant.user_id}
    owned.add(world.api_keys[victim.tenant.user_id])
    return owned


def _leaks(answer: Any, secrets: set[str]) -> set[str]:
    text = orjson.dumps(answer).decode()
    return {s for s in secrets if s in text}


def test_plain_user_with_domainid_sees_only_own_account(world: World) -> None:
    east0, east1 = world.holders["east"]
    for command, key in (
        ("listUsers", "user"),
        ("listAccounts", "account"),
        ("listVirtualMachines", "virtualmachine"),
        ("listVolumes", "volume"),
    ):
        answer = getattr(east1.client, command)(domainid=east1.tenant.domain_id)
        owners = {item.get("accountid", item.get("id")) for item in answer[key]}
        if key == "account":
            assert owners == {east1.tenant.account_id}
        assert not _leaks(answer, _secrets_of(world, east0)), command


def test_plain_user_cannot_read_the_domain_admins_api_key(world: World) -> None:
    boss, user = world.bosses["east"], world.holders["east"][0]
    answer = user.client.listUsers(domainid=user.tenant.domain_id, listall="true")
    assert world.api_keys[boss.user_id] not in orjson.dumps(answer).decode()
    assert [u["id"] for u in answer["user"]] == [user.tenant.user_id]


def test_plain_user_naming_another_account_or_domain_is_refused(world: World) -> None:
    east0, east1 = world.holders["east"]
    west = world.domains["west"]
    for params in (
        {"domainid": east1.tenant.domain_id, "account": east0.tenant.username},
        {"account": east0.tenant.username},
        {"domainid": west["id"]},
    ):
        with pytest.raises(CloudStackApiException) as refused:
            east1.client.listVirtualMachines(**params)
        assert refused.value.error["errorcode"] == 531, params
