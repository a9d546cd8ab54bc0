"""Snapshot (9) and VM snapshot (25) usage: scripted events with chosen times, the billing run
under a test-controlled clock, and records whose hours were worked out by hand.

Times are Berlin wall-clock times; the usage zone is Europe/Berlin, so each record covers one
Berlin day. The volume snapshot S1 exists from 10:30 on the 10th (BackedUp) to 16:00 on the 11th;
S2 (of a disk no host held) from 20:00 on the 11th on. The VM snapshot of "web" covers two
volumes (the 20 GiB ROOT disk and a 5 GiB data disk of offering DISK) from 12:15 on the 10th
(Created) to 06:00 on the 12th (Destroyed).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid5

from domain.snapshot import Snapshot
from domain.values import Secret
from domain.vm import HostAccess
from domain.vm_snapshot import VMSnapshot
from stratus.settings import Settings
from tests.integration.test_usage_billing import Clock, billing, listed, verified
from tests.integration.test_usage_replay import write_scenario
from tests.support.app import running_app
from tests.support.usage_scenario import (
    ACCOUNT,
    DOMAIN,
    NS,
    WEB_A,
    ZONE,
    VmScript,
    berlin,
    settings_events,
    timed,
)

GIB = 1024**3
WEB = uuid5(NS, "web")
S1, S2, VS = uuid5(NS, "snapshot-1"), uuid5(NS, "snapshot-2"), uuid5(NS, "vm-snapshot")
ROOT_DISK, DATA_DISK, DISK = uuid5(NS, "root-disk"), uuid5(NS, "data"), uuid5(NS, "disk")
ACCESS = HostAccess(uuid5(NS, "host"), "simulator://h1", "root", Secret("pw"), "Simulator")
JANUARY = {"startdate": "2026-01-01", "enddate": "2026-01-31"}


def _volume(volume_id: Any, name: str, size_gb: int) -> dict[str, Any]:
    return {"id": str(volume_id), "name": name, "kind": "ROOT", "size_gb": size_gb, "vm_id": None}


def snapshot_events() -> list[Any]:
    taken = Snapshot(S1, "s1", _volume(ROOT_DISK, "ROOT-web", 20), ACCOUNT, DOMAIN, ZONE)
    taken.request_backup("b1", None, ACCESS, "i-2-3-VM")
    taken.confirm("b1")
    taken.delete()
    at_once = Snapshot(S2, "s2", _volume(DATA_DISK, "data", 5), ACCOUNT, DOMAIN, ZONE)
    at_once.record_backed_up()
    return timed(
        taken.collect_events(),
        "2026-01-10 10:00",
        "2026-01-10 10:00",
        "2026-01-10 10:30",
        "2026-01-10 10:30",
        "2026-01-11 16:00",
    ) + timed(at_once.collect_events(), "2026-01-11 20:00", "2026-01-11 20:00")


def vm_snapshot_events() -> list[Any]:
    vm = {
        "id": WEB,
        "instance_name": "i-2-3-VM",
        "account_id": ACCOUNT,
        "domain_id": DOMAIN,
        "zone_id": ZONE,
    }
    volumes = [
        {"volume_id": str(ROOT_DISK), "size": 20 * GIB, "offering_id": None},
        {"volume_id": str(DATA_DISK), "size": 5 * GIB, "offering_id": str(DISK)},
    ]
    whole = VMSnapshot(VS, "i-2-3-VM_VS_1", "before upgrade", "", vm, True, None, volumes)
    whole.request_create("c", None, ACCESS)
    whole.confirm("c")
    whole.request_delete("d", None, ACCESS)
    whole.confirm("d")
    return timed(
        whole.collect_events(),
        "2026-01-10 12:00",
        "2026-01-10 12:00",
        "2026-01-10 12:15",
        "2026-01-12 06:00",
        "2026-01-12 06:00",
    )


def scenario() -> list[Any]:
    web = VmScript("web").deploy("2026-01-10 08:00", WEB_A)
    events = settings_events() + web.events + snapshot_events() + vm_snapshot_events()
    return sorted(events, key=lambda e: e.timestamp)


# (day, type, usage id, size in GiB, offering): raw usage, worked out by hand.
EXPECTED = {
    ("2026-01-10", 9, str(S1), 20, None): "13.5",
    ("2026-01-11", 9, str(S1), 20, None): "16",
    ("2026-01-11", 9, str(S2), 5, None): "4",
    ("2026-01-12", 9, str(S2), 5, None): "24",
    ("2026-01-10", 25, str(WEB), 20, None): "11.75",
    ("2026-01-10", 25, str(WEB), 5, str(DISK)): "11.75",
    ("2026-01-11", 25, str(WEB), 20, None): "24",
    ("2026-01-11", 25, str(WEB), 5, str(DISK)): "24",
    ("2026-01-12", 25, str(WEB), 20, None): "6",
    ("2026-01-12", 25, str(WEB), 5, str(DISK)): "6",
}


def observed(items: list[dict[str, Any]]) -> dict[tuple[Any, ...], str]:
    found = {}
    for item in items:
        key = (
            item["startdate"][:10],
            item["usagetype"],
            item["usageid"],
            item["size"] // GIB,
            item.get("offeringid"),
        )
        assert key not in found, f"two records for {key}"
        found[key] = item["rawusage"]
    return found


def test_snapshots_are_billed_per_day_with_the_hand_computed_hours(settings: Settings) -> None:
    with running_app(settings) as app:
        write_scenario(app, scenario())
        clock = Clock(berlin("2026-01-13 00:30"))
        run = billing(app, clock)
        run.run_once()
        run.run_once()  # nothing new: nothing written twice
        snapshots = listed(app, type="9", **JANUARY)
        vm_snapshots = listed(app, type="25", **JANUARY)
        code, report = verified(settings)
    assert observed(snapshots + vm_snapshots) == EXPECTED
    assert code == 0, report  # a replay of the log gives the same records
    s1 = next(i for i in snapshots if i["usageid"] == str(S1))
    assert s1["description"] == f"Snapshot Id: {S1} Size: {20 * GIB}"
    assert (s1["usage"], s1["zoneid"], s1["accountid"]) == (
        s1["rawusage"] + " Hrs",
        str(ZONE),
        str(ACCOUNT),
    )
    data = next(i for i in vm_snapshots if i.get("offeringid"))
    assert data["virtualmachineid"] == str(WEB)
    assert f"Volume Id: {DATA_DISK}" in data["description"]
