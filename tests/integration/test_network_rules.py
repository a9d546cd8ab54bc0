"""Network rules below the API, on SQLite and PostgreSQL: apply requests leave through the
outbox routes, a simulator answers them through the adapters' session code, and the answers
settle the rules. Failed applies, racing creates, answers out of order, a stopped router and a
deleted network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import network_rules as cmd
from commands.jobs import fail_job
from commands.networks import DeleteNetwork, delete_network
from commands.offerings import seed_offerings
from commands.outbox import routes
from commands.placement import Candidate
from commands.results import result_handlers
from commands.system_vms import stop_system_vm
from domain.errors import NetworkRuleConflict, ResourceUnavailable
from domain.job import Job, JobStatus
from domain.network import Addressing, Network
from domain.network_public_ip import PublicIp
from domain.network_rule_checks import Rule, RuleKind, RuleState
from domain.network_rules import NetworkRules, rule_set_id
from entrypoint.installation import open_runtime
from stratus.messages import decode_request
from stratus.settings import Settings
from tests.integration.test_routers import Cloud

ACCOUNT, DOMAIN = uuid4(), uuid4()
JOB = cmd.JobSpec("CreateFirewallRuleCmd", ACCOUNT, uuid4(), "FirewallRule", "NET.FIREWALLOPEN", "")


@pytest.fixture
def cloud(settings: Settings) -> Iterator[Cloud]:
    runtime = open_runtime(settings)
    try:
        seed_offerings(runtime.store)
        yield Cloud(runtime)
    finally:
        runtime.close()


def _network(cloud: Cloud) -> tuple[UUID, PublicIp, UUID]:
    """An isolated network with its running router and an address of its own."""
    network_id = uuid4()
    network = Network(
        "web",
        "web",
        cloud.zone_id,
        None,
        uuid4(),
        "Isolated",
        ACCOUNT,
        DOMAIN,
        Addressing.isolated(None, None).facts(),
        None,
        "Implemented",
        id=network_id,
    )
    public = PublicIp(cloud.zone_id, "203.0.113.5", uuid4())
    public.associate(ACCOUNT, DOMAIN, network_id)
    cloud.store.save(network, public)
    router_id = cloud.ensure([cloud.host("h1")], network_id=network_id)
    return network_id, public, router_id


def _firewall(public: PublicIp, start: int, end: int | None = None) -> Rule:
    return Rule(
        uuid4(),
        RuleKind.FIREWALL,
        public.id,
        public.address,
        ACCOUNT,
        DOMAIN,
        public.zone_id,
        "tcp",
        start_port=start,
        end_port=end or start,
        cidrs=("0.0.0.0/0",),
    )


def _rules(cloud: Cloud, network_id: UUID) -> NetworkRules:
    return cloud.store.get(NetworkRules, rule_set_id(network_id))


def test_a_failed_apply_removes_the_rule_fails_its_job_and_frees_the_port(cloud: Cloud) -> None:
    network_id, public, router_id = _network(cloud)
    cloud.world.fail_next("apply_network_rules")
    first = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    cloud.pump()
    job = cloud.store.get(Job, first.job_id)
    assert job.status == JobStatus.FAILED
    assert job.result["message"].startswith(cmd.APPLY_FAILED)
    assert _rules(cloud, network_id).rules == {}
    assert cloud.store.get(PublicIp, public.id).rule_count == 0
    assert cloud.rows("SELECT * FROM network_rules") == []

    again = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    cloud.pump()
    assert cloud.store.get(Job, again.job_id).status == JobStatus.SUCCEEDED
    assert cloud.rows("SELECT state FROM network_rules") == [{"state": RuleState.ACTIVE}]
    instance = cloud.router(router_id).instance_name
    assert [r["id"] for r in cloud.world.rule_sets.held(instance)[1]] == [str(again.rule_id)]
    assert cloud.store.get(PublicIp, public.id).rule_count == 1


def test_two_creates_racing_for_one_port_let_exactly_one_through(cloud: Cloud) -> None:
    _, public, _ = _network(cloud)
    gate = threading.Barrier(4)
    outcomes: list[Any] = []

    def create(start: int, end: int) -> None:
        gate.wait()
        try:
            rule = _firewall(public, start, end)
            outcomes.append(cmd.add_rule(cloud.store, cmd.AddRule(rule, JOB)))
        except NetworkRuleConflict as error:
            outcomes.append(error)

    ranges = [(1000, 1000), (990, 1010), (1000, 1005), (999, 1000)]  # all overlap at 1000
    threads = [threading.Thread(target=create, args=span) for span in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [o for o in outcomes if isinstance(o, cmd.Applying)]
    assert len(made) == 1 and len(outcomes) == 4
    assert all(isinstance(o, NetworkRuleConflict) for o in outcomes if o not in made)


def test_answers_out_of_order_never_bring_back_an_older_set(cloud: Cloud) -> None:
    network_id, public, router_id = _network(cloud)
    first = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    second = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 80), JOB))
    payloads = _requests(cloud)
    handlers = result_handlers()
    for payload in reversed(payloads):  # the newer set is answered first
        result = cloud.act(payload)
        handlers[result.action](cloud.store, result)
    instance = cloud.router(router_id).instance_name
    generation, held = cloud.world.rule_sets.held(instance)
    assert generation == 2
    assert {r["id"] for r in held} == {str(first.rule_id), str(second.rule_id)}
    rules = _rules(cloud, network_id)
    assert {r.state for r in rules.rules.values()} == {RuleState.ACTIVE}
    assert rules.pending == {}


def _requests(cloud: Cloud) -> list[bytes]:
    """Apply requests recorded since the last pump, not answered."""
    table, found = routes(cloud.store.box), []
    for notification in cloud.store.recorder.select_notifications(
        cloud.position, 100, inclusive_of_start=False
    ):
        cloud.position = notification.id
        if notification.topic in table:
            outgoing = table[notification.topic](cloud.store.mapper.to_domain_event(notification))
            if decode_request(outgoing.payload).action == "apply_network_rules":
                found.append(outgoing.payload)
    return found


def test_rules_need_a_running_router(cloud: Cloud) -> None:
    _, public, router_id = _network(cloud)
    stop_system_vm(cloud.store, router_id, None, forced=True)
    cloud.pump()
    with pytest.raises(ResourceUnavailable):
        cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    assert cloud.store.get(PublicIp, public.id).rule_count == 0


def test_a_deleted_network_takes_its_rules_and_releases_its_addresses(cloud: Cloud) -> None:
    network_id, public, _ = _network(cloud)
    cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    cloud.pump()
    delete_network(cloud.store, DeleteNetwork(network_id, 0, (public.id,)))
    cloud.runtime.runner.catch_up()
    assert _rules(cloud, network_id).rules == {}
    assert cloud.rows("SELECT * FROM network_rules") == []
    released = cloud.store.get(PublicIp, public.id)
    assert (released.allocated, released.rule_count) == (False, 0)


def test_a_request_whose_job_was_given_up_does_not_hold_its_rule_for_ever(cloud: Cloud) -> None:
    network_id, public, _ = _network(cloud)
    lost = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    _requests(cloud)  # sent, and never answered
    fail_job(cloud.store, lost.job_id, ResourceUnavailable("no hypervisor adapter answered"))
    retried = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    cloud.pump()
    rules = _rules(cloud, network_id)
    assert list(rules.rules) == [retried.rule_id]
    assert rules.rules[retried.rule_id].state == RuleState.ACTIVE
    assert cloud.store.get(PublicIp, public.id).rule_count == 1


def test_a_router_that_boots_again_is_given_its_networks_rules(cloud: Cloud) -> None:
    network_id, public, router_id = _network(cloud)
    made = cmd.add_rule(cloud.store, cmd.AddRule(_firewall(public, 22), JOB))
    cloud.pump()
    instance = cloud.router(router_id).instance_name
    before = cloud.world.rule_sets.generation(instance)
    stop_system_vm(cloud.store, router_id, None, forced=True)
    cloud.pump()
    host = cloud.router(router_id).last_host_id
    assert host is not None
    cloud.ensure([Candidate(host, 8 * 2000, 8 * 1024)], network_id=network_id)  # starts it
    generation, held = cloud.world.rule_sets.held(instance)
    assert generation == before + 1
    assert [r["id"] for r in held] == [str(made.rule_id)]
    assert _rules(cloud, network_id).pending == {}
