"""VPCs below the API, on SQLite and PostgreSQL: tiers inside the VPC's CIDR and apart from each
other, ACL items applied by the VPC's router (through the outbox routes and a simulator behind
the adapters' session code) and settled by its answers, and the refusals that change nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from commands import network_acls as acls
from commands import vpc_gateways as gateways
from commands import vpcs
from commands.network_offerings import network_offering_seed_id, seed_network_offerings
from commands.network_rules import JobSpec
from commands.networks import (
    CreateNetwork,
    CreatePhysicalNetwork,
    DeleteNetwork,
    UpdatePhysicalNetwork,
    create_network,
    create_physical_network,
    delete_network,
    update_physical_network,
)
from commands.offerings import seed_offerings
from commands.vpc_offerings import DEFAULT_VPC_OFFERING, seed_vpc_offerings, vpc_offering_seed_id
from domain.errors import DomainError, InsufficientCapacity, InvalidParameter, ResourceInUse
from domain.job import Job, JobStatus
from domain.network_acl import DEFAULT_ALLOW, DEFAULT_DENY, AclItemInput
from domain.vpc import Vpc
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_routers import Cloud

ACCOUNT, DOMAIN = uuid4(), uuid4()
JOB = JobSpec("CreateNetworkACLCmd", ACCOUNT, uuid4(), "NetworkAclItem", "NETWORK.ACL.ITEM", "")
TIER_OFFERING = network_offering_seed_id("DefaultIsolatedNetworkOfferingForVpcNetworks")


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        seed_offerings(runtime.store)
        seed_network_offerings(runtime.store)
        seed_vpc_offerings(runtime.store)
        yield Cloud(runtime)
    finally:
        runtime.close()


def _vpc(cloud: Cloud, cidr: str = "10.10.0.0/16") -> tuple[UUID, UUID]:
    """A VPC of the default offering on a zone with a host and a guest VLAN range."""
    host = cloud.host("h1")
    physical = create_physical_network(
        cloud.store, CreatePhysicalNetwork(cloud.zone_id, "phys", vlan="100-199")
    )
    assert physical.id is not None
    update_physical_network(cloud.store, UpdatePhysicalNetwork(physical.id, state="Enabled"))
    offering = vpc_offering_seed_id(DEFAULT_VPC_OFFERING.name)
    created = vpcs.create_vpc(
        cloud.store,
        vpcs.CreateVpc("vpc", "", cloud.zone_id, offering, ACCOUNT, DOMAIN, cidr, "cs.internal"),
    )
    assert created.id is not None
    cloud.ensure([host], network_id=created.id, vpc_id=created.id)
    return created.id, physical.id


def _tier(cloud: Cloud, vpc_id: UUID, physical: UUID, cidr: str, acl: UUID | None = None) -> UUID:
    gateway = cidr.rsplit(".", 1)[0] + ".1"
    outcome = create_network(
        cloud.store,
        CreateNetwork(
            f"tier-{cidr}",
            "",
            cloud.zone_id,
            TIER_OFFERING,
            ACCOUNT,
            DOMAIN,
            physical,
            cidr=cidr + "/24",
            gateway=gateway,
            tier=vpcs.TierRequest(vpc_id, acl),
        ),
    )
    assert outcome.id is not None
    cloud.runtime.runner.catch_up()
    return outcome.id


def _state(cloud: Cloud, vpc_id: UUID) -> Vpc:
    return cloud.store.get(Vpc, vpc_id)


def test_tiers_stay_inside_the_vpc_and_apart_and_a_refusal_changes_nothing(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    first = _tier(cloud, vpc_id, physical, "10.10.1.0")
    version = _state(cloud, vpc_id).version
    for cidr, text in (("10.10.1.0", "crosses other network cidr"), ("10.20.1.0", "not within")):
        with pytest.raises(InvalidParameter, match=text):
            _tier(cloud, vpc_id, physical, cidr)
    assert _state(cloud, vpc_id).version == version
    assert [
        r["id"] for r in cloud.rows("SELECT id FROM networks WHERE vpc_id = %s", str(vpc_id))
    ] == [str(first)]
    row = cloud.rows("SELECT acl_id FROM networks WHERE id = %s", str(first))[0]
    assert row["acl_id"] == str(DEFAULT_DENY.id)

    with pytest.raises(InvalidParameter, match="as its used by 1 networks"):
        vpcs.delete_vpc(cloud.store, vpc_id)
    delete_network(cloud.store, DeleteNetwork(first))
    vpcs.delete_vpc(cloud.store, vpc_id)
    cloud.pump()
    assert cloud.rows("SELECT removed FROM vpcs") == [{"removed": 1}]


def test_an_offering_not_for_vpcs_cannot_make_a_tier(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    plain = network_offering_seed_id("DefaultIsolatedNetworkOfferingWithSourceNatService")
    with pytest.raises(InvalidParameter, match="can't be used for VPC networks"):
        create_network(
            cloud.store,
            CreateNetwork(
                "t",
                "",
                cloud.zone_id,
                plain,
                ACCOUNT,
                DOMAIN,
                physical,
                cidr="10.10.5.0/24",
                gateway="10.10.5.1",
                tier=vpcs.TierRequest(vpc_id),
            ),
        )
    assert _state(cloud, vpc_id).tiers == {}


def _list(cloud: Cloud, vpc_id: UUID) -> UUID:
    made = acls.create_acl_list(cloud.store, acls.CreateAclList(vpc_id, "web", "web tier"))
    assert made.id is not None
    return made.id


def test_items_of_a_tier_s_list_go_add_then_active_on_the_router(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    acl = _list(cloud, vpc_id)
    tier = _tier(cloud, vpc_id, physical, "10.10.1.0", acl)
    given = AclItemInput(protocol="tcp", start_port=22, cidrs=("192.0.2.0/24",))
    added = acls.add_item(cloud.store, acls.AddAclItem(vpc_id, acl, given, JOB))
    cloud.runtime.runner.catch_up()
    assert cloud.rows(
        "SELECT state, number FROM network_acl_items WHERE acl_id = %s", str(acl)
    ) == [{"state": "Add", "number": 1}]
    cloud.pump()
    assert cloud.store.get(Job, added.job_id).status == JobStatus.SUCCEEDED
    assert cloud.rows("SELECT state FROM network_acl_items WHERE acl_id = %s", str(acl)) == [
        {"state": "Active"}
    ]
    router = vpcs.vpc_router(cloud.store, vpc_id)
    assert router is not None
    generation, held = cloud.world.acl_sets.held(router.instance_name)
    assert [t["network_id"] for t in held] == [str(tier)]
    assert [(i["protocol"], i["start_port"], i["end_port"]) for i in held[0]["items"]] == [
        ("tcp", 22, 22)
    ]

    with pytest.raises(InvalidParameter, match="already exists"):
        acls.add_item(
            cloud.store,
            acls.AddAclItem(vpc_id, acl, AclItemInput(protocol="udp", number=1), JOB),
        )
    revoked = acls.revoke_item(cloud.store, acls.RevokeAclItem(vpc_id, added.rule_id, JOB))
    cloud.pump()
    assert cloud.store.get(Job, revoked.job_id).status == JobStatus.SUCCEEDED
    assert cloud.rows("SELECT id FROM network_acl_items WHERE acl_id = %s", str(acl)) == []
    assert cloud.world.acl_sets.held(router.instance_name)[0] > generation


def test_a_failed_apply_removes_the_item_and_fails_its_job(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    acl = _list(cloud, vpc_id)
    _tier(cloud, vpc_id, physical, "10.10.1.0", acl)
    cloud.world.fail_next("apply_network_acls")
    given = AclItemInput(protocol="icmp", icmp_type=8, icmp_code=0, action="Deny")
    added = acls.add_item(cloud.store, acls.AddAclItem(vpc_id, acl, given, JOB))
    cloud.pump()
    job = cloud.store.get(Job, added.job_id)
    assert job.status == JobStatus.FAILED
    assert job.result["message"].startswith(acls.APPLY_FAILED)
    assert cloud.rows("SELECT id FROM network_acl_items WHERE acl_id = %s", str(acl)) == []


def test_an_item_of_a_list_no_tier_uses_is_active_at_once(cloud: Cloud) -> None:
    vpc_id, _ = _vpc(cloud)
    acl = _list(cloud, vpc_id)
    added = acls.add_item(
        cloud.store, acls.AddAclItem(vpc_id, acl, AclItemInput(protocol="all"), JOB)
    )
    assert cloud.store.get(Job, added.job_id).status == JobStatus.SUCCEEDED
    cloud.runtime.runner.catch_up()
    assert cloud.rows("SELECT state FROM network_acl_items WHERE acl_id = %s", str(acl)) == [
        {"state": "Active"}
    ]


def test_default_lists_cannot_change_and_a_list_in_use_cannot_go(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    for default in (DEFAULT_ALLOW.id, DEFAULT_DENY.id):
        with pytest.raises(InvalidParameter, match="Default ACL cannot be modified"):
            acls.add_item(
                cloud.store,
                acls.AddAclItem(vpc_id, default, AclItemInput(protocol="tcp"), JOB),
            )
        with pytest.raises(InvalidParameter, match="cannot be removed"):
            acls.delete_acl_list(cloud.store, vpc_id, default)
    acl = _list(cloud, vpc_id)
    tier = _tier(cloud, vpc_id, physical, "10.10.1.0", acl)
    with pytest.raises(ResourceInUse, match="still associated with 1 tier"):
        acls.delete_acl_list(cloud.store, vpc_id, acl)
    replaced = acls.replace_acl(cloud.store, acls.ReplaceAcl(tier, DEFAULT_ALLOW.id, JOB))
    cloud.pump()
    assert cloud.store.get(Job, replaced.job_id).status == JobStatus.SUCCEEDED
    acls.delete_acl_list(cloud.store, vpc_id, acl)
    cloud.runtime.runner.catch_up()
    names = {r["name"] for r in cloud.rows("SELECT name FROM network_acl_lists")}
    assert names == {"default_allow", "default_deny"}


def test_bad_items_are_refused_with_cloudstack_s_reasons(cloud: Cloud) -> None:
    vpc_id, _ = _vpc(cloud)
    acl = _list(cloud, vpc_id)
    for given, text in (
        (AclItemInput(protocol="all", start_port=22), "must be null if protocol = 'all'"),
        (AclItemInput(protocol="tcp", icmp_type=8), "icmp only"),
        (AclItemInput(protocol="tcp", start_port=90, end_port=80), "can't be bigger"),
        (AclItemInput(protocol="tcp", action="Reject"), "Allowed actions are Allow and Deny"),
        (AclItemInput(protocol="gre"), "Invalid protocol"),
        (AclItemInput(protocol="tcp", cidrs=("10.0.0.300/8",)), "formatting error"),
    ):
        with pytest.raises(DomainError, match=text):
            acls.add_item(cloud.store, acls.AddAclItem(vpc_id, acl, given, JOB))
    assert _state(cloud, vpc_id).items == {}


def _gateway(cloud: Cloud, vpc_id: UUID, physical: UUID, vlan: str = "500") -> UUID:
    made = gateways.create_private_gateway(
        cloud.store,
        gateways.CreatePrivateGateway(
            vpc_id, physical, vlan, "172.16.0.5", "172.16.0.1", "255.255.255.0", JOB
        ),
    )
    cloud.pump()
    assert cloud.store.get(Job, made.job_id).status == JobStatus.SUCCEEDED
    return made.rule_id


def test_a_private_gateway_and_its_routes_are_held_by_the_router(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    gateway = _gateway(cloud, vpc_id, physical)
    assert cloud.rows("SELECT state, vlan FROM private_gateways") == [
        {"state": "Active", "vlan": "500"}
    ]
    with pytest.raises(InsufficientCapacity, match="vlan 500 is already in use"):
        _gateway(cloud, vpc_id, physical)
    with pytest.raises(InvalidParameter, match="outside of VPC cidr"):
        gateways.create_static_route(
            cloud.store, gateways.CreateStaticRoute(vpc_id, gateway, "10.10.4.0/24", JOB)
        )
    route = gateways.create_static_route(
        cloud.store, gateways.CreateStaticRoute(vpc_id, gateway, "192.168.8.0/24", JOB)
    )
    cloud.pump()
    assert cloud.rows("SELECT cidr, state FROM static_routes") == [
        {"cidr": "192.168.8.0/24", "state": "Active"}
    ]
    router = vpcs.vpc_router(cloud.store, vpc_id)
    assert router is not None
    held = cloud.world.acl_sets.held(router.instance_name)[1]
    assert [(h["kind"], h.get("cidr")) for h in held] == [
        ("private_gateway", None),
        ("static_route", "192.168.8.0/24"),
    ]

    with pytest.raises(ResourceInUse, match="static route"):
        gateways.delete_private_gateway(
            cloud.store, gateways.DeletePrivateGateway(vpc_id, gateway, JOB)
        )
    with pytest.raises(ResourceInUse, match="private gateway"):
        vpcs.delete_vpc(cloud.store, vpc_id)
    gateways.delete_static_route(
        cloud.store, gateways.DeleteStaticRoute(vpc_id, route.rule_id, JOB)
    )
    cloud.pump()
    gateways.delete_private_gateway(
        cloud.store, gateways.DeletePrivateGateway(vpc_id, gateway, JOB)
    )
    cloud.pump()
    assert cloud.rows("SELECT id FROM private_gateways") == []
    assert cloud.world.acl_sets.held(router.instance_name)[1] == ()
    _gateway(cloud, vpc_id, physical)  # its VLAN was given back


def test_racing_tiers_for_one_cidr_let_exactly_one_through(cloud: Cloud) -> None:
    vpc_id, physical = _vpc(cloud)
    gate = threading.Barrier(4)
    made: list[UUID] = []
    refused: list[str] = []

    def create(third: str) -> None:
        gate.wait()
        try:
            made.append(_tier(cloud, vpc_id, physical, third))
        except InvalidParameter as error:
            refused.append(error.message)

    threads = [threading.Thread(target=create, args=("10.10.7.0",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len(refused) == 3
    assert all("crosses other network cidr" in text for text in refused)
    assert list(_state(cloud, vpc_id).tiers) == made
