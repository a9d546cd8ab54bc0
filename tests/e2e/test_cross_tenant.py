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
from tests.e2e.zones import enable_router_provider
from tests.support.certs import issued

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
    vpn_job: str = ""
    vpn_key: str = ""  # as the first answer of its job showed it
    cert_key: str = ""  # a line of its SSL certificate's private key

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
        zoneid=zone, name="fabric", isolationmethods="VXLAN", vlan="6000-6019", fetch_result=True
    )["physicalnetwork"]
    admin.updatePhysicalNetwork(id=physical["id"], state="Enabled", fetch_result=True)
    enable_router_provider(admin, physical["id"])
    admin.createVlanIpRange(
        zoneid=zone,
        vlan="100",
        gateway="203.0.113.1",
        netmask="255.255.255.0",
        startip="203.0.113.10",
        endip="203.0.113.60",
        forvirtualnetwork="true",
    )


def _finished(client: CloudStack, job_id: str) -> dict | None:
    answer = client.queryAsyncJobResult(jobid=job_id)
    return answer if answer["jobstatus"] != 0 else None


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
    ids["affinitygroup"] = client.createAffinityGroup(
        name=f"ag-{holder.name}", type="host anti-affinity", fetch_result=True
    )["affinitygroup"]["id"]
    vm = _deploy(
        client,
        place,
        place.small,
        name=f"vm-{holder.name}",
        affinitygroupids=ids["affinitygroup"],
        group=f"ig-{holder.name}",
    )
    ids["vm"], ids["instancegroup"] = vm["id"], vm["groupid"]
    world_admin.addResourceDetail(
        resourcetype="UserVm",
        resourceid=vm["id"],
        fetch_result=True,
        **{"details[0].key": "holder", "details[0].value": holder.name},
    )
    client.createTags(
        resourceids=vm["id"],
        resourcetype="UserVm",
        fetch_result=True,
        **{"tags[0].key": "holder", "tags[0].value": holder.name},
    )
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
    ids["snapshotpolicy"] = client.createSnapshotPolicy(
        volumeid=ids["root"], intervaltype="DAILY", schedule="0:3", timezone="UTC", maxsnaps=1
    )["snapshotpolicy"]["id"]
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
    _load_balancing(client, holder, ids)
    _autoscale(client, place, holder, ip["id"])
    ids["keypair"] = client.createSSHKeyPair(name=f"kp-{holder.name}")["keypair"]["fingerprint"]
    ids["securitygroup"] = client.createSecurityGroup(name=f"sg-{holder.name}")["securitygroup"][
        "id"
    ]
    holder.vpn_job = client.createRemoteAccessVpn(publicipid=nat["id"])["jobid"]
    done = wait_for(lambda: _finished(client, holder.vpn_job))
    ids["vpn"] = done["jobresult"]["remoteaccessvpn"]["id"]
    holder.vpn_key = done["jobresult"]["remoteaccessvpn"]["presharedkey"]
    ids["template"] = client.registerTemplate(
        name=f"tpl-{holder.name}",
        displaytext="private",
        url=f"http://images.example.org/{holder.name}.qcow2",
        hypervisor="Simulator",
        format="QCOW2",
        ostypeid=client.listOsTypes()["ostype"][0]["id"],
        zoneid=place.zone,
    )["template"][0]["id"]
    ids["iso"] = client.registerIso(
        name=f"iso-{holder.name}",
        displaytext="private",
        url=f"http://images.example.org/{holder.name}.iso",
        ostypeid=client.listOsTypes()["ostype"][0]["id"],
        zoneid=place.zone,
    )["iso"][0]["id"]
    ids["project"] = client.createProject(
        name=f"pr-{holder.name}", displaytext="private", fetch_result=True
    )["project"]["id"]
    ids["projectvolume"] = client.createVolume(
        name=f"pdata-{holder.name}",
        zoneid=place.zone,
        diskofferingid=disk["id"],
        projectid=ids["project"],
        fetch_result=True,
    )["volume"]["id"]
    _stock_vpc(world_admin, place, holder)
    ids["vpnuser"] = client.addVpnUser(
        username=f"v{holder.name}", password=f"Pw{uuid.uuid4().hex[:12]}", fetch_result=True
    )["vpnuser"]["id"]


def _load_balancing(client: CloudStack, holder: Holder, ids: dict[str, str]) -> None:
    """A certificate, a stickiness policy on the load balancer, a global load balancer."""
    made = issued(f"{holder.name}.example.com")
    holder.cert_key = made.key.splitlines()[1]
    ids["sslcert"] = client.uploadSslCert(certificate=made.certificate, privatekey=made.key)[
        "sslcert"
    ]["id"]
    ids["stickiness"] = client.createLBStickinessPolicy(
        lbruleid=ids["loadbalancer"], name="sticky", methodname="SourceBased", fetch_result=True
    )["stickinesspolicies"]["stickinesspolicy"][0]["id"]
    ids["gslb"] = client.createGlobalLoadBalancerRule(
        name=f"g-{holder.name}",
        gslbdomainname=f"{holder.name}.gslb.example.com",
        gslbservicetype="http",
        regionid=1,
        fetch_result=True,
    )["globalloadbalancer"]["id"]
    client.assignToGlobalLoadBalancerRule(
        id=ids["gslb"], loadbalancerrulelist=ids["loadbalancer"], fetch_result=True
    )


def _autoscale(client: CloudStack, place: Place, holder: Holder, ip_id: str) -> None:
    """A condition, a policy each way, a VM profile and a VM group (of no VMs) on a load
    balancer of its own."""
    ids = holder.ids
    counter = client.listCounters(source="hypervisor")["counter"][0]["id"]
    ids["condition"] = client.createCondition(
        counterid=counter, relationaloperator="GT", threshold=10**9, fetch_result=True
    )["condition"]["id"]
    for action in ("scaleup", "scaledown"):
        ids[f"as{action}"] = client.createAutoScalePolicy(
            action=action, duration=60, conditionids=ids["condition"], fetch_result=True
        )["autoscalepolicy"]["id"]
    ids["asprofile"] = client.createAutoScaleVmProfile(
        zoneid=place.zone,
        serviceofferingid=place.small["id"],
        templateid=place.template,
        fetch_result=True,
    )["autoscalevmprofile"]["id"]
    rule = client.createLoadBalancerRule(
        publicipid=ip_id,
        name=f"as-{holder.name}",
        algorithm="roundrobin",
        publicport=81,
        privateport=8081,
        fetch_result=True,
    )["loadbalancer"]["id"]
    ids["asgroup"] = client.createAutoScaleVmGroup(
        lbruleid=rule,
        minmembers=0,
        maxmembers=1,
        scaleuppolicyids=ids["asscaleup"],
        scaledownpolicyids=ids["asscaledown"],
        vmprofileid=ids["asprofile"],
        fetch_result=True,
    )["autoscalevmgroup"]["id"]


def _stock_vpc(world_admin: CloudStack, place: Place, holder: Holder) -> None:
    """A VPC (no router: nothing to start) with an ACL list, an item and a tier using it, a
    private gateway (root administrators make them) and a static route through it."""
    client, ids = holder.client, holder.ids
    offering = client.listVPCOfferings(name="Default VPC offering")["vpcoffering"][0]
    ids["vpc"] = client.createVPC(
        name=f"vpc-{holder.name}",
        displaytext="vpc",
        cidr="10.60.0.0/16",
        vpcofferingid=offering["id"],
        zoneid=place.zone,
        start="false",
        fetch_result=True,
    )["vpc"]["id"]
    ids["acllist"] = client.createNetworkACLList(
        name=f"acl-{holder.name}", vpcid=ids["vpc"], fetch_result=True
    )["networkacllist"]["id"]
    ids["aclitem"] = client.createNetworkACL(
        aclid=ids["acllist"], protocol="tcp", startport=22, fetch_result=True
    )["networkacl"]["id"]
    tier = client.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingForVpcNetworks")
    ids["tier"] = client.createNetwork(
        name=f"tier-{holder.name}",
        displaytext="tier",
        networkofferingid=tier["networkoffering"][0]["id"],
        zoneid=place.zone,
        vpcid=ids["vpc"],
        aclid=ids["acllist"],
        gateway="10.60.1.1",
        netmask="255.255.255.0",
    )["network"]["id"]
    internal = client.listNetworkOfferings(
        name="DefaultIsolatedNetworkOfferingForVpcNetworksWithInternalLB"
    )
    ids["ilbtier"] = client.createNetwork(
        name=f"ilb-{holder.name}",
        displaytext="ilb tier",
        networkofferingid=internal["networkoffering"][0]["id"],
        zoneid=place.zone,
        vpcid=ids["vpc"],
        gateway="10.60.2.1",
        netmask="255.255.255.0",
    )["network"]["id"]
    ids["internallb"] = client.createLoadBalancer(
        name=f"ilb-{holder.name}",
        sourceport=80,
        instanceport=8080,
        algorithm="roundrobin",
        scheme="Internal",
        sourceipaddressnetworkid=ids["ilbtier"],
        networkid=ids["ilbtier"],
        fetch_result=True,
    )["loadbalancer"]["id"]
    ids["gateway"] = world_admin.createPrivateGateway(
        vpcid=ids["vpc"],
        gateway="172.16.0.1",
        ipaddress="172.16.0.5",
        netmask="255.255.255.0",
        vlan=str(300 + int(holder.name[-1]) + (10 if holder.name.startswith("west") else 0)),
        fetch_result=True,
    )["privategateway"]["id"]
    ids["staticroute"] = client.createStaticRoute(
        gatewayid=ids["gateway"], cidr="192.168.8.0/24", fetch_result=True
    )["staticroute"]["id"]


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
        "projectid": victim.ids["project"],
    }
    return {name: values[name] for name in variant}


def _secrets_of(world: World, victim: Holder) -> set[str]:
    """Strings of the victim that no other account may be shown: its ids, its API key."""
    owned = set(victim.ids.values()) | {victim.tenant.account_id, victim.tenant.user_id}
    owned.add(world.api_keys[victim.tenant.user_id])
    owned.add(victim.vpn_key)
    owned.add(victim.cert_key)
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


# ---- the generic probe -------------------------------------------------------------------------

NETAPP = "root administrators only; the NetApp filers and their pools are the cloud's"
# Commands that act on no resource of an account, so there is nothing of a victim to hand them.
NOT_PROBED = {
    "listCapabilities": "answers the cloud's capabilities, no account's resource",
    "logout": "ends the caller's own session",
    "listInfrastructure": "root administrators only; counts the cloud's infrastructure",
    "removeRawUsageRecords": "root administrators only; usage of every account",
    "getUser": "root administrators only; finds a user by API key",
    "addNetworkDevice": "root administrators only; registers an external device (no account's)",
    "getApiLimit": "answers the caller's own account's count of requests",
    "addRegion": "root administrators only; regions are the cloud's, no account's",
    "updateRegion": "root administrators only; regions are the cloud's, no account's",
    "removeRegion": "root administrators only; regions are the cloud's, no account's",
    "addS3": "root administrators only; adds the region's object store, no account's resource",
    "cleanVMReservations": "root administrators only; room held on hosts, no account's resource",
    "uploadSslCert": "records a certificate for the caller's own account; names nothing else",
    "createPortableIpRange": "root administrators only; a region's ranges are the cloud's",
    "addLdapConfiguration": "root administrators only; the directory's servers are the cloud's",
    "deleteLdapConfiguration": "root administrators only; the directory's servers are the cloud's",
    "uploadCustomCertificate": "root administrators only; the console proxies' certificate",
    "createPool": NETAPP,
    "modifyPool": NETAPP,
    "deletePool": NETAPP,
    "createVolumeOnFiler": NETAPP,
    "destroyVolumeOnFiler": NETAPP,
    "createLunOnFiler": NETAPP,
    "destroyLunOnFiler": NETAPP,
    "associateLun": NETAPP,
    "dissociateLun": NETAPP,
    "createCounter": "root administrators only; autoscale counters are the cloud's, no account's",
}

# Which of a victim's resources a parameter names, by the parameter's name.
PARAM_KINDS = {
    "virtualmachineid": ("vm",),
    "virtualmachineids": ("vm",),
    "volumeid": ("root", "volume", "projectvolume"),
    "networkid": ("network", "tier", "ilbtier"),
    "sourceipaddressnetworkid": ("ilbtier",),
    "networkids": ("network",),
    "vpcid": ("vpc",),
    "gatewayid": ("gateway",),
    "aclid": ("acllist",),
    "associatednetworkid": ("network",),
    "ipaddressid": ("ip", "sourcenat"),
    "publicipid": ("ip", "sourcenat"),
    "securitygroupid": ("securitygroup",),
    "securitygroupids": ("securitygroup",),
    "affinitygroupid": ("affinitygroup",),
    "affinitygroupids": ("affinitygroup",),
    "vmsnapshotid": ("vmsnapshot",),
    "jobid": ("job",),
    "accountid": ("account",),
    "domainid": ("domain",),
    "parentdomainid": ("domain",),
    "templateid": ("template",),
    "isoid": ("iso",),
    "ids": ("event",),
    "groupid": ("instancegroup",),
    "resourceid": ("vm",),
    "resourceids": ("vm",),
    "lbruleid": ("loadbalancer",),
    "loadbalancerrulelist": ("loadbalancer",),
    "certid": ("sslcert",),
    "projectid": ("project",),
    "conditionid": ("condition",),
    "conditionids": ("condition",),
    "policyid": ("asscaleup", "asscaledown"),
    "scaleuppolicyids": ("asscaleup",),
    "scaledownpolicyids": ("asscaledown",),
    "vmprofileid": ("asprofile",),
    "vmgroupid": ("asgroup",),
    "autoscaleuserid": ("user",),
}
# What an `id` names, by the word the command's name is built on (longest first).
NOUN_KINDS = (
    ("AutoScaleVmGroup", ("asgroup",)),
    ("AutoScaleVmProfile", ("asprofile",)),
    ("AutoScalePolic", ("asscaleup", "asscaledown")),
    ("Condition", ("condition",)),
    ("NetworkACLList", ("acllist",)),
    ("NetworkACLItem", ("aclitem",)),
    ("NetworkACL", ("aclitem",)),  # deleteNetworkACL, listNetworkACLs: an item's id
    ("PrivateGateway", ("gateway",)),
    ("StaticRoute", ("staticroute",)),
    ("VPC", ("vpc",)),
    ("InstanceGroup", ("instancegroup",)),
    ("PortForwardingRule", ("portforward",)),
    ("GlobalLoadBalancer", ("gslb",)),
    ("LoadBalancerRule", ("loadbalancer", "internallb")),
    ("LoadBalancer", ("internallb",)),  # createLoadBalancer and the others of scheme Internal
    ("LBStickinessPolic", ("stickiness",)),
    ("SslCert", ("sslcert",)),
    ("FirewallRule", ("firewall",)),
    ("SecurityGroup", ("securitygroup",)),
    ("VirtualMachine", ("vm",)),  # before AffinityGroup: updateVMAffinityGroup's id is a VM
    ("AffinityGroup", ("affinitygroup",)),
    ("IpAddress", ("ip",)),
    ("SnapshotPolic", ("snapshotpolicy",)),
    ("Snapshot", ("snapshot",)),
    ("Network", ("network",)),
    ("Template", ("template",)),
    ("Iso", ("iso",)),
    ("Volume", ("volume", "root", "projectvolume")),
    ("Project", ("project",)),
    ("Account", ("account",)),
    ("Domain", ("domain",)),
    ("User", ("user",)),
)
FILLERS: dict[str, str] = {
    "protocol": "tcp",
    "algorithm": "roundrobin",
    "templatefilter": "self",
    "accounttype": "0",
    "email": "probe@example.org",
    "startdate": "2020-01-01",
    "enddate": "2030-01-01",
    "timestamp": "2030-01-01",
    "url": "http://images.example.org/probe.qcow2",
    "hypervisor": "Simulator",
    "format": "QCOW2",
    "networktype": "Advanced",
    "clustertype": "CloudManaged",
    "systemvmtype": "domainrouter",
    "guestiptype": "Isolated",
    "traffictype": "Guest",
    "lock": "false",
    "interval": "1",
    "resourcetype": "UserVm",
}
TYPE_FILLERS = {
    ParamType.STRING: "probe",
    ParamType.INTEGER: "2",
    ParamType.SHORT: "2",
    ParamType.LONG: "2",
    ParamType.BOOLEAN: "true",
    ParamType.DATE: "2030-01-01",
    ParamType.TZDATE: "2030-01-01T00:00:00+0000",
    ParamType.LIST: "probe",
}


def _commands() -> list[ApiCommand]:
    return [command for table in tables() for command in table]


def _targets(command: ApiCommand) -> list[str]:
    """The parameters through which a command could reach an account's resources."""
    names = [
        p.name
        for p in command.params
        if p.type is ParamType.UUID or (p.type is ParamType.LIST and p.element is ParamType.UUID)
    ]
    if any(p.name == "account" for p in command.params):
        names.append("account")
    return names


# Where a parameter name means another kind in one command.
COMMAND_PARAM_KINDS = {("deleteSnapshotPolicies", "ids"): ("snapshotpolicy",)}


def _kinds(command: ApiCommand, param: str) -> tuple[str, ...]:
    if (command.name, param) in COMMAND_PARAM_KINDS:
        return COMMAND_PARAM_KINDS[(command.name, param)]
    if param in PARAM_KINDS:
        return PARAM_KINDS[param]
    for noun, kinds in NOUN_KINDS:
        if noun in command.name or noun.lower() == command.item_key:
            return kinds
    return ()


def _victim_ids(world: World, victim: Holder) -> dict[str, list[str]]:
    """Every kind of the victim's resources, with ids; events and jobs as root sees them."""
    owner = {"account": victim.tenant.username, "domainid": victim.tenant.domain_id}
    events = world.admin.listEvents(listall="true", **owner).get("event", [])
    jobs = world.admin.listAsyncJobs(listall="true", **owner).get("asyncjobs", [])
    kinds = {kind: [value] for kind, value in victim.ids.items()}
    kinds.update(
        account=[victim.tenant.account_id],
        user=[victim.tenant.user_id],
        domain=[victim.tenant.domain_id],
        event=[e["id"] for e in events[:3]],
        job=[j["jobid"] for j in jobs[:3]],
    )
    return kinds


def _filled(command: ApiCommand, victim: Holder, world: World) -> dict[str, str]:
    """Plausible values for the command's required parameters."""
    values: dict[str, str] = {}
    for p in command.params:
        if not p.required:
            continue
        if p.type is ParamType.UUID:
            values[p.name] = world.place.zone if p.name == "zoneid" else str(uuid.uuid4())
        elif p.type is ParamType.MAP:  # one key and value, as `name[0].key=…&name[0].value=…`
            values.update({f"{p.name}[0].key": "probe", f"{p.name}[0].value": "probe"})
        else:
            values[p.name] = FILLERS.get(p.name, TYPE_FILLERS.get(p.type, "probe"))
    values.pop("account", None)
    return values


def _attackers(world: World, victim_side: str) -> list[tuple[str, CloudStack]]:
    other = "west" if victim_side == "east" else "east"
    return [
        ("plain user of the same domain", world.holders[victim_side][1].client),
        ("plain user of another domain", world.holders[other][0].client),
        ("administrator of another domain", world.bosses[other].client),
    ]


def _list_probes(command: ApiCommand, world: World, victim: Holder) -> Iterator[dict[str, str]]:
    base = _filled(command, victim, world)
    names = {p.name for p in command.params} | {"listall", "isrecursive", "projectid"}
    for variant in OWNER_VARIANTS:
        if set(variant) <= names:
            yield base | _owner_params(variant, victim)
    ids = _victim_ids(world, victim)
    for param in _targets(command):
        if param == "account":
            continue
        for kind in _kinds(command, param) or tuple(ids):
            for value in ids.get(kind, ()):
                yield base | {param: value}


def _leak_report(world: World, side: str, commands: list[ApiCommand], probe: Any) -> list[str]:
    victim = world.holders[side][0]
    secrets = _secrets_of(world, victim)
    found = []
    for who, client in _attackers(world, side):
        for command in commands:
            for params in probe(command, world, victim):
                answer = _answer(client, command.name, params)
                if isinstance(answer, int):
                    continue
                leaked = _leaks(answer, secrets)
                if leaked:
                    found.append(f"{command.name} {params} as {who}: {sorted(leaked)}")
    return found


@pytest.mark.parametrize("side", ["east", "west"])
def test_no_list_command_shows_another_accounts_resources(world: World, side: str) -> None:
    lists = [c for c in _commands() if c.is_list and c.name not in NOT_PROBED]
    assert len(lists) > 30
    leaks = _leak_report(world, side, lists, _list_probes)
    assert not leaks, "\n".join(leaks)


def _change_probes(command: ApiCommand, world: World, victim: Holder) -> Iterator[dict[str, str]]:
    base = _filled(command, victim, world)
    ids = _victim_ids(world, victim)
    targets = _targets(command)
    for param in targets:
        if param == "account":
            yield base | {"account": victim.tenant.username, "domainid": victim.tenant.domain_id}
            continue
        if param == "domainid" and "account" in targets:
            continue  # alone it names no owner (the caller's own account acts); see above
        for kind in _kinds(command, param) or tuple(ids):
            for value in ids.get(kind, ()):
                yield base | {param: value}


LOGS = {"listEvents", "listAsyncJobs"}


def _view_params(command: str, victim: Holder) -> dict[str, str]:
    """Lists that 4.3 answers only when told whose or which: the victim's own."""
    if command == "listSslCerts":
        return {"accountid": victim.tenant.account_id}
    if command in ("listLBStickinessPolicies", "listLBHealthCheckPolicies"):
        return {"lbruleid": victim.ids["loadbalancer"]}
    return {}


def _victims_view(world: World, victim: Holder) -> dict[str, Any]:
    """What the victim's own list commands answer, to compare before and after the probes."""
    seen = {}
    for command in _commands():
        # Events and jobs are logs that background work (router checks) may add to; a change
        # made to the victim's resources shows in the resources' own lists.
        if command.is_list and command.role.name == "USER" and command.name not in LOGS:
            params = _filled(command, victim, world) | {"listall": "true"}
            params |= _view_params(command.name, victim)
            seen[command.name] = _answer(victim.client, command.name, params)
            if any(p.name == "projectid" and p.minus_one for p in command.params):
                # What the victim's projects own shows in lists asked for projects only.
                in_projects = params | {"projectid": "-1"}
                seen[f"{command.name} -1"] = _answer(victim.client, command.name, in_projects)
    return seen


def _refused_or_failed(client: CloudStack, command: ApiCommand, params: dict[str, str]) -> str:
    """Empty when the call was refused (or its job failed with a refusal), else what it did."""
    answer = _answer(client, command.name, params)
    if isinstance(answer, int):
        return ""
    job = answer.get("jobid") if isinstance(answer, dict) else None
    if job:
        try:
            client.queryAsyncJobResult(jobid=job, fetch_result=True)
        except CloudStackApiException as failed:
            if int(failed.error.get("errorcode", 0)) in REFUSALS:
                return ""
    return f"{command.name} {params}: {str(answer)[:200]}"


def test_no_change_command_touches_another_accounts_resources(world: World) -> None:
    side = "east"
    victim = world.holders[side][0]
    changes = [c for c in _commands() if not c.is_list and c.name not in NOT_PROBED]
    before = _victims_view(world, victim)
    assert set(victim.ids.values()) <= _leaks(before, set(victim.ids.values()))  # a real view
    accepted = []
    for _who, client in _attackers(world, side):
        for command in changes:
            for params in _change_probes(command, world, victim):
                outcome = _refused_or_failed(client, command, params)
                if outcome:
                    accepted.append(outcome)
    assert not accepted, "\n".join(accepted)
    assert _victims_view(world, victim) == before


def test_every_command_is_probed_or_listed_with_a_reason() -> None:
    names = {c.name for c in _commands()}
    assert set(NOT_PROBED) <= names, "a listed command no longer exists"
    unprobed = {c.name for c in _commands() if not c.is_list and not _targets(c)} - set(NOT_PROBED)
    assert unprobed == set(), "probe these commands or list them in NOT_PROBED with the reason"
    pointless = {c for c in NOT_PROBED if any(x.name == c and _targets(x) for x in _commands())}
    assert pointless == set()


def test_the_vpn_key_is_shown_once_in_job_answers_and_to_its_owner_in_its_list(
    world: World,
) -> None:
    owner = world.holders["west"][1]
    assert len(owner.vpn_key) == 24
    jobs = [
        owner.client.queryAsyncJobResult(jobid=owner.vpn_job),
        owner.client.listAsyncJobs(),
        owner.client.listAsyncJobs(listall="true"),
        owner.client.queryAsyncJobResult(jobid=owner.vpn_job),
    ]
    assert owner.vpn_key not in orjson.dumps(jobs).decode()
    assert jobs[0]["jobresult"]["remoteaccessvpn"]["id"] == owner.ids["vpn"]
    (listed,) = owner.client.listRemoteAccessVpns()["remoteaccessvpn"]
    assert listed["presharedkey"] == owner.vpn_key
    for other in (world.bosses["west"].client, world.admin):
        (seen,) = other.listRemoteAccessVpns(listall="true", id=owner.ids["vpn"])["remoteaccessvpn"]
        assert "presharedkey" not in seen
