"""Egress firewall rules below the API, on SQLite and PostgreSQL: they join the network's rule
set with the egress policy of its offering, are weighed against each other only (never against
ingress rules on the same ports), and leave the router when deleted."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from commands import network_rules as cmd
from commands.network_offerings import CreateNetworkOffering, create_network_offering
from commands.offerings import seed_offerings
from domain.errors import NetworkRuleConflict
from domain.network import Addressing, Network
from domain.network_offering import OfferingTerms
from domain.network_rule_checks import Rule, RuleKind
from entrypoint.installation import open_runtime
from stratus.settings import Settings
from tests.integration.test_network_rules import ACCOUNT, DOMAIN, JOB
from tests.integration.test_routers import Cloud


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        seed_offerings(runtime.store)
        yield Cloud(runtime)
    finally:
        runtime.close()


def _offering(cloud: Cloud, allow: bool) -> UUID:
    terms = OfferingTerms(
        f"egress-{uuid4().hex[:6]}",
        "egress",
        "Isolated",
        {"Firewall": ["VirtualRouter"], "SourceNat": ["VirtualRouter"]},
        egress_default_policy=allow,
    )
    made = create_network_offering(cloud.store, CreateNetworkOffering(terms))
    return UUID(str(made.id))


def _network(cloud: Cloud, offering_id: UUID) -> tuple[UUID, str]:
    """An isolated network of the offering with its running router (its instance name)."""
    network_id = uuid4()
    network = Network(
        "web",
        "web",
        cloud.zone_id,
        None,
        offering_id,
        "Isolated",
        ACCOUNT,
        DOMAIN,
        Addressing.isolated(None, None).facts(),
        None,
        "Implemented",
        id=network_id,
    )
    cloud.store.save(network)
    router_id = cloud.ensure([cloud.host("h1")], network_id=network_id)
    return network_id, cloud.router(router_id).instance_name


def _egress(protocol: str, start: int | None = None, end: int | None = None) -> Rule:
    return Rule(
        uuid4(),
        RuleKind.EGRESS,
        None,
        "",
        ACCOUNT,
        DOMAIN,
        uuid4(),
        protocol,
        start_port=start,
        end_port=end,
        cidrs=("10.1.1.0/24",),
        icmp_type=-1,
        icmp_code=-1,
    )


def _add(cloud: Cloud, network_id: UUID, rule: Rule) -> cmd.Applying:
    return cmd.add_egress_rule(cloud.store, cmd.AddEgressRule(network_id, rule, JOB))


@pytest.mark.parametrize("allow", [False, True])
def test_the_router_holds_egress_rules_with_the_offerings_policy(cloud: Cloud, allow: bool) -> None:
    network_id, instance = _network(cloud, _offering(cloud, allow))
    web = _add(cloud, network_id, _egress("tcp", 80, 443))
    everything = _add(cloud, network_id, _egress("all"))
    cloud.pump()
    held = cloud.world.rule_sets.held(instance)[1]
    assert {r["id"] for r in held if r["kind"] == RuleKind.EGRESS} == {
        str(everything.rule_id),
        str(web.rule_id),
    }
    assert held[-1] == {"kind": "EgressDefault", "allow": allow}
    rows = cloud.rows("SELECT kind, public_ip_id, state FROM network_rules ORDER BY start_port")
    assert rows == [{"kind": RuleKind.EGRESS, "public_ip_id": "", "state": "Active"}] * 2


def test_egress_rules_clash_only_with_egress_rules(cloud: Cloud) -> None:
    network_id, instance = _network(cloud, _offering(cloud, False))
    _add(cloud, network_id, _egress("tcp", 22))
    with pytest.raises(NetworkRuleConflict):
        _add(cloud, network_id, _egress("tcp", 20, 30))
    _add(cloud, network_id, _egress("udp", 22))  # another protocol passes
    cloud.pump()
    assert len(cloud.world.rule_sets.held(instance)[1]) == 3  # two rules and the policy


def test_a_deleted_egress_rule_leaves_the_router(cloud: Cloud) -> None:
    network_id, instance = _network(cloud, _offering(cloud, True))
    made = _add(cloud, network_id, _egress("udp", 53))
    cloud.pump()
    revoke = cmd.RevokeRule(network_id, made.rule_id, RuleKind.EGRESS, JOB)
    cmd.revoke_rule(cloud.store, revoke)
    cloud.pump()
    assert cloud.world.rule_sets.held(instance)[1] == ({"kind": "EgressDefault", "allow": True},)
    assert cloud.rows("SELECT * FROM network_rules") == []
