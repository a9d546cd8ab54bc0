"""Byte usage end to end on the simulator: the server's collection loop reads a running
router's network counters every `router.stats.interval` seconds and a running VM's disk
counters every `vm.disk.stats.interval` seconds, the readings become usage, and
listUsageRecords shows them as type 4 and 5 (and 21 to 24) records once their day is billed.

The day cannot end during a test, so once the readings are in, collection is turned off and
the test bills the server's store with a clock a day ahead (the billing run the server runs,
given another clock); the server then lists the records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from eventsourcing.utils import get_topic

from billing.billing import BillingRun
from domain.statistics import DiskStatistics, NetworkStatistics
from domain.volume import root_volume_id
from stratus.db import open_database
from stratus.settings import Settings
from stratus.store.chain import EVENTS_TABLE
from tests.conftest import TEST_KEY
from tests.e2e import test_routers
from tests.e2e.conftest import Server
from tests.e2e.factories import make_tenant
from tests.e2e.test_routers import (
    BOTH,
    SYSTEM_TEMPLATE,
    build,
    control,
    ensure_router,
    register_template,
    wait_for,
)
from tests.e2e.test_vms import _deploy as deploy
from tests.e2e.test_vms import _host as vm_host
from tests.e2e.test_vms import _place as vm_place

sim_server = test_routers.sim_server  # the fixture: a server with a simulator control file

READ, DISK_READ = get_topic(NetworkStatistics.Read), get_topic(DiskStatistics.Read)


def server_settings(server: Server) -> Settings:
    return Settings.from_env(
        {"STRATUS_DATA": str(server.data_dir), "STRATUS_SECRET_KEY": TEST_KEY, **server.env}
    )


def readings(settings: Settings, topic: str = READ) -> int:
    """How many readings (of routers, unless `topic` says) the server has recorded so far."""
    db = open_database(settings)
    try:
        with db.read() as cursor:
            table = EVENTS_TABLE[db.dialect]
            row = cursor.execute(
                f"SELECT count(*) AS n FROM {table} WHERE topic = %s", (topic,)
            ).fetchone()
            return int(row["n"])
    finally:
        db.close()


def bill_a_day_later(settings: Settings) -> None:
    db = open_database(settings)
    try:
        tomorrow = datetime.now(UTC) + timedelta(days=1, hours=1)
        BillingRun(db, clock=lambda: tomorrow).run_once()
    finally:
        db.close()


@BOTH
def test_router_bytes_are_collected_and_listed_as_usage(sim_server: tuple[Server, Path]) -> None:
    # A server of its own: the test counts every reading and bills every account.
    server, knobs = sim_server
    settings = server_settings(server)
    admin = server.client()
    layout = build(admin, zones=1, pods=1)
    register_template(admin, SYSTEM_TEMPLATE)
    tenant = make_tenant(server, admin)
    router = ensure_router(admin, layout.zones[0], tenant)
    name = router["name"]

    control(knobs, network_counters={name: {"sent": 1000, "received": 5000}})
    admin.updateConfiguration(name="router.stats.interval", value="1")
    assert wait_for(lambda: readings(settings) == 1), server.output()
    control(knobs, network_counters={name: {"sent": 3000, "received": 9000}})
    assert wait_for(lambda: readings(settings) == 2)
    control(knobs, network_counters={name: {"sent": 200, "received": 300}})  # a reset
    assert wait_for(lambda: readings(settings) == 3)
    admin.updateConfiguration(name="router.stats.interval", value="0")
    # A quiet period, part of what is checked: a reading in flight lands, and must change nothing.
    wait_for(lambda: False, timeout=2)

    bill_a_day_later(settings)
    sent = admin.listUsageRecords(startdate="2020-01-01", enddate="2099-12-31", type="4")
    received = admin.listUsageRecords(startdate="2020-01-01", enddate="2099-12-31", type="5")

    assert readings(settings) == 3  # unchanged counters made no reading
    [record] = sent["usagerecord"]
    assert (record["rawusage"], record["usageid"], record["type"]) == (
        "3200",
        router["id"],
        "DomainRouter",
    )
    assert record["accountid"] == tenant.account_id
    assert [r["rawusage"] for r in received["usagerecord"]] == ["9300"]


@BOTH
def test_vm_disk_io_is_collected_and_listed_as_usage(sim_server: tuple[Server, Path]) -> None:
    # A server of its own: the test counts every reading and bills every account.
    server, knobs = sim_server
    settings = server_settings(server)
    admin = server.client()
    place = vm_place(admin)
    vm_host(admin, place, "h1")
    vm = deploy(admin, place, place.small, name="io-1")
    name = admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["instancename"]
    root = str(root_volume_id(UUID(vm["id"])))  # the ROOT volume's id derives from its VM's

    control(knobs, disk_counters={name: {"0": [10, 20, 4096, 8192]}})
    admin.updateConfiguration(name="vm.disk.stats.interval", value="1")
    assert wait_for(lambda: readings(settings, DISK_READ) == 1), server.output()
    control(knobs, disk_counters={name: {"0": [15, 20, 6144, 8192]}})
    assert wait_for(lambda: readings(settings, DISK_READ) == 2)
    admin.updateConfiguration(name="vm.disk.stats.interval", value="0")  # 0: off
    # A quiet period, part of what is checked: a reading in flight lands, and must change nothing.
    wait_for(lambda: False, timeout=2)

    bill_a_day_later(settings)
    found = admin.listUsageRecords(startdate="2020-01-01", enddate="2099-12-31")["usagerecord"]
    disk = {r["usagetype"]: r for r in found if r["usagetype"] in (21, 22, 23, 24)}

    assert readings(settings, DISK_READ) == 2
    assert {t: r["rawusage"] for t, r in disk.items()} == {
        21: "15",
        22: "20",
        23: "6144",
        24: "8192",
    }
    assert {(r["usageid"], r["virtualmachineid"]) for r in disk.values()} == {(root, vm["id"])}
