"""Routers and system VMs in the domain: versions, the lifecycle's requests and results, the
upgrade queue, and what service checks record."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.compute import Compute
from domain.errors import InvalidParameter, InvalidState
from domain.router import (
    RouterUpgrade,
    UpgradeTurn,
    monitored_daemons,
    requires_upgrade,
    router_id_for,
    trim_version,
    version_key,
)
from domain.system_vm import Placement, Role, State, SystemVm
from domain.values import Secret
from domain.vm import HostAccess

TEMPLATE = uuid4()


def compute(template=TEMPLATE) -> Compute:
    return Compute(uuid4(), 1, 500, 256, False, template, "Simulator", 0)


def access() -> HostAccess:
    return HostAccess(uuid4(), "simulator://h", "root", Secret("pw"), "Simulator")


def router(**overrides) -> SystemVm:
    values = dict(
        id=uuid4(),
        role=Role.ROUTER,
        instance_name="r-1-VM",
        zone_id=uuid4(),
        owner_account_id=uuid4(),
        owner_domain_id=uuid4(),
        compute=compute().facts(),
        network_ids=(uuid4(),),
        services=("dnsmasq", "ssh"),
    )
    values.update(overrides)
    return SystemVm(**values)


def running(release: str | None = "4.2.0") -> SystemVm:
    vm = router()
    vm.request_start("r1", None, Placement(access(), uuid4(), uuid4()), "hold")
    vm.confirm("r1", release)
    return vm


def test_versions_compare_dot_wise_and_unknown_requires_an_upgrade() -> None:
    assert requires_upgrade("4.2.1", "4.3.0")
    assert not requires_upgrade("4.3.0", "4.3.0")
    assert not requires_upgrade("4.10.0", "4.3.0")  # not a text comparison
    assert requires_upgrade(None, "4.3.0")
    assert version_key("4.3") == version_key("4.3.0")


def test_the_reported_release_string_is_trimmed_to_its_version() -> None:
    assert trim_version("Cloudstack Release 4.3.0 Tue Feb 18 2014") == "4.3.0"
    assert trim_version("4.2.1") == "4.2.1"
    assert trim_version("Cloudstack Release x") == "0"
    assert trim_version("") is None


def test_only_the_daemons_of_used_services_are_monitored() -> None:
    assert monitored_daemons(["Dhcp", "Dns"]) == ("dnsmasq", "ssh")
    assert monitored_daemons(["Dns", "Lb", "UserData"]) == ("apache2", "dnsmasq", "haproxy", "ssh")
    with pytest.raises(InvalidParameter):
        monitored_daemons(["Teleport"])


def test_a_network_router_id_is_derived_and_its_successor_differs() -> None:
    network = uuid4()
    first = router_id_for(network)
    assert first == router_id_for(network)
    assert router_id_for(network, after=first) not in (first, router_id_for(uuid4()))


def test_start_records_the_host_pod_and_cluster_and_the_reported_version() -> None:
    vm = router()
    place = Placement(access(), uuid4(), uuid4())
    vm.request_start("r1", None, place, "hold")
    assert (vm.state, vm.pod_id, vm.cluster_id) == (State.STARTING, place.pod_id, place.cluster_id)
    vm.confirm("r1", "4.3.0")
    assert (vm.state, vm.release, vm.host_id) == (State.RUNNING, "4.3.0", place.access.host_id)


def test_a_stale_result_changes_nothing_and_a_busy_router_refuses_more_work() -> None:
    vm = running()
    vm.request_reboot("r2", None, access())
    assert not vm.is_current("r1")
    with pytest.raises(InvalidState, match="busy"):
        vm.request_stop("r3", None, access(), True)


def _turn(template=None) -> UpgradeTurn:
    return UpgradeTurn(uuid4(), uuid4(), uuid4(), template or uuid4(), "new")


def test_a_failed_upgrade_keeps_the_old_template_and_version() -> None:
    vm = running("4.2.0")
    turn = _turn()
    vm.schedule_upgrade(turn, None)
    assert vm.upgrading
    vm.request_upgrade("u1", access())
    vm.fail("u1", "did not boot")
    assert (vm.state, vm.release, vm.compute.template_id) == (State.RUNNING, "4.2.0", TEMPLATE)
    assert not vm.upgrading and vm.last_upgrade_id == turn.upgrade_id


def test_a_confirmed_upgrade_runs_the_new_template_and_version() -> None:
    vm = running("4.2.0")
    turn = _turn()
    vm.schedule_upgrade(turn, None)
    vm.request_upgrade("u1", access())
    vm.confirm("u1", "4.3.0")
    assert (vm.release, vm.compute.template_id, vm.upgrading) == ("4.3.0", turn.template_id, False)


def test_only_a_running_router_not_yet_scheduled_can_be_scheduled() -> None:
    with pytest.raises(InvalidState):
        router().schedule_upgrade(_turn(), None)
    vm = running()
    vm.schedule_upgrade(_turn(), None)
    with pytest.raises(InvalidState, match="already"):
        vm.schedule_upgrade(_turn(), None)


def test_an_upgrade_lines_its_routers_up_in_parallelism_lanes() -> None:
    turns = tuple((uuid4(), uuid4(), uuid4(), "t") for _ in range(5))
    upgrade = RouterUpgrade(turns, 2)
    ids = [turn[0] for turn in turns]
    assert upgrade.heads == ids[:2]
    assert [upgrade.next_in_lane(i) for i in range(5)] == [ids[2], ids[3], ids[4], None, None]
    assert [t.router_id for t in upgrade.turns()] == ids
    with pytest.raises(InvalidParameter):
        RouterUpgrade(turns, 0)


def test_a_failing_service_is_reported_once_until_it_recovers() -> None:
    vm = running()
    assert vm.services_checked({"dnsmasq": "failed", "ssh": "running"}, None) == ["dnsmasq"]
    vm.collect_events()
    assert vm.services_checked({"dnsmasq": "failed", "ssh": "running"}, None) == []
    assert vm.collect_events() == []  # no storm
    vm.services_checked({"dnsmasq": "running", "ssh": "running"}, None)
    assert [type(e).__name__ for e in vm.collect_events()] == ["ServiceRecovered"]
    assert vm.services_checked({"dnsmasq": "failed"}, None) == ["dnsmasq"]


def test_a_restarted_service_is_recorded_and_a_new_release_is_noted() -> None:
    vm = running("4.2.0")
    vm.collect_events()
    vm.services_checked({"dnsmasq": "restarted"}, "4.3.0")
    assert [type(e).__name__ for e in vm.collect_events()] == [
        "ServiceRestarted",
        "ReleaseReported",
    ]
    assert vm.release == "4.3.0"


def test_a_stopped_appliance_takes_another_offering_a_running_one_refuses() -> None:
    vm = router()
    other = compute()
    vm.change_compute(other)
    assert vm.compute == other
    started = running()
    with pytest.raises(InvalidState):
        started.change_compute(compute())


def test_system_vm_roles_are_checked() -> None:
    assert router(role=Role.CONSOLE).label == "system vm"
    with pytest.raises(InvalidParameter):
        router(role="toaster")


def test_an_appliance_records_where_its_root_disk_lives_only_when_that_changes() -> None:
    vm = router()
    pool = uuid4()
    vm.place_root(pool)
    vm.place_root(pool)
    vm.place_root(None)
    placed = [e for e in vm.collect_events() if type(e).__name__ == "RootDiskPlaced"]
    assert [e.pool_id for e in placed] == [pool, None]
    assert vm.root_pool_id is None
