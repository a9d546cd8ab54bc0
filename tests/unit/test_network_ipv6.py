"""A shared network's IPv6 plan: 4.3's checks, and the addresses its VMs may be given."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidParameter
from domain.network import Addressing, Network
from domain.network_ipv6 import Ipv6Plan, Ipv6Pool


def test_a_plan_is_kept_in_canonical_form() -> None:
    plan = Ipv6Plan.checked("2001:DB8:0:7::/64", "2001:db8:0:7::1", "2001:db8:0:7::10", None)
    assert plan == Ipv6Plan(
        "2001:db8:0:7::/64", "2001:db8:0:7::1", "2001:db8:0:7::10", "2001:db8:0:7::10"
    )


@pytest.mark.parametrize(
    ("cidr", "gateway", "start", "end", "refusal"),
    [
        ("2001:db8::/64", "2001:db8::1", None, None, "startIPv6 is required"),
        ("2001:db8::/64", None, "2001:db8::10", None, "ip6Gateway and ip6Cidr should be defined"),
        ("2001:db8::/64", "2001:db8::1", "2001:db8::zz", None, "startIPv6 parameter"),
        ("2001:db8::/48", "2001:db8::1", "2001:db8::10", None, "must be 64 bits"),
        ("2001:db8::/64", "2001:db9::1", "2001:db8::10", None, "ip6Gateway is not in ip6cidr"),
        ("2001:db8::/64", "2001:db8::1", "2001:db8::10", "2001:db9::1", "endIPv6 is not in"),
        ("2001:db8::/64", "2001:db8::1", "2001:db8::10", "2001:db8::9", "greater than or equal"),
        ("2001:db8::/64", "2001:db8::1", "2001:db8::1", None, "only the gateway"),
        ("not-a-cidr", "2001:db8::1", "2001:db8::10", None, "Invalid ip6cidr"),
    ],
)
def test_plans_4_3_refuses(
    cidr: str, gateway: str | None, start: str | None, end: str | None, refusal: str
) -> None:
    with pytest.raises(InvalidParameter, match=refusal):
        Ipv6Plan.checked(cidr, gateway, start, end)


def test_vms_are_given_addresses_of_the_range_but_never_the_gateway() -> None:
    plan = Ipv6Plan.checked("2001:db8::/64", "2001:db8::2", "2001:db8::1", "2001:db8::3")
    assert list(plan.probe(1)) == ["2001:db8::3", "2001:db8::1"]
    assert plan.holds("2001:DB8::3") and not plan.holds("2001:db8::2")
    assert not plan.holds("2001:db8::4")
    huge = Ipv6Plan.checked(
        "2001:db8::/64", "2001:db8::1", "2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff"
    )
    assert next(huge.probe(2**70)) != ""  # a position past the range's size wraps around


def test_a_networks_ipv6_rides_in_its_addressing_and_is_absent_before() -> None:
    v4 = Addressing.shared("10.0.0.1", "255.255.255.0", "10.0.0.10", "10.0.0.20")
    assert v4.ipv6 is None
    plan = Ipv6Plan.checked("2001:db8::/64", "2001:db8::1", "2001:db8::10", None)
    dual = v4.with_ipv6(plan)
    assert dual.ipv6 == plan
    assert Addressing(**dual.facts()) == dual
    recorded_before = {
        k: v for k, v in v4.facts().items() if not k.startswith(("ip6", "start_ipv6", "end_ipv6"))
    }
    assert Addressing(**recorded_before).ipv6 is None


def test_a_pool_of_several_ranges_holds_and_probes_each_never_the_gateway() -> None:
    pool = Ipv6Pool(
        "2001:db8::/64",
        "2001:db8::1",
        (("2001:db8::1", "2001:db8::2"), ("2001:db8::10", "2001:db8::11")),
    )
    assert pool.holds("2001:db8::11") and not pool.holds("2001:db8::1")
    assert not pool.holds("2001:db8::5")
    assert list(pool.probe(1)) == ["2001:db8::2", "2001:db8::10", "2001:db8::11"]
    assert list(pool.probe(3)) == ["2001:db8::11", "2001:db8::2", "2001:db8::10"]
    assert pool.overlaps("2001:db8::3", "2001:db8::10") and not pool.overlaps(
        "2001:db8::3", "2001:db8::f"
    )


def _shared_network(addressing: Addressing) -> Network:
    return Network(
        "lan",
        "lan",
        uuid4(),
        uuid4(),
        uuid4(),
        "Shared",
        uuid4(),
        uuid4(),
        addressing.facts(),
        "vlan://300",
        "Setup",
        uuid4(),
    )


def test_ranges_added_to_a_network_share_its_64_and_gateway_and_never_overlap() -> None:
    plan = Ipv6Plan.checked("2001:db8::/64", "2001:db8::1", "2001:db8::100", "2001:db8::1ff")
    network = _shared_network(Addressing.ipv6_only(plan))
    added = uuid4()
    network.add_ipv6_range(
        added, Ipv6Plan.checked("2001:db8::/64", "2001:db8::1", "2001:db8::900", None), "300"
    )
    assert network.ipv6_pool is not None and network.ipv6_pool.holds("2001:db8::900")
    for cidr, gateway, start, vlan in (
        ("2001:db8::/64", "2001:db8::1", "2001:db8::150", None),  # overlaps
        ("2001:db8:1::/64", "2001:db8:1::1", "2001:db8:1::5", None),
        ("2001:db8::/64", "2001:db8::2", "2001:db8::a00", None),
        ("2001:db8::/64", "2001:db8::1", "2001:db8::a00", "301"),
    ):
        with pytest.raises(InvalidParameter):
            network.add_ipv6_range(uuid4(), Ipv6Plan.checked(cidr, gateway, start, None), vlan)
    assert network.remove_ipv6_range(added) == ("2001:db8::900", "2001:db8::900")
    assert not network.ipv6_pool.holds("2001:db8::900")
    assert not network.addressing.has_ipv4
    with pytest.raises(InvalidParameter, match="no IPv4"):
        network.addressing.pool()
