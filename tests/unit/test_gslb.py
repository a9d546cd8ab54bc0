"""Global load balancer rules: 4.3's checks of methods, names and members, and the DNS answers
the service gives for a name by method, weight, persistence and proximity."""

from __future__ import annotations

from collections import Counter
from uuid import uuid4

import pytest

from domain import gslb
from domain.errors import InvalidParameter
from domain.gslb import GlobalLoadBalancer, GslbMember, Site

EAST, WEST = "zone-east", "zone-west"
SITES = [Site("198.51.100.1", EAST, 3), Site("203.0.113.9", WEST, 1)]


def test_values_are_checked_as_4_3_checks_them() -> None:
    assert gslb.method(None) == "roundrobin" and gslb.persistence(None) == "sourceip"
    assert gslb.domain_name("Shop.Example.com.") == "shop.example.com"
    for check, value, text in (
        (gslb.method, "fastest", "Invalid Algorithm: fastest"),
        (gslb.persistence, "cookie", "Invalid persistence: cookie"),
        (gslb.service_type, "icmp", "Invalid service type: icmp"),
        (gslb.domain_name, "-bad-.example", "Invalid domain name : -bad-.example"),
        (gslb.domain_name, "localhost", "Invalid domain name : localhost"),
    ):
        with pytest.raises(InvalidParameter, match=text):
            check(value)
    with pytest.raises(InvalidParameter, match="Invalid weight 101"):
        gslb.weight(101, uuid4())


def test_members_are_one_per_zone_and_of_the_rules_account() -> None:
    account, other = uuid4(), uuid4()
    rule = GlobalLoadBalancer(
        "g", "", 1, "g.example.com", "http", "roundrobin", "sourceip", account, uuid4()
    )
    east, west, again = (GslbMember(uuid4(), uuid4(), 1) for _ in range(3))
    rule.assign([east], {east.rule_id: account})
    with pytest.raises(InvalidParameter, match="does not belong to same account"):
        rule.assign([west], {west.rule_id: other})
    clash = GslbMember(again.rule_id, east.zone_id, 1)
    with pytest.raises(InvalidParameter, match="unique zone"):
        rule.assign([clash], {clash.rule_id: account})
    with pytest.raises(InvalidParameter, match="already assigned"):
        rule.assign([east], {east.rule_id: account})
    with pytest.raises(InvalidParameter, match="is not assigned"):
        rule.unassign([west.rule_id])
    assert set(rule.members) == {east.rule_id}


def test_round_robin_answers_each_site_its_weights_share_interleaved() -> None:
    answers = gslb.answers("roundrobin", "", SITES, 8)
    assert Counter(answers) == {"198.51.100.1": 6, "203.0.113.9": 2}
    assert answers[:4].count("203.0.113.9") == 1  # interleaved, not in bursts


def test_least_connections_favours_the_emptier_site_for_its_weight() -> None:
    busy = [Site("198.51.100.1", EAST, 1, connections=5), Site("203.0.113.9", WEST, 1)]
    answers = gslb.answers("leastconn", "", busy, 6)
    assert answers[:5] == ["203.0.113.9"] * 5 and Counter(answers)["198.51.100.1"] == 1


def test_proximity_answers_the_clients_own_zone_else_spreads() -> None:
    assert set(gslb.answers("proximity", "", SITES, 5, client_zone=WEST)) == {"203.0.113.9"}
    assert len(set(gslb.answers("proximity", "", SITES, 4, client_zone="elsewhere"))) == 2


def test_source_persistence_keeps_a_client_on_one_site_and_spreads_clients() -> None:
    one = gslb.answers("roundrobin", "sourceip", SITES, 5, client="192.0.2.10")
    assert len(set(one)) == 1
    chosen = Counter(
        gslb.answers("roundrobin", "sourceip", SITES, 1, client=f"192.0.2.{n}")[0]
        for n in range(200)
    )
    assert set(chosen) == {"198.51.100.1", "203.0.113.9"}
    assert chosen["198.51.100.1"] > chosen["203.0.113.9"]
    assert gslb.answers("roundrobin", "sourceip", [], 3, client="192.0.2.10") == []


def test_a_deleted_load_balancer_leaves_the_name_and_frees_its_zone() -> None:
    account = uuid4()
    rule = GlobalLoadBalancer(
        "g", "", 1, "g.example.com", "http", "roundrobin", "sourceip", account, uuid4()
    )
    zone = uuid4()
    first, second = GslbMember(uuid4(), zone, 1), GslbMember(uuid4(), zone, 1)
    rule.assign([first], {first.rule_id: account})
    rule.forget([first.rule_id, uuid4()])  # one not behind it changes nothing
    assert rule.members == {}
    rule.assign([first], {first.rule_id: account})
    with pytest.raises(InvalidParameter, match="unique zone"):
        rule.assign([second], {second.rule_id: account})
    rule.assign([second], {second.rule_id: account}, gone=[first.rule_id])
    assert list(rule.members) == [second.rule_id]
