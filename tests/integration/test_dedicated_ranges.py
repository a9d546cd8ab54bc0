"""Ranges dedicated to an account, on both stores: its isolated networks take their VLANs from
its dedicated guest range first and nobody else's ever do; its public addresses come from its
dedicated public range first and nobody else gets one of them. Refusals change nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from api.cloudstack.networks import public_pool
from commands import networks as net
from commands.network_offerings import network_offering_seed_id, seed_network_offerings
from commands.network_public_ips import Acquire, associate_ip_address
from domain.errors import InsufficientCapacity, InvalidParameter
from domain.infrastructure import Zone
from domain.network import Network
from domain.network_public_ip import PublicIp
from stratus.settings import Settings
from tests.integration.test_placement_rules import _account, _api, _call, _ok
from tests.support.app import App, running_app

PLAIN = network_offering_seed_id("DefaultIsolatedNetworkOffering")


def _fabric(app: App, vlan: str = "500-510") -> tuple[UUID, UUID]:
    store = app.runtime.store
    zone = Zone(f"z-{uuid4().hex[:6]}", "Advanced", {}, "", None, "Enabled", False)
    store.save(zone)
    seed_network_offerings(store)
    physical = net.create_physical_network(
        store, net.CreatePhysicalNetwork(zone.id, "phys", "VLAN", vlan)
    ).id
    assert physical is not None
    net.update_physical_network(store, net.UpdatePhysicalNetwork(physical, state="Enabled"))
    app.runtime.runner.catch_up()
    return zone.id, physical


def _network(app: App, zone: UUID, physical: UUID, account: dict[str, Any]) -> int:
    command = net.CreateNetwork(
        "n", "", zone, PLAIN, UUID(account["id"]), UUID(account["domainid"]), physical
    )
    network_id = net.create_network(app.runtime.store, command).id
    vnet = app.runtime.store.get(Network, network_id).vnet
    assert vnet is not None
    return int(vnet)


def test_an_accounts_networks_take_its_dedicated_vlans(settings: Settings) -> None:
    with running_app(settings) as app:
        zone, physical = _fabric(app)
        alice, bob = _account(app, f"a{uuid4().hex[:6]}"), _account(app, f"b{uuid4().hex[:6]}")
        owner = {"account": alice["name"], "domainid": alice["domainid"]}
        made = _ok(
            app, "dedicateGuestVlanRange", physicalnetworkid=physical, vlanrange="505-507", **owner
        )["dedicatedguestvlanrange"]
        assert (made["guestvlanrange"], made["account"]) == ("505-507", alice["name"])
        assert made["zoneid"] == str(zone) and made["physicalnetworkid"] == str(physical)
        assert sorted(_network(app, zone, physical, alice) for _ in range(3)) == [505, 506, 507]
        assert not {_network(app, zone, physical, bob) for _ in range(7)} & {505, 506, 507}
        assert _network(app, zone, physical, alice) not in (505, 506, 507)  # its range is full
        for refused in (
            {"vlanrange": "506-508", **owner},  # overlaps the dedicated range
            {"vlanrange": "400-450", **owner},  # outside the physical network's guest range
            {"vlanrange": "five", **owner},
            {"vlanrange": "508-509", "account": "nobody", "domainid": alice["domainid"]},
            {"vlanrange": "508-510", **owner},  # bob's networks hold ids of it
        ):
            status, error = _api(
                app, "dedicateGuestVlanRange", physicalnetworkid=physical, **refused
            )
            assert status == 431, (refused, error)
        shrink = net.UpdatePhysicalNetwork(physical, vlan="500-504")
        with pytest.raises(InvalidParameter, match="dedicated to an account"):
            net.update_physical_network(app.runtime.store, shrink)
        listed = _ok(app, "listDedicatedGuestVlanRanges", physicalnetworkid=physical)
        assert [r["id"] for r in listed["dedicatedguestvlanrange"]] == [made["id"]]
        _ok(app, "releaseDedicatedGuestVlanRange", id=made["id"])
        assert _ok(app, "listDedicatedGuestVlanRanges", physicalnetworkid=physical) == {}


def _acquire(app: App, zone: UUID, account: dict[str, Any]) -> str:
    pool = public_pool(_call(app), str(zone), account["id"])
    request = Acquire(zone, UUID(account["id"]), UUID(account["domainid"]), None, pool)
    address = associate_ip_address(app.runtime.store, request).id
    app.runtime.runner.catch_up()
    return str(app.runtime.store.get(PublicIp, address).address)


def test_an_accounts_addresses_come_from_its_dedicated_range(settings: Settings) -> None:
    with running_app(settings) as app:
        zone, _physical = _fabric(app)
        alice, bob = _account(app, f"a{uuid4().hex[:6]}"), _account(app, f"b{uuid4().hex[:6]}")
        ranges = [
            _ok(
                app,
                "createVlanIpRange",
                zoneid=zone,
                vlan=vlan,
                gateway=f"172.{vlan}.0.1",
                netmask="255.255.255.0",
                startip=f"172.{vlan}.0.10",
                endip=f"172.{vlan}.0.12",
            )["vlan"]
            for vlan in (20, 21)
        ]
        held_by_bob = _acquire(app, zone, bob)
        bobs_range = next(r for r in ranges if held_by_bob.startswith(r["startip"][:7]))
        status, _error = _api(
            app,
            "dedicatePublicIpRange",
            id=bobs_range["id"],
            account=alice["name"],
            domainid=alice["domainid"],
        )
        assert status == 431  # bob holds an address of it
        other = next(r for r in ranges if r is not bobs_range)
        dedicated = _ok(
            app,
            "dedicatePublicIpRange",
            id=other["id"],
            account=alice["name"],
            domainid=alice["domainid"],
        )["vlan"]
        assert (dedicated["account"], dedicated["domainid"]) == (alice["name"], alice["domainid"])
        again = _api(
            app,
            "dedicatePublicIpRange",
            id=other["id"],
            account=bob["name"],
            domainid=bob["domainid"],
        )
        assert again[0] == 431
        prefix = other["startip"].rsplit(".", 1)[0]
        assert [_acquire(app, zone, alice).startswith(prefix) for _ in range(3)] == [True] * 3
        assert _acquire(app, zone, alice).startswith(prefix) is False  # its range is used up
        bobs = [_acquire(app, zone, bob)]
        assert not any(a.startswith(prefix) for a in bobs)
        try:
            while True:
                bobs.append(_acquire(app, zone, bob))
        except InsufficientCapacity:
            pass  # bob's addresses run out where alice's range begins
        assert not any(a.startswith(prefix) for a in bobs)
        _ok(app, "releasePublicIpRange", id=other["id"])
        listed = _ok(app, "listVlanIpRanges", id=other["id"])["vlaniprange"][0]
        assert "account" not in listed


def test_a_range_may_be_dedicated_as_it_is_created(settings: Settings) -> None:
    with running_app(settings) as app:
        zone, _physical = _fabric(app)
        alice = _account(app, f"a{uuid4().hex[:6]}")
        terms = {
            "zoneid": zone,
            "vlan": 30,
            "gateway": "172.30.0.1",
            "netmask": "255.255.255.0",
            "startip": "172.30.0.10",
            "endip": "172.30.0.11",
        }
        made = _ok(
            app, "createVlanIpRange", account=alice["name"], domainid=alice["domainid"], **terms
        )["vlan"]
        assert made["account"] == alice["name"]
        mine = _ok(app, "listVlanIpRanges", account=alice["name"], domainid=alice["domainid"])
        assert [r["id"] for r in mine["vlaniprange"]] == [made["id"]]
        status, error = _api(
            app, "createVlanIpRange", domainid=alice["domainid"], **{**terms, "vlan": 31}
        )
        assert status == 431 and "domain" in error["errortext"]
        assert _acquire(app, zone, alice).startswith("172.30.0.")
